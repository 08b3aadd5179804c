import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import type { AttestationErrorCode } from "./error-codes.js";

/**
 * The evidence itself is bad: malformed, a signature or chain that does not verify, a
 * certificate outside its validity. Nothing it says can be trusted.
 */
export class EvidenceError extends ContrastError<AttestationErrorCode> {
  constructor(
    code: AttestationErrorCode,
    message: string,
    options: Omit<ContrastErrorOptions, "kind"> & { kind?: "input" | "crypto" } = {},
  ) {
    super(code, message, { ...options, kind: options.kind ?? "crypto" });
  }
}

/**
 * The evidence is genuine but does not satisfy the expectations (reference values, report
 * data, policy). Kept apart from EvidenceError so that operators can tell tampering from drift.
 */
export class AttestationPolicyError extends ContrastError<AttestationErrorCode> {
  constructor(code: AttestationErrorCode, message: string, options: Omit<ContrastErrorOptions, "kind"> = {}) {
    super(code, message, { ...options, kind: "policy" });
  }
}
