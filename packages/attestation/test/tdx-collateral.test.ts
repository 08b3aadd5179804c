import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testdataPath } from "@contrast/testkit";
import { parseCrl } from "@contrast/x509";
import { describe, expect, it } from "vitest";
import { verifyCrl } from "../src/crl.js";
import { AttestationPolicyError, EvidenceError } from "../src/errors.js";
import { collateralFromDcapQvl, parsePcsResponse, type TdxCollateral } from "../src/tdx/collateral-documents.js";
import { parsePckExtension } from "../src/tdx/pck.js";
import { evaluateTdxTcb } from "../src/tdx/tcb-evaluation.js";
import { TCB_STATUSES, type TcbStatus } from "../src/tdx/tcb-status.js";
import { verifyTdxQuote } from "../src/tdx/verify.js";
import { verifyTdxCollateral } from "../src/tdx/verify-collateral.js";

const TDX_DIR = testdataPath("attestation/tdx");
const text = (f: string) => readFileSync(join(TDX_DIR, f), "utf8");
const bin = (f: string) => new Uint8Array(readFileSync(join(TDX_DIR, f)));
const ALL: TcbStatus[] = [...TCB_STATUSES];

const gtg = (): TdxCollateral => ({
  tcbInfo: parsePcsResponse(text("gtg-tcbinfo-50806f000000.json"), "tcbInfo"),
  tcbInfoIssuerChain: text("gtg-tcb-signing-chain-2018.pem"),
  qeIdentity: parsePcsResponse(text("gtg-qeidentity.json"), "enclaveIdentity"),
  pckCrl: bin("gtg-pckcrl-platform.der"),
  rootCaCrl: bin("gtg-rootcrl.der"),
});
const trustee = (): TdxCollateral => ({
  tcbInfo: parsePcsResponse(text("trustee-tcbinfo-00a06d080000.json"), "tcbInfo"),
  tcbInfoIssuerChain: text("phala-tcb-signing-chain-2025.pem"),
  qeIdentity: parsePcsResponse(text("trustee-qeidentity.json"), "enclaveIdentity"),
});
const v90c06f = (): TdxCollateral => ({
  tcbInfo: parsePcsResponse(text("gtg-tcbinfo-90c06f000000.json"), "tcbInfo"),
  tcbInfoIssuerChain: text("phala-tcb-signing-chain-2025.pem"),
});

const tcbInfoJson = (c: TdxCollateral) => JSON.parse(c.tcbInfo.body);

function check(quote: string, collateral: TdxCollateral, now: string, accepted: TcbStatus[] = ALL, extra = {}) {
  const v = verifyTdxQuote({ quote: bin(quote), now: new Date(now) });
  return verifyTdxCollateral(v, collateral, { now: new Date(now), acceptedStatuses: accepted, ...extra });
}

function thrown(fn: () => unknown): EvidenceError | AttestationPolicyError {
  try {
    fn();
  } catch (e) {
    expect(e instanceof EvidenceError || e instanceof AttestationPolicyError).toBe(true);
    return e as EvidenceError;
  }
  throw new Error("expected a rejection");
}

describe("TDX collateral: the documented outcomes of every vector", () => {
  it("T1 with go-tdx-guest's collateral: signatures, CRLs and QE pass; no TCB level matches", () => {
    const e = thrown(() => check("gtg-quote-v4-spr.dat", gtg(), "2023-07-01T01:00:00Z"));
    expect(e).toBeInstanceOf(AttestationPolicyError);
    expect(e.code).toBe("TDX_TCB_NOT_SUPPORTED");
  });

  it("T2 (debug TD) with the same collateral: UpToDate", () => {
    const r = check("trustee-quote-v4-debugtd.dat", gtg(), "2023-07-01T01:00:00Z", ["UpToDate"]);
    expect(r).toMatchObject({
      status: "UpToDate",
      tcbLevel: 0,
      platformStatus: "UpToDate",
      moduleStatus: undefined,
      qeStatus: "UpToDate",
      tcbEvaluationDataNumber: 15,
    });
  });

  it("T3 with dcap-qvl's self-contained collateral: UpToDate, no advisories", () => {
    const r = check(
      "phala-quote-v4.dat",
      collateralFromDcapQvl(text("phala-quote-v4-collateral.json")),
      "2025-07-01T00:00:00Z",
      ["UpToDate"],
    );
    expect(r).toMatchObject({
      status: "UpToDate",
      tcbLevel: 0,
      moduleStatus: "UpToDate",
      qeStatus: "UpToDate",
      advisoryIds: [],
    });
    expect(r.pck).toMatchObject({ fmspc: "b0c06f000000", pceSvn: 11, sgxType: "Scalable" });
  });

  it("T4 (v5): collateral verifies, but no TCB level matches", () => {
    const e = thrown(() =>
      check(
        "phala-quote-v5-notcblevel.dat",
        collateralFromDcapQvl(text("phala-quote-v5-notcblevel-collateral.json")),
        "2026-03-01T00:00:00Z",
      ),
    );
    expect(e.code).toBe("TDX_TCB_NOT_SUPPORTED");
  });

  it("T5 (v5, module identity TDX_01): UpToDate for TEE_TCB_SVN and TEE_TCB_SVN_2", () => {
    // No QE identity or CRLs were published with this vector: the TCB evaluation alone.
    const v = verifyTdxQuote({ quote: bin("gtg-quote-v5.dat"), now: new Date("2026-02-03T01:00:00Z") });
    expect(evaluateTdxTcb(v, tcbInfoJson(v90c06f()))).toMatchObject({
      status: "UpToDate",
      tcbLevel: 0,
      moduleStatus: "UpToDate",
      currentStatus: "UpToDate",
    });
  });

  it("T6: Intel's OutOfDate (platform level 1), not go-tdx-guest's UpToDate; rejected by default", () => {
    expect(
      check("trustee-quote-v4-00a06d080000.dat", trustee(), "2025-11-01T00:00:00Z", ALL, { revocation: "if-present" }),
    ).toMatchObject({
      status: "OutOfDate",
      tcbLevel: 1,
      platformStatus: "OutOfDate",
      moduleStatus: "UpToDate",
      qeStatus: "UpToDate",
    });
    const e = thrown(() =>
      check("trustee-quote-v4-00a06d080000.dat", trustee(), "2025-11-01T00:00:00Z", ["UpToDate"], {
        revocation: "if-present",
      }),
    );
    expect(e).toBeInstanceOf(AttestationPolicyError);
    expect(e.code).toBe("TDX_TCB_STATUS_NOT_ACCEPTED");
  });

  it("T6's PCK: ScalableWithIntegrity, dynamic platform, SMT, and a platform instance ID", () => {
    const v = verifyTdxQuote({
      quote: bin("trustee-quote-v4-00a06d080000.dat"),
      now: new Date("2025-11-01T00:00:00Z"),
    });
    const pck = parsePckExtension(v.pck);
    expect(pck).toMatchObject({
      fmspc: "00a06d080000",
      pceSvn: 11,
      sgxType: "ScalableWithIntegrity",
      configuration: { dynamicPlatform: true, cachedKeys: false, smtEnabled: true },
    });
    expect(pck.tcbComponents.slice(0, 8)).toEqual([2, 2, 7, 7, 4, 1, 0, 2]);
    expect(Buffer.from(pck.platformInstanceId as Uint8Array).toString("hex")).toBe("02eaf5ba6b16c479d53c39d74a1e1999");
  });

  it("T7 against the 90c06f TCB info: no TCB level matches", () => {
    const v = verifyTdxQuote({ quote: bin("trustee-quote-v5.dat"), now: new Date("2026-02-03T01:00:00Z") });
    expect(thrown(() => evaluateTdxTcb(v, tcbInfoJson(v90c06f()))).code).toBe("TDX_TCB_NOT_SUPPORTED");
  });
});

describe("TDX collateral: tampering and staleness", () => {
  it("rejects a TCB info whose signed bytes were changed", () => {
    const c = gtg();
    c.tcbInfo = { ...c.tcbInfo, body: c.tcbInfo.body.replace('"pcesvn":11', '"pcesvn":10') };
    const e = thrown(() => check("trustee-quote-v4-debugtd.dat", c, "2023-07-01T01:00:00Z"));
    expect(e).toBeInstanceOf(EvidenceError);
    expect(e.code).toBe("TDX_COLLATERAL_SIGNATURE_INVALID");
  });

  it("rejects collateral past its nextUpdate, and the 2018 signing certificate after it expired", () => {
    expect(thrown(() => check("trustee-quote-v4-debugtd.dat", gtg(), "2023-07-20T00:00:00Z")).code).toMatch(
      /NOT_VALID_AT_TIME$/,
    );
    const old = { ...trustee(), tcbInfoIssuerChain: text("gtg-tcb-signing-chain-2018.pem") };
    expect(
      thrown(() =>
        check("trustee-quote-v4-00a06d080000.dat", old, "2025-11-01T00:00:00Z", ALL, { revocation: "if-present" }),
      ).code,
    ).toBe("TDX_COLLATERAL_NOT_VALID_AT_TIME");
  });

  it("rejects TCB info for another platform", () => {
    const e = thrown(() =>
      check(
        "trustee-quote-v4-debugtd.dat",
        collateralFromDcapQvl(text("phala-quote-v4-collateral.json")),
        "2025-07-01T00:00:00Z",
      ),
    );
    expect(e.code).toBe("TDX_FMSPC_MISMATCH");
  });

  it("enforces a minimum TCB evaluation data number", () => {
    const c = collateralFromDcapQvl(text("phala-quote-v4-collateral.json"));
    expect(
      thrown(() => check("phala-quote-v4.dat", c, "2025-07-01T00:00:00Z", ALL, { minTcbEvaluationDataNumber: 18 }))
        .code,
    ).toBe("TDX_TCB_EVALUATION_TOO_OLD");
  });

  it("reads and checks Intel's CRLs", () => {
    const pckCrl = parseCrl(bin("gtg-pckcrl-platform.der"));
    expect(pckCrl.revoked.size).toBe(44);
    const v = verifyTdxQuote({ quote: bin("gtg-quote-v4-spr.dat"), now: new Date("2023-07-01T01:00:00Z") });
    expect(() => verifyCrl(pckCrl, v.pckIntermediate, new Date("2023-07-01T01:00:00Z"), "PCK CRL")).not.toThrow();
    expect(thrown(() => verifyCrl(pckCrl, v.pckIntermediate, new Date("2023-08-01T00:00:00Z"), "PCK CRL")).code).toBe(
      "CRL_NOT_VALID_AT_TIME",
    );
    const tampered = bin("gtg-pckcrl-platform.der");
    tampered[200] = (tampered[200] as number) ^ 1;
    expect(
      thrown(() => verifyCrl(parseCrl(tampered), v.pckIntermediate, new Date("2023-07-01T01:00:00Z"), "PCK CRL")).code,
    ).toBe("CRL_INVALID");
  });

  it("refuses documents that are not PCS responses", () => {
    expect(thrown(() => parsePcsResponse('{"tcbInfo":{}}', "tcbInfo")).code).toBe("TDX_COLLATERAL_INVALID");
    expect(thrown(() => parsePcsResponse(text("gtg-qeidentity.json"), "tcbInfo")).code).toBe("TDX_COLLATERAL_INVALID");
  });
});
