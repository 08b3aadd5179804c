import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import type { X509ErrorCode } from "./error-codes.js";

export type { X509ErrorCode } from "./error-codes.js";

/**
 * A certificate, CRL or key that cannot be read or used. Always `kind: "input"`: whether a
 * well-formed certificate is trustworthy is decided by its caller (attestation, mesh-pki), which
 * reports that with its own codes and kinds.
 */
export class X509Error extends ContrastError<X509ErrorCode> {
  constructor(code: X509ErrorCode, message: string, options: Omit<ContrastErrorOptions, "kind"> = {}) {
    super(code, message, { ...options, kind: "input" });
  }
}
