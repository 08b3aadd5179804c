import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import type { MeshPkiErrorCode } from "./error-codes.js";

export type { MeshPkiErrorCode } from "./error-codes.js";

/**
 * A failure in the seed engine, key handling or the mesh PKI. `kind` is "input" for bad
 * arguments and files, "crypto" where a cryptographic operation or check failed (a share that
 * does not decrypt, a signature that does not verify).
 */
export class MeshPkiError extends ContrastError<MeshPkiErrorCode> {
  constructor(code: MeshPkiErrorCode, message: string, options: ContrastErrorOptions = {}) {
    super(code, message, options);
  }
}
