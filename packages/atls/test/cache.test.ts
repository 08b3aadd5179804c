import { type KeyObject, X509Certificate } from "node:crypto";
import { decodeSnpEvidence, encodeSnpEvidence } from "@contrast/attestation";
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

  it("judges deep-frozen reference values as it judges unfrozen ones, each frozen entry by its own content", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    const deepFreeze = <T>(v: T): T => {
      if (typeof v === "object" && v !== null) {
        for (const x of Object.values(v)) deepFreeze(x);
        Object.freeze(v);
      }
      return v;
    };
    const good = simReferenceValues(authority().arkKeyDigest);
    const wrong = { ...good, TrustedMeasurement: "00".repeat(48) };
    const frozenGood = deepFreeze({ sim: [structuredClone(good)] });
    const frozenWrong = deepFreeze({ sim: [structuredClone(wrong)] });
    const call = (referenceValues: { sim: (typeof good)[] }) =>
      verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues, now, cache });
    // Alternating, so an entry remembered by identity is never taken for the other one.
    for (let i = 0; i < 2; i++) {
      expect((await call(frozenGood)).platform).toBe("sim");
      await expectCodeAsync(() => call(frozenWrong), "ATTESTATION_MEASUREMENT_MISMATCH");
      await expectCodeAsync(() => call({ sim: [wrong] }), "ATTESTATION_MEASUREMENT_MISMATCH");
      expect((await call({ sim: [good] })).platform).toBe("sim");
    }
    // An entry that is not frozen is judged by its content at each call, edits included.
    const editable = structuredClone(good);
    expect((await call({ sim: [editable] })).platform).toBe("sim");
    editable.TrustedMeasurement = "00".repeat(48);
    await expectCodeAsync(() => call({ sim: [editable] }), "ATTESTATION_MEASUREMENT_MISMATCH");
  });

  it("alternating evidence under two trusted simulated roots is judged under each one's own roots", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const other = createSimulatedAuthority({ clock: fixedClock(now), rsaModulusLength: 2048 });
    const mine = await issuer().issue(rd);
    const theirs = await simIssuer(other, { measurement: MEASUREMENT, hostData: POLICY_HASH }).issue(rd);
    const both = { sim: [simReferenceValues(authority().arkKeyDigest), simReferenceValues(other.arkKeyDigest)] };
    const onlyMine = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    for (let i = 0; i < 3; i++) {
      const call = (evidence: Uint8Array, referenceValues: typeof both) =>
        verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues, now, cache });
      expect((await call(mine, both)).matched).toBe(0);
      expect((await call(theirs, both)).matched).toBe(1);
      await expectCodeAsync(() => call(theirs, onlyMine), "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED");
      expect((await call(mine, onlyMine)).matched).toBe(0);
    }
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

  it("a hit on known simulated roots parses no certificate and exports no key", async () => {
    const cache = new EvidenceCache();
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    const docs = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const rd = random(64);
        return { rd, evidence: await issuer().issue(rd) };
      }),
    );
    const first = docs[0] as (typeof docs)[number];
    await verifyEvidence({
      oid: SNP_OID,
      evidence: first.evidence,
      reportData: first.rd,
      referenceValues: rv,
      now,
      cache,
    });
    // Public KeyObjects get export() from a subclass's prototype.
    const proto = Object.getPrototypeOf(
      new X509Certificate(decodeSnpEvidence(first.evidence).ark as Uint8Array).publicKey,
    ) as KeyObject;
    const exports = vi.spyOn(proto, "export");
    try {
      for (const d of docs) {
        const v = await verifyEvidence({
          oid: SNP_OID,
          evidence: d.evidence,
          reportData: d.rd,
          referenceValues: rv,
          now,
          cache,
        });
        expect(v.platform).toBe("sim");
      }
      expect(exports).not.toHaveBeenCalled();
      // Without a cache the ARK's key is exported (to name it) on every call.
      await verifyEvidence({ oid: SNP_OID, evidence: first.evidence, reportData: first.rd, referenceValues: rv, now });
      expect(exports).toHaveBeenCalled();
    } finally {
      exports.mockRestore();
    }
  });

  it("cached ARK and ASK bytes do not vouch for another TEE's VCEK (no cache poisoning)", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    const good = await issuer().issue(rd);
    await verifyEvidence({ oid: SNP_OID, evidence: good, reportData: rd, referenceValues: rv, now, cache });
    // Another TEE's report and VCEK under the trusted (and cached) ARK and ASK bytes.
    const other = createSimulatedAuthority({ clock: fixedClock(now), rsaModulusLength: 2048 });
    const foreign = decodeSnpEvidence(
      await simIssuer(other, { measurement: MEASUREMENT, hostData: POLICY_HASH }).issue(rd),
    );
    const trusted = decodeSnpEvidence(good);
    if (trusted.ark === undefined || trusted.ask === undefined) throw new Error("sim evidence carries its chain");
    const spliced = encodeSnpEvidence({ ...foreign, ark: trusted.ark, ask: trusted.ask });
    for (let i = 0; i < 2; i++) {
      await expectCodeAsync(
        () => verifyEvidence({ oid: SNP_OID, evidence: spliced, reportData: rd, referenceValues: rv, now, cache }),
        "SNP_CHAIN_INVALID",
      );
    }
    // The genuine document still verifies: the failure cached nothing.
    expect(
      (await verifyEvidence({ oid: SNP_OID, evidence: good, reportData: rd, referenceValues: rv, now, cache }))
        .platform,
    ).toBe("sim");
  });

  it("tampered root bytes after a cached hit are judged anew, never served from the cache", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    const good = await issuer().issue(rd);
    await verifyEvidence({ oid: SNP_OID, evidence: good, reportData: rd, referenceValues: rv, now, cache });
    const doc = decodeSnpEvidence(good);
    const flip = (b: Uint8Array | undefined) => {
      const c = new Uint8Array(b as Uint8Array);
      c[c.length - 1] = (c[c.length - 1] as number) ^ 1; // the last byte of the signature
      return c;
    };
    await expectCodeAsync(
      () =>
        verifyEvidence({
          oid: SNP_OID,
          evidence: encodeSnpEvidence({ ...doc, ask: flip(doc.ask) }),
          reportData: rd,
          referenceValues: rv,
          now,
          cache,
        }),
      "SNP_CHAIN_INVALID",
    );
    await expectCodeAsync(
      () =>
        verifyEvidence({
          oid: SNP_OID,
          evidence: encodeSnpEvidence({ ...doc, ark: flip(doc.ark) }),
          reportData: rd,
          referenceValues: rv,
          now,
          cache,
        }),
      "SNP_CHAIN_INVALID",
    );
    const report = new Uint8Array(doc.report);
    report[0x50] = (report[0x50] as number) ^ 1; // inside the signed part
    await expectCodeAsync(
      () =>
        verifyEvidence({
          oid: SNP_OID,
          evidence: encodeSnpEvidence({ ...doc, report }),
          reportData: rd,
          referenceValues: rv,
          now,
          cache,
        }),
      "SNP_SIGNATURE_INVALID",
    );
  });

  it("revocation is checked on every call, also for cached roots and chains", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    const good = await issuer().issue(rd);
    const doc = decodeSnpEvidence(good);
    const withCrl = (revokeAsk: boolean) => encodeSnpEvidence({ ...doc, crl: authority().crl({ now, revokeAsk }) });
    await verifyEvidence({ oid: SNP_OID, evidence: withCrl(false), reportData: rd, referenceValues: rv, now, cache });
    await expectCodeAsync(
      () => verifyEvidence({ oid: SNP_OID, evidence: withCrl(true), reportData: rd, referenceValues: rv, now, cache }),
      "SNP_CERT_REVOKED",
    );
  });

  it("a chain cached while valid is refused once a certificate expires, and before it is valid", async () => {
    const cache = new EvidenceCache();
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    const rv = { sim: [simReferenceValues(authority().arkKeyDigest)] };
    const vcek = new X509Certificate(decodeSnpEvidence(evidence).vcek as Uint8Array);
    await verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv, now, cache });
    for (const at of [
      new Date(new Date(vcek.validTo).getTime() + 1000),
      new Date(new Date(vcek.validFrom).getTime() - 1000),
    ]) {
      await expectCodeAsync(
        () => verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv, now: at, cache }),
        "SNP_CERT_NOT_VALID_AT_TIME",
      );
    }
    // And valid again at a time inside every certificate's validity.
    expect(
      (await verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv, now, cache })).platform,
    ).toBe("sim");
  });
});
