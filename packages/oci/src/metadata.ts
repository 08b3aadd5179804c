import type { LayerEtcFile } from "./etc-files.js";
import type { ImageConfig, Platform } from "./manifest.js";
import type { TarfsFlavour } from "./tarindex.js";

/** One layer of an image, as policy generation needs it. */
export interface LayerMetadata {
  /** sha256 of the uncompressed layer tar (the config's `rootfs.diff_ids` entry). */
  readonly diffId: string;
  /** dm-verity root hash (hex) the tardev snapshotter will present for this layer. */
  readonly verityHash: string;
  /** /etc/passwd as this layer leaves it: contents, null when deleted here, absent when untouched. */
  readonly passwd?: LayerEtcFile;
  readonly group?: LayerEtcFile;
  /** The compressed blob's digest and size, when known (absent for offline entries that lack it). */
  readonly digest?: string;
  readonly size?: number;
}

/** What policy generation needs to know about one image. */
export interface ImageMetadata {
  /** The normalised reference that was asked for (`docker.io/library/nginx:latest`). */
  readonly reference: string;
  /** Digest of the platform-specific image manifest; `reference` pinned is `<name>@<digest>`. */
  readonly digest: string;
  /** Digest of the image index the manifest was chosen from, when there was one. */
  readonly indexDigest?: string;
  readonly platform: Platform;
  /** The image config's `config` object: Env, Entrypoint, Cmd, WorkingDir, User, Volumes, … */
  readonly config: ImageConfig;
  /** Layers bottom to top. */
  readonly layers: readonly LayerMetadata[];
  /**
   * Which tarfs writer the layers' verity hashes were computed for (see tarindex.ts). Absent in
   * offline files written before the flavours existed: such entries serve any flavour.
   */
  readonly tarfs?: TarfsFlavour;
}

/** Anything that can describe images: a registry, an OCI layout directory, an offline file. */
export interface ImageMetadataSource {
  get(reference: string): Promise<ImageMetadata>;
  /** Releases worker threads and similar; the source must not be used afterwards. */
  close(): Promise<void>;
}

/** Progress of one layer; the CLI renders these as bars. */
export interface LayerProgress {
  /** Normalised image reference. */
  readonly image: string;
  /** Blob digest of the layer. */
  readonly layer: string;
  /** downloading: bytes are flowing; cached: answered from the cache; done: hashed. */
  readonly phase: "downloading" | "cached" | "done";
  /** Compressed bytes read. */
  readonly bytesDone: number;
  /** Compressed size from the manifest. */
  readonly bytesTotal: number;
}

export type ProgressCallback = (event: LayerProgress) => void;
