import { availableParallelism } from "node:os";
import { type Logger, noopLogger } from "@contrast/core";
import { ImageError, isRetryable } from "./errors.js";
import type { ImageFileSystem } from "./fs.js";
import type { Fetcher } from "./http.js";
import { assertSupportedLayer, type LayerDigests, processLayerBlob } from "./layer.js";
import type { LayersCache } from "./layers-cache.js";
import { Limiter } from "./limiter.js";
import {
  DEFAULT_PLATFORM,
  type Descriptor,
  type ImageConfigDocument,
  type ImageIndex,
  type ImageManifest,
  MAX_CONFIG_BYTES,
  type Platform,
  parseImageConfig,
  parseManifest,
  selectPlatform,
  verifyDigest,
} from "./manifest.js";
import type { ImageMetadata, ImageMetadataSource, LayerMetadata, ProgressCallback } from "./metadata.js";
import { formatImageReference, type ImageReference, parseImageReference } from "./reference.js";
import { type CredentialLookup, RegistryClient, type RegistryClientOptions } from "./registry.js";
import { backoffDelay, DEFAULT_RETRY, defaultSleep, type Random, type RetryPolicy, type Sleep } from "./retry.js";
import type { TarfsFlavour } from "./tarindex.js";
import { type BlockHasher, inlineBlockHasher } from "./verity.js";
import { WorkerBlockHasher } from "./verity-workers.js";

/** Where manifests and blobs come from: a registry or an OCI layout directory. */
export interface BlobStore {
  /** The manifest the reference names (by its tag or digest), bytes verified against a digest. */
  getRootManifest(ref: ImageReference): Promise<{ bytes: Uint8Array; digest: string; contentType: string | null }>;
  getManifest(ref: ImageReference, digest: string): Promise<{ bytes: Uint8Array; contentType: string | null }>;
  getBlob(ref: ImageReference, digest: string, limit: number): Promise<Uint8Array>;
  openBlob(ref: ImageReference, digest: string): Promise<AsyncIterable<Uint8Array>>;
}

export interface ResolverOptions {
  readonly cache?: LayersCache;
  /** Which tarfs writer the layer hashes are for: the platform profile's `tarfs`; `kata` by default. */
  readonly tarfs?: TarfsFlavour;
  /** Platform to choose from image indexes; linux/amd64 by default, as genpolicy. */
  readonly platform?: Platform;
  /** Layers downloaded and hashed at the same time, across all images. Default 3. */
  readonly concurrency?: number;
  /** Worker threads for dm-verity hashing; 0 hashes on the calling thread. Default: cores, max 4. */
  readonly hashThreads?: number;
  readonly progress?: ProgressCallback;
  readonly logger?: Logger;
  readonly sleep?: Sleep;
  readonly random?: Random;
  readonly retry?: Partial<RetryPolicy>;
}

/**
 * Turns manifests and blobs into ImageMetadata: platform selection, digest checks on every
 * manifest, config and blob, layers from the cache or downloaded and hashed in parallel.
 */
export class ImageResolver implements ImageMetadataSource {
  private readonly limiter: Limiter;
  private readonly hasher: BlockHasher;
  private readonly pool: WorkerBlockHasher | undefined;
  private readonly inFlight = new Map<string, Promise<LayerDigests>>();
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;

  constructor(
    private readonly store: BlobStore,
    private readonly options: ResolverOptions = {},
  ) {
    this.limiter = new Limiter(options.concurrency ?? 3);
    const threads = options.hashThreads ?? Math.min(4, availableParallelism());
    this.pool = threads > 0 ? new WorkerBlockHasher(threads) : undefined;
    this.hasher = this.pool ?? inlineBlockHasher;
    this.logger = options.logger ?? noopLogger;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** Resolves a reference to its platform manifest without touching layers. */
  async resolveManifest(
    reference: string,
  ): Promise<{ ref: ImageReference; manifest: ImageManifest; digest: string; indexDigest?: string }> {
    const ref = parseImageReference(reference);
    const name = formatImageReference(ref);
    const root = await this.store.getRootManifest(ref);
    let parsed = parseManifest(root.bytes, root.contentType, `manifest of ${name}`);
    let digest = root.digest;
    let indexDigest: string | undefined;
    // Nested indexes exist in the wild (attestation wrappers); two levels are plenty.
    for (let depth = 0; parsed.kind === "index"; depth++) {
      if (depth >= 2) {
        throw new ImageError("IMAGE_MANIFEST_UNSUPPORTED", `${name} nests image indexes too deeply`, {
          hint: "Reference the platform manifest by digest instead.",
        });
      }
      indexDigest ??= digest;
      const chosen = selectPlatform(parsed as ImageIndex, this.options.platform ?? DEFAULT_PLATFORM, name);
      const m = await this.store.getManifest(ref, chosen.digest);
      verifyDigest(`manifest ${chosen.digest} of ${name}`, m.bytes, chosen.digest);
      parsed = parseManifest(m.bytes, m.contentType ?? chosen.mediaType, `manifest of ${name}`);
      digest = chosen.digest;
    }
    return { ref, manifest: parsed, digest, ...(indexDigest === undefined ? {} : { indexDigest }) };
  }

  async get(reference: string): Promise<ImageMetadata> {
    const { ref, manifest, digest, indexDigest } = await this.resolveManifest(reference);
    const name = formatImageReference(ref);
    const configBytes = await this.store.getBlob(ref, manifest.config.digest, MAX_CONFIG_BYTES);
    verifyDigest(`config of ${name}`, configBytes, manifest.config.digest);
    const config = parseImageConfig(configBytes, `config of ${name}`);
    if (config.diffIds.length !== manifest.layers.length) {
      throw new ImageError(
        "IMAGE_MANIFEST_INVALID",
        `${name} has ${manifest.layers.length} layers but its config lists ${config.diffIds.length} diff IDs`,
        { hint: "The image is inconsistent; rebuild and re-push it." },
      );
    }
    for (const l of manifest.layers) assertSupportedLayer(l.mediaType, l.digest);
    const cache = this.options.cache;
    const layers = await Promise.all(
      manifest.layers.map((descriptor, i) => this.layer(ref, name, descriptor, config.diffIds[i] as string)),
    );
    await cache?.persist();
    return {
      reference: name,
      digest,
      ...(indexDigest === undefined ? {} : { indexDigest }),
      platform: platformOf(config, this.options.platform ?? DEFAULT_PLATFORM),
      config: config.config,
      layers,
      tarfs: this.options.tarfs ?? "kata",
    };
  }

  private async layer(ref: ImageReference, name: string, d: Descriptor, diffId: string): Promise<LayerMetadata> {
    const tarfs = this.options.tarfs ?? "kata";
    const cached = this.options.cache?.get(diffId, tarfs);
    if (cached !== undefined) {
      this.options.progress?.({ image: name, layer: d.digest, phase: "cached", bytesDone: d.size, bytesTotal: d.size });
      return layerMetadata(cached, d);
    }
    let pending = this.inFlight.get(diffId);
    if (pending === undefined) {
      pending = this.limiter.run(() => this.hashLayer(ref, name, d, diffId));
      this.inFlight.set(diffId, pending);
      pending.then(
        () => this.inFlight.delete(diffId),
        () => this.inFlight.delete(diffId),
      );
    }
    const digests = await pending;
    this.options.cache?.put({
      diffId,
      tarfs,
      verityHash: digests.verityHash,
      passwd: digests.passwd,
      group: digests.group,
    });
    return layerMetadata(digests, d);
  }

  private async hashLayer(ref: ImageReference, name: string, d: Descriptor, diffId: string): Promise<LayerDigests> {
    const sleep = this.options.sleep ?? defaultSleep;
    for (let attempt = 0; ; attempt++) {
      try {
        const chunks = await this.store.openBlob(ref, d.digest);
        const report = this.options.progress;
        report?.({ image: name, layer: d.digest, phase: "downloading", bytesDone: 0, bytesTotal: d.size });
        const result = await processLayerBlob(chunks, {
          mediaType: d.mediaType,
          expectedDigest: d.digest,
          expectedDiffId: diffId,
          hasher: this.hasher,
          tarfs: this.options.tarfs ?? "kata",
          ...(report === undefined
            ? {}
            : {
                onBytes: (n: number) =>
                  report({ image: name, layer: d.digest, phase: "downloading", bytesDone: n, bytesTotal: d.size }),
              }),
        });
        report?.({ image: name, layer: d.digest, phase: "done", bytesDone: d.size, bytesTotal: d.size });
        return result;
      } catch (err) {
        // A download that broke off midway starts over; everything else is final.
        if (!isRetryable(err) || attempt + 1 >= this.retry.attempts) throw err;
        const delay = backoffDelay(this.retry, attempt, this.options.random ?? Math.random);
        this.logger.warn("layer download failed, starting over", {
          layer: d.digest,
          attempt: attempt + 1,
          delayMs: delay,
        });
        await sleep(delay);
      }
    }
  }
}

function platformOf(config: ImageConfigDocument, requested: Platform): Platform {
  if (config.os === undefined || config.architecture === undefined) return requested;
  return config.variant === undefined
    ? { os: config.os, architecture: config.architecture }
    : { os: config.os, architecture: config.architecture, variant: config.variant };
}

function layerMetadata(
  l: { diffId: string; verityHash: string; passwd: LayerMetadata["passwd"]; group: LayerMetadata["group"] },
  d: Descriptor,
): LayerMetadata {
  return {
    diffId: l.diffId,
    verityHash: l.verityHash,
    ...(l.passwd === undefined ? {} : { passwd: l.passwd }),
    ...(l.group === undefined ? {} : { group: l.group }),
    digest: d.digest,
    size: d.size,
  };
}

/** A registry as a BlobStore. */
export class RegistryBlobStore implements BlobStore {
  constructor(readonly client: RegistryClient) {}

  async getRootManifest(ref: ImageReference) {
    return this.client.getManifest(ref, ref.digest ?? ref.tag ?? "latest");
  }

  async getManifest(ref: ImageReference, digest: string) {
    const m = await this.client.getManifest(ref, digest);
    return { bytes: m.bytes, contentType: m.contentType };
  }

  getBlob(ref: ImageReference, digest: string, limit: number): Promise<Uint8Array> {
    return this.client.getBlob(ref, digest, limit);
  }

  async openBlob(ref: ImageReference, digest: string): Promise<AsyncIterable<Uint8Array>> {
    return (await this.client.openBlob(ref, digest)).chunks;
  }
}

export interface RegistrySourceOptions extends ResolverOptions {
  readonly fetch: Fetcher;
  readonly insecureRegistries?: readonly string[];
  readonly credentials?: CredentialLookup;
  /** Only for Retry-After given as an HTTP date. */
  readonly now?: () => Date;
}

/** The public entry point: image metadata from registries, with the layer cache. */
export function createImageMetadataSource(options: RegistrySourceOptions): ImageResolver {
  const clientOptions: RegistryClientOptions = {
    fetch: options.fetch,
    ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
  return new ImageResolver(new RegistryBlobStore(new RegistryClient(clientOptions)), options);
}

/** Pins a reference to the digest its tag currently points at (the index digest, if any). */
export async function pinReference(source: ImageResolver, reference: string): Promise<string> {
  const ref = parseImageReference(reference);
  if (ref.digest !== undefined) return formatImageReference(ref);
  const { digest, indexDigest } = await source.resolveManifest(reference);
  return formatImageReference({ ...ref, digest: indexDigest ?? digest });
}

/** An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`). */
export class OciLayoutBlobStore implements BlobStore {
  private index: Promise<ImageIndex> | undefined;

  constructor(
    private readonly dir: string,
    private readonly fs: ImageFileSystem,
  ) {}

  private invalid(why: string): ImageError {
    return new ImageError("OCI_LAYOUT_INVALID", `${this.dir} is not a valid OCI image layout: ${why}`, {
      hint: "Point at a directory written by skopeo, buildah or another OCI tool (oci-layout, index.json, blobs/).",
    });
  }

  private blobPath(digest: string): string {
    const [alg, hex] = digest.split(":");
    if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex))
      throw this.invalid(`bad digest ${digest}`);
    return `${this.dir}/blobs/${alg}/${hex}`;
  }

  private loadIndex(): Promise<ImageIndex> {
    this.index ??= (async () => {
      const layout = await this.fs.readFile(`${this.dir}/oci-layout`);
      if (layout === undefined) throw this.invalid("no oci-layout file");
      try {
        const doc = JSON.parse(Buffer.from(layout).toString("utf8")) as { imageLayoutVersion?: unknown };
        if (typeof doc.imageLayoutVersion !== "string") throw new Error("no version");
      } catch {
        throw this.invalid("oci-layout has no imageLayoutVersion");
      }
      const bytes = await this.fs.readFile(`${this.dir}/index.json`);
      if (bytes === undefined) throw this.invalid("no index.json");
      const parsed = parseManifest(bytes, null, `${this.dir}/index.json`);
      if (parsed.kind !== "index") throw this.invalid("index.json is not an image index");
      return parsed;
    })();
    return this.index;
  }

  /**
   * Finds the entry for a reference: by digest when pinned, else by the
   * `org.opencontainers.image.ref.name` annotation, matched as the full reference or the tag.
   */
  async getRootManifest(ref: ImageReference) {
    const index = await this.loadIndex();
    const full = formatImageReference({
      registry: ref.registry,
      repository: ref.repository,
      ...(ref.tag ? { tag: ref.tag } : {}),
    });
    const entry = index.manifests.find((m) => {
      if (ref.digest !== undefined) return m.digest === ref.digest;
      const name = m.annotations?.["org.opencontainers.image.ref.name"];
      if (name === undefined) return false;
      if (name === ref.tag) return true;
      try {
        return formatImageReference(parseImageReference(name)) === full;
      } catch {
        return false;
      }
    });
    if (entry === undefined) {
      throw new ImageError("IMAGE_NOT_IN_SOURCE", `${formatImageReference(ref)} is not in the OCI layout ${this.dir}`, {
        hint: "List the layout's index.json; entries are matched by digest or by their org.opencontainers.image.ref.name annotation.",
      });
    }
    const bytes = await this.readBlob(entry.digest);
    return { bytes, digest: entry.digest, contentType: entry.mediaType };
  }

  private async readBlob(digest: string): Promise<Uint8Array> {
    const bytes = await this.fs.readFile(this.blobPath(digest));
    if (bytes === undefined) throw this.invalid(`blob ${digest} is missing`);
    verifyDigest(`blob ${digest} in ${this.dir}`, bytes, digest);
    return bytes;
  }

  async getManifest(_ref: ImageReference, digest: string) {
    return { bytes: await this.readBlob(digest), contentType: null };
  }

  async getBlob(_ref: ImageReference, digest: string, limit: number): Promise<Uint8Array> {
    const bytes = await this.readBlob(digest);
    if (bytes.length > limit) throw this.invalid(`blob ${digest} is too large`);
    return bytes;
  }

  async openBlob(_ref: ImageReference, digest: string): Promise<AsyncIterable<Uint8Array>> {
    const path = this.blobPath(digest);
    if ((await this.fs.ageMs(path)) === undefined) throw this.invalid(`blob ${digest} is missing`);
    return this.fs.readChunks(path);
  }
}

/** Image metadata from an OCI layout directory, with the same behaviour as the registry source. */
export function createOciLayoutSource(
  options: ResolverOptions & { readonly dir: string; readonly fs: ImageFileSystem },
): ImageResolver {
  return new ImageResolver(new OciLayoutBlobStore(options.dir, options.fs), options);
}
