import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { bytesEqual, fixedClock, sha512, toHex } from "@contrast/core";
import { simReferenceValues } from "@contrast/manifest";
import { expectCodeAsync } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { reportData, simIssuer, verifyEvidence } from "../src/index.js";
import { authority, issuer, MEASUREMENT, POLICY_HASH, random } from "./helpers.js";

const SNP_OID = "1.3.9901.2.1";
const now = new Date("2026-12-05T12:00:00Z");

function rv(digest = authority().arkKeyDigest) {
  return { sim: [simReferenceValues(digest)] };
}

describe("reportData", () => {
  it("is SHA-512 of the key DER followed by the nonce (upstream's ConstructReportData)", () => {
    const key = random(91);
    const nonce = random(32);
    const rd = reportData(key, nonce);
    expect(rd.length).toBe(64);
    expect(bytesEqual(rd, sha512(new Uint8Array([...key, ...nonce])))).toBe(true);
    expect(bytesEqual(rd, reportData(key, random(32)))).toBe(false);
  });
});

describe("verifyEvidence with simulated evidence", () => {
  it("accepts evidence bound to the expected report data, naming platform, policy hash and entry", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    const v = await verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv(), now });
    expect(v.platform).toBe("sim");
    expect(toHex(v.hostData)).toBe(toHex(POLICY_HASH));
    expect(v.matched).toBe(0);
    expect(v.snpReport?.report.measurement).toEqual(MEASUREMENT);
  });

  it("refuses evidence for other report data (another key or nonce) as a crypto failure", async () => {
    const evidence = await issuer().issue(random(64));
    await expectCodeAsync(
      () => verifyEvidence({ oid: SNP_OID, evidence, reportData: random(64), referenceValues: rv(), now }),
      "ATLS_REPORT_DATA_MISMATCH",
      "crypto",
    );
  });

  it("refuses a policy hash that is not allowed, as a policy failure", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    await expectCodeAsync(
      () =>
        verifyEvidence({
          oid: SNP_OID,
          evidence,
          reportData: rd,
          referenceValues: rv(),
          allowedHostData: [toHex(random(32))],
          now,
        }),
      "ATLS_HOST_DATA_NOT_ALLOWED",
      "policy",
    );
    // Upper-case hex in the allowed list is the same hash.
    const ok = await verifyEvidence({
      oid: SNP_OID,
      evidence,
      reportData: rd,
      referenceValues: rv(),
      allowedHostData: [toHex(POLICY_HASH).toUpperCase()],
      now,
    });
    expect(ok.platform).toBe("sim");
  });

  it("judges a reused allowed list by its entries at each call: frozen lists once, edited arrays anew", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    const call = (allowedHostData: readonly string[]) =>
      verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv(), allowedHostData, now });
    // A frozen list of many hashes, the Coordinator's case, used for several calls.
    const many = Object.freeze([...Array.from({ length: 500 }, () => toHex(random(32))), toHex(POLICY_HASH)]);
    for (let i = 0; i < 3; i++) expect((await call(many)).platform).toBe("sim");
    const others = Object.freeze(Array.from({ length: 500 }, () => toHex(random(32))));
    await expectCodeAsync(() => call(others), "ATLS_HOST_DATA_NOT_ALLOWED", "policy");
    await expectCodeAsync(() => call(others), "ATLS_HOST_DATA_NOT_ALLOWED", "policy");
    // A caller that edits its array between calls gets each call judged on the array as it is.
    const edited = [toHex(POLICY_HASH)];
    expect((await call(edited)).platform).toBe("sim");
    edited[0] = toHex(random(32));
    await expectCodeAsync(() => call(edited), "ATLS_HOST_DATA_NOT_ALLOWED", "policy");
    edited.push(toHex(POLICY_HASH).toUpperCase());
    expect((await call(edited)).platform).toBe("sim");
  });

  it("refuses a simulated chain that the reference values do not name", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    await expectCodeAsync(
      () => verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: rv("00".repeat(32)), now }),
      "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED",
      "crypto",
    );
  });

  it("never takes simulated evidence on the hardware path: with only snp entries it is judged against AMD's roots", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    const snpOnly = { snp: [simReferenceValues(authority().arkKeyDigest)] };
    const thrown = await verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: snpOnly, now }).then(
      () => undefined,
      (e: unknown) => e as { code: string; kind: string },
    );
    expect(thrown?.kind).toBe("crypto");
  });

  it("refuses evidence that matches no reference values entry (wrong measurement) as a policy failure", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    const entry = { ...simReferenceValues(authority().arkKeyDigest), TrustedMeasurement: "ab".repeat(48) };
    const thrown = await verifyEvidence({
      oid: SNP_OID,
      evidence,
      reportData: rd,
      referenceValues: { sim: [entry] },
      now,
    }).then(
      () => undefined,
      (e: unknown) => e as { code: string; kind: string },
    );
    expect(thrown?.code).toMatch(/^ATTESTATION_/);
    expect(thrown?.kind).toBe("policy");
  });

  it("refuses tampered evidence: a flipped bit in the report or signature", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    // Find the report_data bytes inside the document and flip one of them: the signature breaks.
    const at = Buffer.from(evidence).indexOf(Buffer.from(rd));
    expect(at).toBeGreaterThan(0);
    const tampered = Uint8Array.from(evidence);
    tampered[at + 5] = (tampered[at + 5] as number) ^ 1;
    const flipped = Uint8Array.from(rd);
    flipped[5] = (flipped[5] as number) ^ 1;
    const thrown = await verifyEvidence({
      oid: SNP_OID,
      evidence: tampered,
      reportData: flipped,
      referenceValues: rv(),
      now,
    }).then(
      () => undefined,
      (e: unknown) => e as { code: string; kind: string },
    );
    expect(thrown?.code).toBe("SNP_SIGNATURE_INVALID");
    expect(thrown?.kind).toBe("crypto");
  });

  it("refuses evidence signed by another simulated TEE presenting the trusted chain", async () => {
    // A second "chip" signs the report, but the document claims the trusted authority's chain.
    const other = createSimulatedAuthority({ clock: fixedClock(now), rsaModulusLength: 2048 });
    const rd = random(64);
    const forged = await simIssuer(other, { measurement: MEASUREMENT, hostData: POLICY_HASH }).issue(rd);
    const { decodeSnpEvidence, encodeSnpEvidence } = await import("@contrast/attestation");
    const doc = decodeSnpEvidence(forged);
    const a = authority();
    const mixed = encodeSnpEvidence({
      ...doc,
      vcek: a.vcek,
      ask: new Uint8Array(a.roots.ask.raw),
      ark: new Uint8Array(a.roots.ark.raw),
    });
    const thrown = await verifyEvidence({
      oid: SNP_OID,
      evidence: mixed,
      reportData: rd,
      referenceValues: rv(),
      now,
    }).then(
      () => undefined,
      (e: unknown) => e as { code: string; kind: string },
    );
    expect(thrown?.kind).toBe("crypto");
  });

  it("checks the CRL a simulated document carries: a revoked ASK is refused", async () => {
    const { fixedClock: at } = await import("@contrast/core");
    const rd = random(64);
    const withCrl = await simIssuer(authority(), {
      measurement: MEASUREMENT,
      hostData: POLICY_HASH,
      clock: at(now),
    }).issue(rd);
    expect(
      (await verifyEvidence({ oid: SNP_OID, evidence: withCrl, reportData: rd, referenceValues: rv(), now })).platform,
    ).toBe("sim");
    const { decodeSnpEvidence, encodeSnpEvidence } = await import("@contrast/attestation");
    const revoked = encodeSnpEvidence({
      ...decodeSnpEvidence(withCrl),
      crl: authority().crl({ now, revokeAsk: true }),
    });
    await expectCodeAsync(
      () => verifyEvidence({ oid: SNP_OID, evidence: revoked, reportData: rd, referenceValues: rv(), now }),
      "SNP_CERT_REVOKED",
      "crypto",
    );
  });

  it("refuses unknown evidence types, and platforms without reference values", async () => {
    const rd = random(64);
    const evidence = await issuer().issue(rd);
    await expectCodeAsync(
      () => verifyEvidence({ oid: "1.3.9901.2.3", evidence, reportData: rd, referenceValues: rv(), now }),
      "ATLS_EVIDENCE_TYPE_UNSUPPORTED",
    );
    await expectCodeAsync(
      () => verifyEvidence({ oid: SNP_OID, evidence, reportData: rd, referenceValues: {}, now }),
      "ATLS_NO_REFERENCE_VALUES",
      "policy",
    );
    await expectCodeAsync(
      () => verifyEvidence({ oid: "1.3.9901.2.2", evidence, reportData: rd, referenceValues: rv(), now }),
      "ATLS_NO_REFERENCE_VALUES",
    );
  });
});
