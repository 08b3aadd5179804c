import { PolicyError } from "./errors.js";

/** The parts of an OCI image config (`config` of application/vnd.oci.image.config.v1+json) we use. */
export interface OciImageConfig {
  readonly User?: string;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly Volumes?: Readonly<Record<string, unknown>> | null;
}

export interface ImageLayer {
  /** The layer's diff ID ("sha256:<hex>" of the uncompressed tar). */
  readonly diffId: string;
  /** The dm-verity root hash of the layer's tar (hex). */
  readonly verityHash: string;
  /** /etc/passwd as the image sees it after this layer, if the layer changed it. */
  readonly passwd?: string;
  /** /etc/group as the image sees it after this layer, if the layer changed it. */
  readonly group?: string;
}

export interface ImageMetadata {
  /** The manifest digest ("sha256:<hex>") the reference resolved to. */
  readonly digest: string;
  readonly config: OciImageConfig;
  /** Bottom layer first. */
  readonly layers: readonly ImageLayer[];
}

/**
 * Where image metadata comes from: the registry client (with its layer cache) in the CLI, a
 * fixture in tests. Implementations resolve tags, pull the config and hash the layers.
 */
export interface ImageMetadataSource {
  get(reference: string): Promise<ImageMetadata>;
}

/** An image reference taken apart: `registry/repository[:tag][@digest]`. */
export interface ImageReference {
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseImageReference(reference: string): ImageReference {
  const at = reference.indexOf("@");
  const namePart = at < 0 ? reference : reference.slice(0, at);
  const digest = at < 0 ? undefined : reference.slice(at + 1);
  const slash = namePart.lastIndexOf("/");
  const colon = namePart.lastIndexOf(":");
  const hasTag = colon > slash;
  const repository = hasTag ? namePart.slice(0, colon) : namePart;
  const tag = hasTag ? namePart.slice(colon + 1) : undefined;
  if (
    repository === "" ||
    /\s/.test(reference) ||
    (digest !== undefined && !DIGEST.test(digest)) ||
    (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))
  ) {
    throw new PolicyError("POLICY_IMAGE_REFERENCE_INVALID", `${JSON.stringify(reference)} is not an image reference`, {
      hint: "Use registry/repository[:tag][@sha256:<64 hex digits>].",
    });
  }
  return { repository, tag, digest };
}

/** True when the reference names its content by digest, so the image cannot change under it. */
export function isPinned(reference: string): boolean {
  return parseImageReference(reference).digest !== undefined;
}

/** The reference pinned to the digest the metadata resolved it to: `repo[:tag]@sha256:…`. */
export function pinnedReference(reference: string, digest: string): string {
  const r = parseImageReference(reference);
  return `${r.repository}${r.tag === undefined ? "" : `:${r.tag}`}@${r.digest ?? digest}`;
}
