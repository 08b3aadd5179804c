import { X509Certificate } from "node:crypto";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { fixedClock } from "@contrast/core";
import { simReferenceValues } from "@contrast/manifest";
import { expectCodeAsync } from "@contrast/testkit";
import { describe, expect, it, vi } from "vitest";
import { EvidenceCache, simIssuer, verifyEvidence } from "../src/index.js";
import { authority, issuer, MEASUREMENT, POLICY_HASH, random } from "./helpers.js";

const SNP_OID = "1.3.9901.2.1";
const now = new Date("2026-12-05T12:00:00Z");

describe("EvidenceCache", () => {
  it("gives the same verdicts as uncached verification without re-verifying a known chain", async () => {
    const cache = new EvidenceCache();
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    const docs = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const rd = random(64);
        return { rd, evidence: await issuer().issue(rd) };
      }),
    );
    const chainChecks = vi.spyOn(X509Certificate.prototype, "verify");
    const run = async (c: EvidenceCache | undefined) => {
      chainChecks.mockClear();
      for (const d of docs) {
        const v = await verifyEvidence({
          oid: SNP_OID,
          evidence: d.evidence,
          reportData: d.rd,
          referenceValues: rv,
          now,
          cache: c,
        });
        expect(v.platform).toBe("sim");
      }
      return chainChecks.mock.calls.length;
    };
    expect(await run(cache)).toBeGreaterThan(0); // the first call verifies the chain
    expect(await run(cache)).toBe(0);
    expect(await run(undefined)).toBeGreaterThanOrEqual(docs.length);
    chainChecks.mockRestore();
  });

  it("does not let a cached chain vouch for another simulated TEE, nor skip the binding", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    const first = await issuer().issue(rd);
    await verifyEvidence({ oid: SNP_OID, evidence: first, reportData: rd, referenceValues: rv, now, cache });
    await expectCodeAsync(
      () => verifyEvidence({ oid: SNP_OID, evidence: first, reportData: random(64), referenceValues: rv, now, cache }),
      "ATLS_REPORT_DATA_MISMATCH",
    );
    const other = createSimulatedAuthority({ clock: fixedClock(now), rsaModulusLength: 2048 });
    const evidence = await simIssuer(other, { measurement: MEASUREMENT, hostData: POLICY_HASH }).issue(rd);
    await expectCodeAsync(
      () => verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv, now, cache }),
      "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED",
    );
    // Trusted both: each chain verified under its own ARK.
    const both = { sim: [...rv.sim, simReferenceValues(other.arkKeyDigest)] };
    expect(
      (await verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: both, now, cache })).matched,
    ).toBe(1);
  });

  it("checks validity at each call's time, not the time the chain was cached", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    await verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv, now, cache });
    await expectCodeAsync(
      () =>
        verifyEvidence({
          oid: SNP_OID,
          evidence,
          reportData: rd,
          referenceValues: rv,
          now: new Date("2060-01-01T00:00:00Z"),
          cache,
        }),
      "SNP_CERT_NOT_VALID_AT_TIME",
    );
  });
});
