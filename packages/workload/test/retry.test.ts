import { ContrastError } from "@contrast/core";
import { FUZZ_RUNS } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay, classifyFailure, DEFAULT_BACKOFF, WorkloadError } from "../src/index.js";

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the cap; no jitter at unit 0", () => {
    const b = { initialMs: 1000, maxMs: 5000, jitter: 0.2 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, b, 0))).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    expect(backoffDelay(4, b, 0.5)).toBe(4500);
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 1000, maxMs: 5000, jitter: 0.2 });
  });

  it("(property) stays within [(1 − jitter)·d, d] for d = min(max, initial·2^(n−1)), never above the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (initialMs, extra, jitter, attempt, unit) => {
          const b = { initialMs, maxMs: initialMs + extra, jitter };
          const d = Math.min(b.maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
          const got = backoffDelay(attempt, b, unit);
          expect(got).toBeLessThanOrEqual(d);
          expect(got).toBeGreaterThanOrEqual(Math.round(d * (1 - jitter)) - 1);
          expect(got).toBeLessThanOrEqual(b.maxMs);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("classifyFailure", () => {
  const err = (code: string, kind: ContrastError["kind"] = "io") => new ContrastError(code, "m", { kind });
  it.each([
    ["API_UNAVAILABLE", "unreachable"],
    ["API_DEADLINE_EXCEEDED", "unreachable"],
    ["ATLS_HANDSHAKE_FAILED", "unreachable"],
    ["NETWORK_UNREACHABLE", "unreachable"],
    ["COORDINATOR_MESH_NOT_READY", "not-ready"],
    ["COORDINATOR_POLICY_NOT_IN_MANIFEST", "denied"],
    ["ATLS_HOST_DATA_NOT_ALLOWED", "denied"],
    ["API_PERMISSION_DENIED", "denied"],
    ["COORDINATOR_NONCE_EXPIRED", "attestation-failed"],
    ["COORDINATOR_EVIDENCE_REJECTED", "attestation-failed"],
    ["COORDINATOR_REPORT_DATA_MISMATCH", "attestation-failed"],
    ["ATLS_REPORT_DATA_MISMATCH", "coordinator-unverified"],
    ["ATTESTATION_MEASUREMENT_MISMATCH", "coordinator-unverified"],
    ["ATLS_ISSUER_FAILED", "no-evidence"],
    ["TSM_UNAVAILABLE", "no-evidence"],
    ["API_INTERNAL", "other"],
  ])("%s is %s", (code, reason) => {
    const c = classifyFailure(err(code));
    expect(c.reason).toBe(reason);
    expect(c.error.code).toBe(code);
    expect(c.summary.length).toBeGreaterThan(10);
  });

  it("an unusable answer is bad-response; a thrown non-error becomes INTERNAL, reason other", () => {
    expect(classifyFailure(new WorkloadError("INITIALIZER_RESPONSE_INVALID", "x")).reason).toBe("bad-response");
    const c = classifyFailure("boom");
    expect(c).toMatchObject({ reason: "other", error: { code: "INTERNAL" } });
  });
});
