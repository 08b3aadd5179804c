import { ContrastError, type ContrastErrorOptions } from "@contrast/core";

/** Stable codes of every failure this package reports. Programs branch on these, never on text. */
export type MeshPkiErrorCode =
  | "SEED_INVALID_LENGTH"
  | "SALT_INVALID_LENGTH"
  | "WORKLOAD_SECRET_ID_EMPTY"
  | "DET_KEYGEN_SEED_TOO_SHORT"
  | "DET_KEYGEN_UNSUPPORTED_CURVE"
  | "DET_KEYGEN_OUT_OF_RANGE"
  | "KEY_MALFORMED"
  | "KEY_WRONG_TYPE"
  | "KEY_TOO_SMALL"
  | "CERT_SAN_INVALID"
  | "CERT_EXTENSION_INVALID"
  | "CERT_VALIDITY_INVALID"
  | "SEED_SHARE_NO_MATCH"
  | "SEED_SHARE_DECRYPT_FAILED"
  | "SEED_SHARE_OWNER_KEY_INVALID"
  | "TRANSITION_MALFORMED"
  | "TRANSITION_SIGNATURE_INVALID"
  | "RANDOM_SOURCE_INVALID";

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
