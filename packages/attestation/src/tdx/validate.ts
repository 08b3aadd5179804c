import { bytesEqual, toHex } from "@contrast/core";
import { acceptAny, type Mismatch } from "../accept-any.js";
import { parsePckExtension } from "./pck.js";
import { INTEL_QE_VENDOR_ID } from "./quote.js";
import type { TdxTcbEvaluation } from "./tcb-evaluation.js";
import type { VerifiedTdxQuote } from "./verify.js";

/** Contrast requires exactly SEPT_VE_DISABLE: no debug, no migration, no PKS, no KL, no PERFMON. */
export const CONTRAST_TD_ATTRIBUTES = "0000001000000000";

/** One entry of a manifest's TDX reference values plus per-connection values, as plain data. */
export interface TdxExpectations {
  mrTd: Uint8Array;
  rtmrs: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  /** Empty means "not yet filled in" and is refused. */
  mrSeam: Uint8Array;
  xfam: Uint8Array;
  /** Default: Contrast's 0x10000000 (SEPT_VE_DISABLE only). */
  tdAttributes?: Uint8Array;
  minimumQeSvn: number;
  minimumPceSvn: number;
  /** 16 bytes, compared byte by byte with TEE_TCB_SVN. */
  minimumTeeTcbSvn: Uint8Array;
  reportData?: Uint8Array;
  /** The policy hash: MRCONFIGID must be this ‖ 16 zero bytes. */
  hostData?: Uint8Array;
  /** Newer manifests' MinTCBEvaluationDataNumber: needs the collateral's evaluation (`tcb`). */
  minTcbEvaluationDataNumber?: number;
  /** Newer manifests' AllowedPIIDs (16 bytes each): the PCK's platform instance ID must be one. */
  allowedPiids?: readonly Uint8Array[];
}

export type TdxMismatchCode =
  | "ATTESTATION_MEASUREMENT_MISMATCH"
  | "ATTESTATION_REPORT_DATA_MISMATCH"
  | "ATTESTATION_HOST_DATA_MISMATCH"
  | "ATTESTATION_TD_ATTRIBUTES_MISMATCH"
  | "ATTESTATION_TCB_TOO_LOW"
  | "ATTESTATION_QE_VENDOR_MISMATCH"
  | "ATTESTATION_PIID_NOT_ALLOWED";

export type TdxMismatch = Mismatch<TdxMismatchCode>;

/** TDATTRIBUTES bit 0: the host can read and write the TD's memory and registers. */
const TD_DEBUG = 0x01;

/**
 * Every way in which a verified quote differs from the expectations (empty: it matches). `tcb` is
 * the collateral's evaluation, which the collateral-dependent expectations need.
 */
export function tdxMismatches(
  v: VerifiedTdxQuote,
  e: TdxExpectations,
  pceSvn: number,
  tcb?: TdxTcbEvaluation,
): TdxMismatch[] {
  const out: TdxMismatch[] = [];
  const q = v.quote;
  const b = q.body;
  const eq = (code: TdxMismatchCode, field: string, expected: Uint8Array | undefined, actual: Uint8Array) => {
    if (expected !== undefined && !bytesEqual(expected, actual))
      out.push({ code, field, expected: toHex(expected), actual: toHex(actual) });
  };
  if (toHex(q.qeVendorId) !== INTEL_QE_VENDOR_ID) {
    out.push({
      code: "ATTESTATION_QE_VENDOR_MISMATCH",
      field: "QE_VENDOR_ID",
      expected: INTEL_QE_VENDOR_ID,
      actual: toHex(q.qeVendorId),
    });
  }
  eq("ATTESTATION_MEASUREMENT_MISMATCH", "MRTD", e.mrTd, b.mrTd);
  for (const [i, r] of e.rtmrs.entries())
    eq("ATTESTATION_MEASUREMENT_MISMATCH", `RTMR${i}`, r, b.rtmrs[i] as Uint8Array);
  if (e.mrSeam.length === 0) {
    out.push({
      code: "ATTESTATION_MEASUREMENT_MISMATCH",
      field: "MRSEAM",
      expected: "(not filled in)",
      actual: toHex(b.mrSeam),
    });
  } else eq("ATTESTATION_MEASUREMENT_MISMATCH", "MRSEAM", e.mrSeam, b.mrSeam);
  eq("ATTESTATION_MEASUREMENT_MISMATCH", "XFAM", e.xfam, b.xfam);
  eq(
    "ATTESTATION_TD_ATTRIBUTES_MISMATCH",
    "TDATTRIBUTES",
    e.tdAttributes ?? Buffer.from(CONTRAST_TD_ATTRIBUTES, "hex"),
    b.tdAttributes,
  );
  // Refused whatever the expectations say: a debug TD proves nothing about its contents.
  if (((b.tdAttributes[0] as number) & TD_DEBUG) !== 0) {
    out.push({
      code: "ATTESTATION_TD_ATTRIBUTES_MISMATCH",
      field: "TDATTRIBUTES.DEBUG",
      expected: "0 (a debug TD is never accepted)",
      actual: "1",
    });
  }
  // TD 1.5: a service TD (e.g. a migration TD) bound to this TD can export its state. Contrast
  // binds none, so MRSERVICETD must be zero.
  if (b.mrServiceTd?.some((x) => x !== 0)) {
    out.push({
      code: "ATTESTATION_MEASUREMENT_MISMATCH",
      field: "MRSERVICETD",
      expected: "zero (no service TD bound)",
      actual: toHex(b.mrServiceTd),
    });
  }
  eq("ATTESTATION_REPORT_DATA_MISMATCH", "REPORTDATA", e.reportData, b.reportData);
  if (e.hostData !== undefined) {
    const expected = new Uint8Array(48);
    expected.set(e.hostData, 0);
    eq("ATTESTATION_HOST_DATA_MISMATCH", "MRCONFIGID", expected, b.mrConfigId);
  }
  if (q.qeReport.isvSvn < e.minimumQeSvn) {
    out.push({
      code: "ATTESTATION_TCB_TOO_LOW",
      field: "QE_SVN",
      expected: `>= ${e.minimumQeSvn}`,
      actual: String(q.qeReport.isvSvn),
    });
  }
  if (pceSvn < e.minimumPceSvn)
    out.push({
      code: "ATTESTATION_TCB_TOO_LOW",
      field: "PCE_SVN",
      expected: `>= ${e.minimumPceSvn}`,
      actual: String(pceSvn),
    });
  // TD 1.5 carries the module running now in TEE_TCB_SVN_2 (after TD-preserving updates); both
  // it and the launch-time module must meet the minimum.
  for (const [field, svn] of [
    ["TEE_TCB_SVN", b.teeTcbSvn],
    ["TEE_TCB_SVN_2", b.teeTcbSvn2],
  ] as const) {
    if (svn !== undefined && !svn.every((x, i) => x >= (e.minimumTeeTcbSvn[i] ?? 0))) {
      out.push({
        code: "ATTESTATION_TCB_TOO_LOW",
        field,
        expected: `>= ${toHex(e.minimumTeeTcbSvn)} (each byte)`,
        actual: toHex(svn),
      });
    }
  }
  if (e.minTcbEvaluationDataNumber !== undefined && e.minTcbEvaluationDataNumber > 0) {
    const actual = tcb?.tcbEvaluationDataNumber;
    if (actual === undefined || actual < e.minTcbEvaluationDataNumber) {
      out.push({
        code: "ATTESTATION_TCB_TOO_LOW",
        field: "TCB_EVALUATION_DATA_NUMBER",
        expected: `>= ${e.minTcbEvaluationDataNumber}`,
        actual: actual === undefined ? "(no collateral checked)" : String(actual),
      });
    }
  }
  if (e.allowedPiids !== undefined && e.allowedPiids.length > 0) {
    // Only PCK certificates of the Platform CA carry a PIID; a Processor CA's cannot match.
    const piid = (tcb?.pck ?? parsePckExtension(v.pck)).platformInstanceId;
    if (piid === undefined || !e.allowedPiids.some((a) => bytesEqual(a, piid))) {
      out.push({
        code: "ATTESTATION_PIID_NOT_ALLOWED",
        field: "PIID",
        expected: `one of ${e.allowedPiids.map(toHex).join(", ")}`,
        actual: piid === undefined ? "(none: not a Platform CA PCK certificate)" : toHex(piid),
      });
    }
  }
  return out;
}

/** Accepts if any entry matches; otherwise a AttestationPolicyError lists, per entry, every mismatch. */
export function validateTdxQuote(
  v: VerifiedTdxQuote,
  entries: readonly TdxExpectations[],
  pceSvn: number,
  tcb?: TdxTcbEvaluation,
): number {
  return acceptAny(entries, (e) => tdxMismatches(v, e, pceSvn, tcb), { evidence: "quote", tee: "TDX" });
}
