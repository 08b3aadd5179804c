import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  collateralFromDcapQvl,
  encodeSnpEvidence,
  encodeTdxEvidence,
  parseSnpReport,
  parseTdxQuote,
  TCB_STATUSES,
  type VerifiedTdxQuote,
} from "@contrast/attestation";
import { toHex } from "@contrast/core";
import { simReferenceValues } from "@contrast/manifest";
import { expectCodeAsync, testdataPath } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { verifyEvidence } from "../src/index.js";
import { random } from "./helpers.js";

// Real evidence from public test suites (testdata/attestation/SOURCES.md): judged by the same
// verifyEvidence as simulated evidence, against AMD's and Intel's pinned roots.
const file = (p: string) => new Uint8Array(readFileSync(join(testdataPath("attestation"), p)));

describe("verifyEvidence with real SEV-SNP evidence (virtee's Milan report and VCEK)", () => {
  const report = file("snp/virtee-milan-report.bin");
  const evidence = encodeSnpEvidence({ report, vcek: file("snp/virtee-milan-vcek.der") });
  const parsed = parseSnpReport(report);
  const now = new Date("2024-01-01T00:00:00Z");
  const entry = { ...simReferenceValues("00".repeat(32)), ProductName: "Milan" };
  const { ArkKeyDigest: _, ...snpEntry } = entry;
  const snp = { snp: [snpEntry] };

  it("needs AMD's CRL unless unchecked revocation is accepted explicitly (ATLS_CRL_REQUIRED)", async () => {
    await expectCodeAsync(
      () => verifyEvidence({ oid: "1.3.9901.2.1", evidence, reportData: parsed.reportData, referenceValues: snp, now }),
      "ATLS_CRL_REQUIRED",
    );
  });

  it("asks the injected CRL getter for the product's CRL", async () => {
    const asked: string[] = [];
    await verifyEvidence({
      oid: "1.3.9901.2.1",
      evidence,
      reportData: parsed.reportData,
      referenceValues: snp,
      now,
      snpCrl: async (product, kind) => {
        asked.push(`${product}/${kind}`);
        return undefined;
      },
    }).catch(() => {});
    // The document names no product, so the getter cannot be asked; a document with one is.
    const withProduct = encodeSnpEvidence({
      report,
      vcek: file("snp/virtee-milan-vcek.der"),
      product: { name: "Milan" },
    });
    await verifyEvidence({
      oid: "1.3.9901.2.1",
      evidence: withProduct,
      reportData: parsed.reportData,
      referenceValues: snp,
      now,
      snpCrl: async (product, kind) => {
        asked.push(`${product}/${kind}`);
        return undefined;
      },
    }).catch(() => {});
    expect(asked).toEqual(["Milan/vcek"]);
  });

  it("checks the binding, then the policy hash, then the reference values, in that order", async () => {
    const base = { oid: "1.3.9901.2.1", evidence, referenceValues: snp, now, allowMissingCrl: true };
    await expectCodeAsync(
      () => verifyEvidence({ ...base, reportData: random(64) }),
      "ATLS_REPORT_DATA_MISMATCH",
      "crypto",
    );
    await expectCodeAsync(
      () => verifyEvidence({ ...base, reportData: parsed.reportData, allowedHostData: [toHex(random(32))] }),
      "ATLS_HOST_DATA_NOT_ALLOWED",
      "policy",
    );
    await expectCodeAsync(
      () => verifyEvidence({ ...base, reportData: parsed.reportData, allowedHostData: [toHex(parsed.hostData)] }),
      "ATTESTATION_MEASUREMENT_MISMATCH",
      "policy",
    );
  });

  it("hardware evidence is not taken as simulated when the verifier also trusts a simulated TEE", async () => {
    const both = { ...snp, sim: [entry] };
    await expectCodeAsync(
      () =>
        verifyEvidence({
          oid: "1.3.9901.2.1",
          evidence,
          reportData: parsed.reportData,
          referenceValues: both,
          now,
          allowMissingCrl: true,
        }),
      "ATTESTATION_MEASUREMENT_MISMATCH",
    );
  });
});

describe("verifyEvidence with a real TDX quote (trustee's, MRCONFIGID set)", () => {
  const quote = file("tdx/trustee-quote-v4-00a06d080000.dat");
  const evidence = encodeTdxEvidence({ quote });
  const body = parseTdxQuote(quote).body;
  const policyHash = toHex(body.mrConfigId.subarray(0, 32));
  const now = new Date("2025-11-01T00:00:00Z");
  const tdxEntry = {
    MrTd: toHex(body.mrTd),
    Rtrms: body.rtmrs.map(toHex) as [string, string, string, string],
    MinimumQeSvn: 0,
    MinimumPceSvn: 0,
    MinimumTeeTcbSvn: toHex(body.teeTcbSvn),
    MrSeam: toHex(body.mrSeam),
    TdAttributes: toHex(body.tdAttributes),
    Xfam: toHex(body.xfam),
  };
  const base = { oid: "1.3.9901.2.2", evidence, referenceValues: { tdx: [tdxEntry] }, now };

  it("checks the binding and MRCONFIGID as the policy hash before anything else", async () => {
    expect(policyHash).toBe("889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca931");
    await expectCodeAsync(() => verifyEvidence({ ...base, reportData: random(64) }), "ATLS_REPORT_DATA_MISMATCH");
    await expectCodeAsync(
      () => verifyEvidence({ ...base, reportData: body.reportData, allowedHostData: ["00".repeat(32)] }),
      "ATLS_HOST_DATA_NOT_ALLOWED",
    );
  });

  it("refuses an MRCONFIGID that is not a policy hash followed by 16 zero bytes, even if its prefix is allowed", async () => {
    expect(toHex(body.mrConfigId.subarray(32))).not.toBe("00".repeat(16));
    await expectCodeAsync(
      () => verifyEvidence({ ...base, reportData: body.reportData, allowedHostData: [policyHash] }),
      "ATLS_HOST_DATA_NOT_ALLOWED",
    );
  });
});

describe("verifyEvidence with a real TDX quote (phala's, with Intel's collateral)", () => {
  const quote = file("tdx/phala-quote-v4.dat");
  const evidence = encodeTdxEvidence({ quote });
  const body = parseTdxQuote(quote).body;
  const now = new Date("2025-07-01T00:00:00Z");
  const tdxEntry = {
    MrTd: toHex(body.mrTd),
    Rtrms: body.rtmrs.map(toHex) as [string, string, string, string],
    MinimumQeSvn: 0,
    MinimumPceSvn: 0,
    MinimumTeeTcbSvn: toHex(body.teeTcbSvn),
    MrSeam: toHex(body.mrSeam),
    TdAttributes: toHex(body.tdAttributes),
    Xfam: toHex(body.xfam),
  };
  const base = {
    oid: "1.3.9901.2.2",
    evidence,
    referenceValues: { tdx: [tdxEntry] },
    now,
    reportData: body.reportData,
  };

  it("judges reference values only with Intel's collateral, from the injected getter", async () => {
    await expectCodeAsync(() => verifyEvidence(base), "TDX_COLLATERAL_REQUIRED");
    const asked: VerifiedTdxQuote[] = [];
    await verifyEvidence({
      ...base,
      tdxCollateral: async (v) => {
        asked.push(v);
        throw new Error("no network here");
      },
    }).catch(() => {});
    expect(asked).toHaveLength(1);
    expect(toHex(asked[0]?.quote.body.reportData as Uint8Array)).toBe(toHex(body.reportData));
  });

  it("accepts the quote with its collateral, naming the platform and MRCONFIGID's policy hash", async () => {
    const collateral = collateralFromDcapQvl(
      readFileSync(join(testdataPath("attestation"), "tdx/phala-quote-v4-collateral.json"), "utf8"),
    );
    const v = await verifyEvidence({
      ...base,
      tdxCollateral: async () => collateral,
      acceptedTcbStatuses: TCB_STATUSES.filter((s) => s !== "Revoked"),
      allowedHostData: ["00".repeat(32)],
    });
    expect(v.platform).toBe("tdx");
    expect(toHex(v.hostData)).toBe("00".repeat(32));
    expect(v.tdxQuote?.quote.version).toBe(4);
  });
});
