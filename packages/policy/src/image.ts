import { PolicyError } from "./errors.js";

import type { LayerMetadata } from "./image/metadata.js";

export type { ImageConfig as OciImageConfig } from "./image/manifest.js";
// Policy generation reads image metadata through the image side's types (src/image/), so that
// the registry client, OCI layouts and offline files plug in directly.
export type { ImageMetadata, ImageMetadataSource } from "./image/metadata.js";
export type ImageLayer = LayerMetadata;

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
