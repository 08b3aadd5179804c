import { ContrastError } from "@contrast/core";

/**
 * Why one attempt to get credentials failed, in the words an operator reading the log needs:
 * - `unreachable`: no connection (DNS, refused, TLS, timeout): the Coordinator is not up yet;
 * - `not-ready`: the Coordinator has no manifest yet, or is in recovery mode;
 * - `denied`: the Coordinator refuses this pod: its policy hash is not in the manifest;
 * - `attestation-failed`: the evidence did not verify (nonce, signature, binding, measurements);
 * - `coordinator-unverified`: with verification on, the Coordinator's own evidence did not verify;
 * - `no-evidence`: this pod could not produce evidence (configfs-tsm missing or failing);
 * - `bad-response`: the answer was unusable;
 * - `other`: anything else (the code says what).
 */
export type FailureReason =
  | "unreachable"
  | "not-ready"
  | "denied"
  | "attestation-failed"
  | "coordinator-unverified"
  | "no-evidence"
  | "bad-response"
  | "other";

export interface ClassifiedFailure {
  readonly reason: FailureReason;
  /** One line for the log: what this means. */
  readonly summary: string;
  readonly error: ContrastError;
}

const SUMMARY: Readonly<Record<FailureReason, string>> = {
  unreachable: "the Coordinator is unreachable",
  "not-ready": "the Coordinator has no manifest yet or is in recovery mode",
  denied: "permission denied: the Coordinator's manifest does not list this pod's policy",
  "attestation-failed": "the Coordinator rejected this pod's attestation",
  "coordinator-unverified": "the Coordinator's own attestation did not verify",
  "no-evidence": "this pod could not produce attestation evidence",
  "bad-response": "the Coordinator's answer is unusable",
  other: "the mesh certificate request failed",
};

const NOT_READY = new Set(["COORDINATOR_MESH_NOT_READY", "COORDINATOR_NO_MANIFEST", "COORDINATOR_IN_RECOVERY"]);
const DENIED = new Set(["COORDINATOR_POLICY_NOT_IN_MANIFEST", "ATLS_HOST_DATA_NOT_ALLOWED", "API_PERMISSION_DENIED"]);
const UNREACHABLE = new Set(["API_UNAVAILABLE", "API_DEADLINE_EXCEEDED", "API_CANCELLED"]);

/**
 * Sorts a failure by its code (never its text). The Coordinator's codes cross the wire intact
 * (fromGrpcError), so its refusals are told apart from a connection that never came up.
 */
export function classifyFailure(e: unknown): ClassifiedFailure {
  const error = ContrastError.from(e);
  const code = error.code;
  let reason: FailureReason;
  if (NOT_READY.has(code)) reason = "not-ready";
  else if (DENIED.has(code)) reason = "denied";
  else if (code === "INITIALIZER_RESPONSE_INVALID") reason = "bad-response";
  // Before the ATLS_ rule: the issuer's failure is this pod's, not the Coordinator's.
  else if (code === "ATLS_ISSUER_FAILED" || code.startsWith("TSM_")) reason = "no-evidence";
  else if (UNREACHABLE.has(code) || code.startsWith("NETWORK_") || code.startsWith("ATLS_HANDSHAKE_")) {
    reason = "unreachable";
  } else if (
    code.startsWith("ATLS_") ||
    code.startsWith("ATTESTATION_") ||
    code.startsWith("SNP_") ||
    code.startsWith("TDX_")
  ) {
    // Client-side aTLS errors are about the Coordinator's evidence (verification is on).
    reason = "coordinator-unverified";
  } else if (
    code.startsWith("COORDINATOR_NONCE_") ||
    code.startsWith("COORDINATOR_EVIDENCE_") ||
    code === "COORDINATOR_REPORT_DATA_MISMATCH" ||
    code === "API_UNAUTHENTICATED"
  ) {
    reason = "attestation-failed";
  } else reason = "other";
  return { reason, summary: SUMMARY[reason], error };
}

/** Exponential backoff with a cap and jitter. */
export interface Backoff {
  /** The first delay. Default 1 s. */
  readonly initialMs: number;
  /** The cap. Default 5 s: upstream v1.x retries every 5 s. */
  readonly maxMs: number;
  /** Each delay is shortened by up to this fraction, at random (0 ≤ jitter < 1). Default 0.2. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 5000, jitter: 0.2 };

/**
 * The delay after failed attempt `attempt` (1-based): initialMs · 2^(attempt−1), capped at maxMs,
 * then reduced by up to `jitter` of itself with `unit` ∈ [0, 1) drawn by the caller, so many
 * pods restarted together do not hit the Coordinator in lockstep.
 */
export function backoffDelay(attempt: number, backoff: Backoff, unit: number): number {
  const exp = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const u = Math.min(Math.max(unit, 0), 1);
  return Math.round(exp * (1 - backoff.jitter * u));
}
