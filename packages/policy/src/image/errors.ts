import { ContrastError, type ContrastErrorOptions } from "@contrast/core";

/**
 * Stable codes of every failure the image-metadata side can report. Programs branch on these,
 * never on messages.
 */
export type ImageErrorCode =
  | "IMAGE_REFERENCE_INVALID"
  | "IMAGE_PLATFORM_NOT_FOUND"
  | "IMAGE_NOT_IN_SOURCE"
  | "REGISTRY_UNAUTHORIZED"
  | "REGISTRY_NOT_FOUND"
  | "REGISTRY_RATE_LIMITED"
  | "REGISTRY_UNAVAILABLE"
  | "REGISTRY_INSECURE_REFUSED"
  | "REGISTRY_BAD_RESPONSE"
  | "MANIFEST_UNSUPPORTED"
  | "MANIFEST_INVALID"
  | "DIGEST_MISMATCH"
  | "DIGEST_UNSUPPORTED"
  | "LAYER_MEDIA_TYPE_UNSUPPORTED"
  | "LAYER_DIFF_ID_MISMATCH"
  | "LAYER_GZIP_INVALID"
  | "LAYER_TAR_INVALID"
  | "LAYER_TAR_PAX_INVALID"
  | "LAYER_TAR_UNTERMINATED"
  | "LAYER_TOO_SMALL"
  | "LAYER_ETC_FILE_INVALID"
  | "OCI_LAYOUT_INVALID"
  | "IMAGE_METADATA_FILE_INVALID"
  | "IMAGE_TARFS_MISMATCH"
  | "LAYERS_CACHE_LOCKED";

export class ImageError extends ContrastError<ImageErrorCode> {
  constructor(code: ImageErrorCode, message: string, options: ContrastErrorOptions & { hint: string }) {
    super(code, message, options);
  }
}

/** Marks failures worth another attempt (connection resets, 5xx, 429) for the retry loop. */
export function isRetryable(err: unknown): boolean {
  return (
    err instanceof ImageError &&
    (err.code === "REGISTRY_UNAVAILABLE" || err.code === "REGISTRY_RATE_LIMITED") &&
    err.details?.retryable !== false
  );
}
