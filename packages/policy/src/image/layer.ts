import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { ImageError } from "./errors.js";
import { EtcFilesScanner, fromGenpolicyEtcValue, type LayerEtcFile } from "./etc-files.js";
import { TarParser } from "./tar.js";
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
  /** Bytes of the uncompressed tar. */
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
  const consumer = new TarConsumer(options.hasher);
  await pipeline(Readable.from(counted()), createGunzip(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) await consumer.write(chunk);
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
): Promise<LayerDigests> {
  const consumer = new TarConsumer(hasher);
  for await (const chunk of tar) await consumer.write(chunk);
  return consumer.finish();
}

/**
 * The full bytes genpolicy's dm-verity tree covers for a tar held in memory: the tar followed
 * by its tarfs index. For tests and tools; the pipeline above never materialises them.
 */
export function tarWithIndex(tar: Uint8Array): Uint8Array {
  const index = new TarfsIndexBuilder();
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
  private readonly index = new TarfsIndexBuilder();
  private readonly etc = new EtcFilesScanner();
  private readonly parser: TarParser;
  private size = 0;

  constructor(hasher?: BlockHasher) {
    this.verity = new VerityHasher(hasher);
    this.parser = new TarParser({
      onMember: (m) => {
        this.index.add(m);
        return this.etc.onMember(m);
      },
      onData: (m, data) => this.etc.onData(m, data),
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.length;
    this.diff.update(chunk);
    this.parser.write(chunk);
    await this.verity.update(chunk);
  }

  async finish(): Promise<LayerDigests> {
    this.parser.end();
    for (const part of this.index.finish(this.size)) await this.verity.update(part);
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
}

export function digestMismatch(what: string, expected: string, actual: string): ImageError {
  return new ImageError("DIGEST_MISMATCH", `${what} has digest ${actual}, expected ${expected}`, {
    kind: "crypto",
    hint: "The registry (or a proxy) served content that does not match its digest; retry, and distrust this source if it persists.",
    details: { expected, actual },
  });
}
