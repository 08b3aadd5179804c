import { createHash } from "node:crypto";
import { ImageError } from "./errors.js";
import { EtcFilesScanner, fromGenpolicyEtcValue, type LayerEtcFile } from "./etc-files.js";
import { gunzipLayer } from "./gzip.js";
import { TarParser } from "./tar.js";
import type { TarfsFlavour } from "./tarindex.js";
import { TarfsIndexBuilder } from "./tarindex.js";
import { type BlockHasher, VerityHasher } from "./verity.js";

/** Layer media types genpolicy hashes: gzip-compressed tar, in OCI and Docker spelling. */
export const GZIP_LAYER_MEDIA_TYPES: readonly string[] = [
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
];

/** What genpolicy records about one layer, plus the sizes we learn on the way. */
export interface LayerDigests {
  /** sha256 of the uncompressed tar (`rootfs.diff_ids` in the image config). */
  readonly diffId: string;
  /** dm-verity root hash (hex) of the tar with the tarfs index appended. */
  readonly verityHash: string;
  readonly passwd: LayerEtcFile;
  readonly group: LayerEtcFile;
  /** Bytes of the uncompressed tar the tarfs image holds (the first gzip member's). */
  readonly tarSize: number;
  /** Bytes dm-verity covers (tar + index), which the tardev snapshotter keeps in guest memory. */
  readonly verityDataSize: number;
}

export interface ProcessLayerOptions {
  readonly mediaType?: string;
  /** The blob's digest (`sha256:…`); the compressed bytes must hash to it. */
  readonly expectedDigest?: string;
  /** The config's diff ID for this layer; the uncompressed tar must hash to it. */
  readonly expectedDiffId?: string;
  readonly hasher?: BlockHasher;
  /** Which tarfs writer to reproduce (`kata` unless given); see tarindex.ts. */
  readonly tarfs?: TarfsFlavour;
  /** Compressed bytes read so far, for progress reporting. */
  readonly onBytes?: (bytesDone: number) => void;
}

export function assertSupportedLayer(mediaType: string, digest: string): void {
  if (!GZIP_LAYER_MEDIA_TYPES.includes(mediaType)) {
    throw new ImageError("LAYER_MEDIA_TYPE_UNSUPPORTED", `layer ${digest} has media type ${mediaType}`, {
      hint: "Only gzip-compressed tar layers can be hashed for the tardev snapshotter (genpolicy skips all others, which yields a policy that cannot start the container). Rebuild the image with gzip layers.",
      details: { mediaType, digest },
    });
  }
}

/**
 * Computes a layer's diff ID, dm-verity root hash and /etc/passwd, /etc/group from its
 * compressed blob, streaming: decompression, the tar walk, SHA-256 and the hash tree all run
 * on chunks, so memory depends on the number of files in the layer, not on its size.
 *
 * As genpolicy and the tardev snapshotters, only the first gzip member becomes the tarfs image;
 * the diff ID covers every member, as containerd computes it (see gzip.ts).
 */
export async function processLayerBlob(
  compressed: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ProcessLayerOptions = {},
): Promise<LayerDigests> {
  if (options.mediaType !== undefined) assertSupportedLayer(options.mediaType, options.expectedDigest ?? "(unknown)");
  const blobHash = createHash("sha256");
  let compressedBytes = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of compressed) {
      blobHash.update(chunk);
      compressedBytes += chunk.length;
      options.onBytes?.(compressedBytes);
      yield chunk;
    }
    if (options.expectedDigest !== undefined) {
      const actual = `sha256:${blobHash.digest("hex")}`;
      if (actual !== options.expectedDigest) {
        throw digestMismatch("layer blob", options.expectedDigest, actual);
      }
    }
  }
  const consumer = new TarConsumer(options.hasher, options.tarfs);
  await gunzipLayer(counted(), {
    first: (chunk) => consumer.write(chunk),
    rest: (chunk) => consumer.writeDiffOnly(chunk),
  });
  const result = await consumer.finish();
  if (options.expectedDiffId !== undefined && result.diffId !== options.expectedDiffId) {
    throw new ImageError(
      "LAYER_DIFF_ID_MISMATCH",
      `layer ${options.expectedDigest ?? ""} decompresses to ${result.diffId}, but the image config says ${options.expectedDiffId}`,
      {
        kind: "crypto",
        hint: "The image's config does not describe its layers; the image is corrupt or was tampered with.",
        details: { expected: options.expectedDiffId, actual: result.diffId },
      },
    );
  }
  return result;
}

/** The same for an uncompressed tar stream. */
export async function processLayerTar(
  tar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  hasher?: BlockHasher,
  tarfs: TarfsFlavour = "kata",
): Promise<LayerDigests> {
  const consumer = new TarConsumer(hasher, tarfs);
  for await (const chunk of tar) await consumer.write(chunk);
  return consumer.finish();
}

/**
 * The full bytes genpolicy's dm-verity tree covers for a tar held in memory: the tar followed
 * by its tarfs index. For tests and tools; the pipeline above never materialises them.
 */
export function tarWithIndex(tar: Uint8Array, tarfs: TarfsFlavour = "kata"): Uint8Array {
  const index = new TarfsIndexBuilder(tarfs);
  const parser = new TarParser({
    onMember: (m) => {
      index.add(m);
      return false;
    },
  });
  parser.write(tar);
  parser.end();
  return Buffer.concat([tar, ...index.finish(tar.length)]);
}

class TarConsumer {
  private readonly diff = createHash("sha256");
  private readonly verity: VerityHasher;
  private readonly index: TarfsIndexBuilder;
  private readonly etc = new EtcFilesScanner();
  private readonly parser: TarParser;
  private size = 0;
  private indexing = true;

  constructor(hasher?: BlockHasher, tarfs: TarfsFlavour = "kata") {
    this.verity = new VerityHasher(hasher);
    this.index = new TarfsIndexBuilder(tarfs);
    this.parser = new TarParser({
      onMember: (m) => {
        if (this.indexing) this.index.add(m);
        return this.etc.onMember(m);
      },
      onData: (m, data) => this.etc.onData(m, data),
    });
  }

  /** Bytes of a later gzip member: part of the diff ID, not of the tarfs image. */
  writeDiffOnly(chunk: Uint8Array): void {
    this.diff.update(chunk);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.length;
    this.diff.update(chunk);
    this.parser.write(chunk);
    await this.verity.update(chunk);
  }

  async finish(): Promise<LayerDigests> {
    this.parser.end();
    const index = this.index.finish(this.size);
    this.indexing = false;
    if (!this.parser.terminated && !this.etc.complete) this.walkIntoIndex(index);
    for (const part of index) await this.verity.update(part);
    const root = await this.verity.digest();
    return {
      diffId: `sha256:${this.diff.digest("hex")}`,
      verityHash: Buffer.from(root).toString("hex"),
      passwd: fromGenpolicyEtcValue(this.etc.passwd),
      group: fromGenpolicyEtcValue(this.etc.group),
      tarSize: this.size,
      verityDataSize: this.verity.length,
    };
  }

  /**
   * genpolicy looks for /etc/passwd and /etc/group in the file it hashed, the tar with the index
   * appended. A tar without an end-of-archive block does not stop that walk at its end: it reads
   * the index as tar headers, which fails (the inode table is no tar header), and genpolicy gives
   * up on the layer. Doing the same walk gives the same outcome.
   */
  private walkIntoIndex(index: readonly Uint8Array[]): void {
    try {
      this.parser.resume();
      for (const part of index) this.parser.write(part);
      this.parser.end();
    } catch (cause) {
      throw new ImageError(
        "LAYER_TAR_UNTERMINATED",
        "the layer's tar archive has no end-of-archive block, so genpolicy reads the tarfs index behind it as tar headers and fails",
        {
          kind: "input",
          cause,
          hint: "Kata's genpolicy cannot hash this layer either. It happens with eStargz and other multi-member gzip layers (only the first member is hashed) and with tar writers that stop without the two zero blocks; rebuild the layer as one plain gzip stream.",
          details: { tarSize: this.size },
        },
      );
    }
  }
}

export function digestMismatch(what: string, expected: string, actual: string): ImageError {
  return new ImageError("DIGEST_MISMATCH", `${what} has digest ${actual}, expected ${expected}`, {
    kind: "crypto",
    hint: "The registry (or a proxy) served content that does not match its digest; retry, and distrust this source if it persists.",
    details: { expected, actual },
  });
}
