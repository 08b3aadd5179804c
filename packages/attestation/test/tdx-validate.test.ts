import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { AttestationPolicyError } from "../src/errors.js";
import { parsePckExtension } from "../src/tdx/pck.js";
import { type TdxExpectations, tdxMismatches, validateTdxQuote } from "../src/tdx/validate.js";
import { verifyTdxQuote } from "../src/tdx/verify.js";

const TDX_DIR = testdataPath("attestation/tdx");
const verified = (f: string, now: string) =>
  verifyTdxQuote({ quote: new Uint8Array(readFileSync(join(TDX_DIR, f))), now: new Date(now) });

/** Expectations taken from a quote itself, so that one field at a time can be changed. */
function own(f: string, now: string): { v: ReturnType<typeof verified>; e: TdxExpectations; pceSvn: number } {
  const v = verified(f, now);
  const b = v.quote.body;
  return {
    v,
    pceSvn: parsePckExtension(v.pck).pceSvn,
    e: {
      mrTd: b.mrTd,
      rtmrs: [...b.rtmrs] as unknown as TdxExpectations["rtmrs"],
      mrSeam: b.mrSeam,
      xfam: b.xfam,
      minimumQeSvn: v.quote.qeReport.isvSvn,
      minimumPceSvn: 11,
      minimumTeeTcbSvn: b.teeTcbSvn,
      reportData: b.reportData,
    },
  };
}

describe("TDX validation against reference values (Contrast's checks)", () => {
  it("T3 matches its own values with Contrast's TDATTRIBUTES", () => {
    const { v, e, pceSvn } = own("phala-quote-v4.dat", "2025-07-01T00:00:00Z");
    expect(validateTdxQuote(v, [e], pceSvn)).toBe(0);
  });

  it.each([
    ["T2 debug TD", "trustee-quote-v4-debugtd.dat", "2023-07-01T01:00:00Z", "0100001000000000"],
    ["T1 SPR (PKS, no SEPT_VE_DISABLE)", "gtg-quote-v4-spr.dat", "2023-07-01T01:00:00Z", "0000004000000000"],
    ["T8 Azure (no SEPT_VE_DISABLE)", "trustee-azure-quote-v4.dat", "2025-01-01T00:00:00Z", "0000000000000000"],
  ])("%s fails the TDATTRIBUTES check although its signatures verify", (_, f, now, actual) => {
    const { v, e, pceSvn } = own(f, now);
    expect(tdxMismatches(v, e, pceSvn)[0]).toEqual({
      code: "ATTESTATION_TD_ATTRIBUTES_MISMATCH",
      field: "TDATTRIBUTES",
      expected: "0000001000000000",
      actual,
    });
  });

  it("T6: MRCONFIGID must be the policy hash followed by 16 zero bytes", () => {
    const { v, e, pceSvn } = own("trustee-quote-v4-00a06d080000.dat", "2025-11-01T00:00:00Z");
    const m = tdxMismatches(
      v,
      { ...e, hostData: fromHex("889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca931") },
      pceSvn,
    );
    // The quote's last 16 bytes of MRCONFIGID are not zero, so even the right hash is refused.
    expect(m.map((x) => x.field)).toEqual(["MRCONFIGID"]);
  });

  it("reports each measurement, TCB and data mismatch with expected and actual values", () => {
    const { v, e, pceSvn } = own("phala-quote-v4.dat", "2025-07-01T00:00:00Z");
    const m = tdxMismatches(
      v,
      {
        ...e,
        mrTd: new Uint8Array(48),
        rtmrs: [e.rtmrs[0], new Uint8Array(48), e.rtmrs[2], e.rtmrs[3]],
        mrSeam: new Uint8Array(),
        minimumQeSvn: 9,
        minimumPceSvn: 12,
        minimumTeeTcbSvn: fromHex("07010300000000000000000000000000"),
        reportData: new Uint8Array(64),
      },
      pceSvn,
    );
    expect(m.map((x) => `${x.code} ${x.field}`)).toEqual([
      "ATTESTATION_MEASUREMENT_MISMATCH MRTD",
      "ATTESTATION_MEASUREMENT_MISMATCH RTMR1",
      "ATTESTATION_MEASUREMENT_MISMATCH MRSEAM",
      "ATTESTATION_REPORT_DATA_MISMATCH REPORTDATA",
      "ATTESTATION_TCB_TOO_LOW QE_SVN",
      "ATTESTATION_TCB_TOO_LOW PCE_SVN",
      "ATTESTATION_TCB_TOO_LOW TEE_TCB_SVN",
    ]);
    let err: unknown;
    try {
      validateTdxQuote(
        v,
        [
          { ...e, mrTd: new Uint8Array(48) },
          { ...e, xfam: new Uint8Array(8) },
        ],
        pceSvn,
      );
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(AttestationPolicyError);
    expect((err as AttestationPolicyError).code).toBe("ATTESTATION_NO_MATCHING_REFERENCE_VALUES");
  });
});
