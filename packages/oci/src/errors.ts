import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import type { ImageErrorCode } from "./error-codes.js";

export type { ImageErrorCode } from "./error-codes.js";

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
