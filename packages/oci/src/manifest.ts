import { createHash } from "node:crypto";
import { ImageError } from "./errors.js";
import { digestMismatch } from "./layer.js";

export const MEDIA_TYPE = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

/** What we ask registries for, most preferred first. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerList,
  MEDIA_TYPE.dockerManifest,
].join(", ");

export const MAX_MANIFEST_BYTES = 4 << 20;
export const MAX_CONFIG_BYTES = 64 << 20;

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export const DEFAULT_PLATFORM: Platform = { os: "linux", architecture: "amd64" };

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageManifest {
  readonly kind: "manifest";
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export interface ImageIndex {
  readonly kind: "index";
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

/** `platform` in Go's notation: `linux/amd64`, `linux/arm64/v8`. */
export function formatPlatform(p: Platform): string {
  return p.variant === undefined ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

export function parsePlatform(text: string): Platform {
  const parts = text.split("/");
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || variant === "") {
    throw new ImageError("IMAGE_REFERENCE_INVALID", `invalid platform ${JSON.stringify(text)}`, {
      hint: "Write platforms as os/architecture[/variant], for example linux/amd64.",
    });
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** Hashes bytes with a digest's algorithm (sha256 or sha512) and compares. */
export function verifyDigest(what: string, bytes: Uint8Array, expected: string): void {
  const actual = computeDigest(bytes, expected.split(":")[0] ?? "");
  if (actual !== expected) throw digestMismatch(what, expected, actual);
}

export function computeDigest(bytes: Uint8Array, algorithm = "sha256"): string {
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    throw new ImageError("DIGEST_UNSUPPORTED", `digest algorithm ${algorithm} is not supported`, {
      hint: "Use sha256 (or sha512) digests.",
    });
  }
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

function invalidManifest(what: string, why: string): ImageError {
  return new ImageError("IMAGE_MANIFEST_INVALID", `${what} is malformed: ${why}`, {
    hint: "The registry served a manifest that is not a valid OCI or Docker v2 manifest.",
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw invalidManifest(what, "a descriptor is not an object");
  const { mediaType, digest, size, platform, annotations } = v;
  if (typeof mediaType !== "string") throw invalidManifest(what, "a descriptor has no mediaType");
  if (typeof digest !== "string" || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
    throw invalidManifest(what, "a descriptor has no valid digest");
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw invalidManifest(what, "a descriptor has no valid size");
  }
  let p: Platform | undefined;
  if (isObject(platform)) {
    if (typeof platform.os !== "string" || typeof platform.architecture !== "string") {
      throw invalidManifest(what, "a platform lacks os or architecture");
    }
    p = { os: platform.os, architecture: platform.architecture };
    if (typeof platform.variant === "string") p = { ...p, variant: platform.variant };
  }
  let a: Record<string, string> | undefined;
  if (isObject(annotations)) {
    a = {};
    for (const [k, val] of Object.entries(annotations)) if (typeof val === "string") a[k] = val;
  }
  return { mediaType, digest, size, ...(p ? { platform: p } : {}), ...(a ? { annotations: a } : {}) };
}

/**
 * Parses manifest bytes. `contentType` is the registry's Content-Type; the document's own
 * `mediaType` wins when present, and shape decides when neither is (OCI allows both to be absent).
 */
export function parseManifest(bytes: Uint8Array, contentType: string | null, what: string): ImageManifest | ImageIndex {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalidManifest(what, "not JSON");
  }
  if (!isObject(doc)) throw invalidManifest(what, "not a JSON object");
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : (contentType?.split(";")[0]?.trim() ?? "");
  if (declared === MEDIA_TYPE.dockerSchema1 || declared === MEDIA_TYPE.dockerSchema1Signed || doc.schemaVersion === 1) {
    throw new ImageError("IMAGE_MANIFEST_UNSUPPORTED", `${what} is a Docker schema 1 manifest`, {
      hint: "Schema 1 images are deprecated and carry no diff IDs; re-push the image with a current tool.",
    });
  }
  if (doc.schemaVersion !== 2) throw invalidManifest(what, "schemaVersion is not 2");
  if (Array.isArray(doc.manifests)) {
    return {
      kind: "index",
      mediaType: declared || MEDIA_TYPE.ociIndex,
      manifests: doc.manifests.map((m) => parseDescriptor(m, what)),
    };
  }
  if (!Array.isArray(doc.layers)) throw invalidManifest(what, "no layers");
  return {
    kind: "manifest",
    mediaType: declared || MEDIA_TYPE.ociManifest,
    config: parseDescriptor(doc.config, what),
    layers: doc.layers.map((l) => parseDescriptor(l, what)),
  };
}

/**
 * The manifest for `platform` in an index, as oci-client's resolver (which genpolicy uses)
 * picks it: the first entry whose os and architecture match (and variant, when asked for).
 */
export function selectPlatform(index: ImageIndex, platform: Platform, what: string): Descriptor {
  const found = index.manifests.find(
    (m) =>
      m.platform !== undefined &&
      m.platform.os === platform.os &&
      m.platform.architecture === platform.architecture &&
      (platform.variant === undefined || m.platform.variant === platform.variant),
  );
  if (found !== undefined) return found;
  const available = index.manifests.flatMap((m) => (m.platform ? [formatPlatform(m.platform)] : []));
  throw new ImageError("IMAGE_PLATFORM_NOT_FOUND", `${what} has no image for ${formatPlatform(platform)}`, {
    hint: `Choose one of the image's platforms (${available.join(", ") || "none listed"}) or use another image.`,
    details: { platform: formatPlatform(platform), available },
  });
}

/** The image config document (OCI `application/vnd.oci.image.config.v1+json`). */
export interface ImageConfigDocument {
  readonly architecture?: string;
  readonly os?: string;
  readonly variant?: string;
  /** The runtime configuration: Env, Entrypoint, Cmd, WorkingDir, User, Volumes, … */
  readonly config: ImageConfig;
  readonly diffIds: readonly string[];
  /** The whole document as the registry served it. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** The `config` member of an image config; unknown fields are kept. */
export interface ImageConfig {
  readonly User?: string;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly Volumes?: Readonly<Record<string, unknown>> | null;
  readonly ExposedPorts?: Readonly<Record<string, unknown>> | null;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly StopSignal?: string;
  readonly Tty?: boolean;
  readonly [field: string]: unknown;
}

export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfigDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalidManifest(what, "the image config is not JSON");
  }
  if (!isObject(doc)) throw invalidManifest(what, "the image config is not an object");
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every((d) => typeof d === "string")) {
    throw invalidManifest(what, "the image config has no rootfs.diff_ids");
  }
  const config = isObject(doc.config) ? (doc.config as ImageConfig) : {};
  return {
    ...(typeof doc.architecture === "string" ? { architecture: doc.architecture } : {}),
    ...(typeof doc.os === "string" ? { os: doc.os } : {}),
    ...(typeof doc.variant === "string" ? { variant: doc.variant } : {}),
    config,
    diffIds: rootfs.diff_ids as string[],
    raw: doc,
  };
}
