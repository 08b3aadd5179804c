import type { BuiltLayer } from "./image-layer.js";
import { sha256Digest } from "./image-layer.js";
import { MEDIA_TYPE } from "./manifest.js";

export const OCI_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";

/** How a container of the image runs: the `config` object of an OCI image config. */
export interface ImageRunConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** Variables in the order given; written as `KEY=value`. */
  readonly env?: Readonly<Record<string, string>>;
  /** "1313/tcp", "53/udp". */
  readonly ports?: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface BuildImageOptions {
  /** Layers bottom first. */
  readonly layers: readonly BuiltLayer[];
  readonly config: ImageRunConfig;
  /** Manifest annotations. */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * The config's `created` timestamp (RFC 3339). Omitted when absent, which the OCI spec allows:
   * a build date would make every build a different image.
   */
  readonly created?: string;
  readonly architecture?: string;
  readonly os?: string;
  /** One `history` entry per layer, bottom first; its `created_by` text. */
  readonly history?: readonly string[];
}

export interface Blob {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** A built image: manifest and config bytes with their digests, and every blob it references. */
export interface BuiltOciImage {
  readonly manifest: Blob;
  readonly config: Blob;
  readonly layers: readonly BuiltLayer[];
  /** The manifest digest (the image's identity). */
  readonly digest: string;
  /** Config and layer blobs, in manifest order (config first). */
  readonly blobs: readonly Blob[];
}

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/**
 * An OCI image manifest and config over built layers. Everything in them comes from the
 * arguments, in the order given, so equal inputs give byte-equal JSON and equal digests.
 */
export function buildImage(options: BuildImageOptions): BuiltOciImage {
  const c = options.config;
  const runConfig: Record<string, unknown> = {};
  if (c.user !== undefined) runConfig.User = c.user;
  if (c.ports !== undefined && c.ports.length > 0) {
    runConfig.ExposedPorts = Object.fromEntries(c.ports.map((p) => [p, {}]));
  }
  if (c.env !== undefined) runConfig.Env = Object.entries(c.env).map(([k, v]) => `${k}=${v}`);
  if (c.entrypoint !== undefined) runConfig.Entrypoint = [...c.entrypoint];
  if (c.cmd !== undefined && c.cmd.length > 0) runConfig.Cmd = [...c.cmd];
  if (c.workdir !== undefined) runConfig.WorkingDir = c.workdir;
  if (c.labels !== undefined) runConfig.Labels = { ...c.labels };
  const configDoc: Record<string, unknown> = {};
  if (options.created !== undefined) configDoc.created = options.created;
  configDoc.architecture = options.architecture ?? "amd64";
  configDoc.os = options.os ?? "linux";
  configDoc.config = runConfig;
  configDoc.rootfs = { type: "layers", diff_ids: options.layers.map((l) => l.diffId) };
  if (options.history !== undefined) {
    configDoc.history = options.history.map((createdBy) => ({
      ...(options.created === undefined ? {} : { created: options.created }),
      created_by: createdBy,
    }));
  }
  const configBytes = encode(configDoc);
  const config: Blob = { digest: sha256Digest(configBytes), mediaType: OCI_CONFIG_MEDIA_TYPE, bytes: configBytes };
  const manifestDoc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: configBytes.length },
    layers: options.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  if (options.annotations !== undefined && Object.keys(options.annotations).length > 0) {
    manifestDoc.annotations = { ...options.annotations };
  }
  const manifestBytes = encode(manifestDoc);
  const digest = sha256Digest(manifestBytes);
  return {
    manifest: { digest, mediaType: MEDIA_TYPE.ociManifest, bytes: manifestBytes },
    config,
    layers: options.layers,
    digest,
    blobs: [config, ...options.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, bytes: l.gz }))],
  };
}
