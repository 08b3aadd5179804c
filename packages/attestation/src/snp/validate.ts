import { bytesEqual, toHex } from "@contrast/core";
import { acceptAny, type Mismatch as GenericMismatch } from "../accept-any.js";
import { contrastIdBlock, encodeGuestPolicy } from "./id-block.js";
import { decodeGuestPolicy, type SnpGuestPolicyBits, type TcbParts, tcbToString } from "./report.js";
import type { VerifiedSnpReport } from "./verify.js";

/**
 * What a genuine report must show to be accepted: one entry of a manifest's reference values
 * plus the per-connection values (report data, host data). Plain data, so that this package
 * does not depend on the manifest package; callers translate.
 */
export interface SnpExpectations {
  /** 48-byte launch measurement. */
  measurement: Uint8Array;
  /** Component-wise minimum for COMMITTED_TCB and LAUNCH_TCB. */
  minimumTcb: TcbParts;
  /**
   * Required guest policy. `smt`, `migrateMa`, `debug`, `cxlAllowed`: set = allowed. The other
   * flags: set = required. ABI version: the report's must be at least this.
   */
  guestPolicy: SnpGuestPolicyBits;
  /** Chip IDs (64 bytes each) allowed to run the workload; empty or absent means any. */
  allowedChipIds?: readonly Uint8Array[];
  /** Expected REPORT_DATA, e.g. the aTLS binding. */
  reportData?: Uint8Array;
  /** Expected HOST_DATA, e.g. the Coordinator's policy hash. */
  hostData?: Uint8Array;
  /** Required VMPL; Contrast requires 0. */
  vmpl?: number;
  /**
   * Required ID_KEY_DIGEST: the guest must have been launched with this ID key's block. For
   * Contrast's deterministic ID block, `contrastIdKeyDigest(measurement, guestPolicy)`.
   */
  idKeyDigest?: Uint8Array;
}

/**
 * The ID_KEY_DIGEST of a guest launched by a Contrast runtime with this launch digest and
 * exactly this guest policy (see id-block.ts).
 */
export function contrastIdKeyDigest(measurement: Uint8Array, guestPolicy: SnpGuestPolicyBits): Uint8Array {
  return contrastIdBlock({ launchDigest: measurement, policy: encodeGuestPolicy(guestPolicy) }).idKeyDigest;
}

export type SnpMismatchCode =
  | "ATTESTATION_MEASUREMENT_MISMATCH"
  | "ATTESTATION_REPORT_DATA_MISMATCH"
  | "ATTESTATION_HOST_DATA_MISMATCH"
  | "ATTESTATION_GUEST_POLICY_MISMATCH"
  | "ATTESTATION_VMPL_MISMATCH"
  | "ATTESTATION_TCB_TOO_LOW"
  | "ATTESTATION_FIRMWARE_INCONSISTENT"
  | "ATTESTATION_CHIP_ID_NOT_ALLOWED"
  | "ATTESTATION_ID_KEY_MISMATCH";

export type Mismatch = GenericMismatch<SnpMismatchCode>;

function tcbAtLeast(actual: TcbParts, minimum: TcbParts): boolean {
  return (
    actual.bootloader >= minimum.bootloader &&
    actual.tee >= minimum.tee &&
    actual.snp >= minimum.snp &&
    actual.microcode >= minimum.microcode &&
    (actual.fmc ?? 0) >= (minimum.fmc ?? 0)
  );
}

/** Every way in which a verified report differs from the expectations (empty: it matches). */
export function snpMismatches(v: VerifiedSnpReport, e: SnpExpectations): Mismatch[] {
  const out: Mismatch[] = [];
  const r = v.report;
  const bytes = (code: SnpMismatchCode, field: string, expected: Uint8Array | undefined, actual: Uint8Array) => {
    if (expected !== undefined && !bytesEqual(expected, actual))
      out.push({ code, field, expected: toHex(expected), actual: toHex(actual) });
  };
  bytes("ATTESTATION_MEASUREMENT_MISMATCH", "MEASUREMENT", e.measurement, r.measurement);
  bytes("ATTESTATION_REPORT_DATA_MISMATCH", "REPORT_DATA", e.reportData, r.reportData);
  bytes("ATTESTATION_HOST_DATA_MISMATCH", "HOST_DATA", e.hostData, r.hostData);
  bytes("ATTESTATION_ID_KEY_MISMATCH", "ID_KEY_DIGEST", e.idKeyDigest, r.idKeyDigest);

  const vmpl = e.vmpl ?? 0;
  if (r.vmpl !== vmpl)
    out.push({ code: "ATTESTATION_VMPL_MISMATCH", field: "VMPL", expected: String(vmpl), actual: String(r.vmpl) });

  const p = decodeGuestPolicy(r.policy);
  const g = e.guestPolicy;
  const policy = (field: string, ok: boolean, expected: string, actual: string) => {
    if (!ok) out.push({ code: "ATTESTATION_GUEST_POLICY_MISMATCH", field: `POLICY.${field}`, expected, actual });
  };
  const abi = (x: { abiMajor: number; abiMinor: number }) => x.abiMajor * 256 + x.abiMinor;
  policy("ABI", abi(p) >= abi(g), `>= ${g.abiMajor}.${g.abiMinor}`, `${p.abiMajor}.${p.abiMinor}`);
  // Permissions: the report may not allow more than expected.
  for (const f of ["smt", "migrateMa", "debug", "cxlAllowed"] as const) {
    policy(f, !p[f] || g[f], g[f] ? "allowed" : "not allowed", p[f] ? "allowed" : "not allowed");
  }
  // Requirements: what is required must be set.
  for (const f of ["singleSocket", "memAes256Xts", "raplDis", "ciphertextHidingDram", "pageSwapDisable"] as const) {
    policy(f, p[f] || !g[f], g[f] ? "set" : "any", p[f] ? "set" : "clear");
  }

  for (const [field, tcb] of [
    ["COMMITTED_TCB", v.committedTcb],
    ["LAUNCH_TCB", v.launchTcb],
  ] as const) {
    if (!tcbAtLeast(tcb, e.minimumTcb)) {
      out.push({
        code: "ATTESTATION_TCB_TOO_LOW",
        field,
        expected: `>= ${tcbToString(e.minimumTcb)}`,
        actual: tcbToString(tcb),
      });
    }
  }
  // Provisional firmware is permitted, but what is committed cannot exceed what runs.
  if (!tcbAtLeast(v.currentTcb, v.committedTcb)) {
    out.push({
      code: "ATTESTATION_FIRMWARE_INCONSISTENT",
      field: "COMMITTED_TCB",
      expected: `<= CURRENT_TCB (${tcbToString(v.currentTcb)})`,
      actual: tcbToString(v.committedTcb),
    });
  }

  if (
    e.allowedChipIds !== undefined &&
    e.allowedChipIds.length > 0 &&
    !e.allowedChipIds.some((id) => bytesEqual(id, r.chipId))
  ) {
    out.push({
      code: "ATTESTATION_CHIP_ID_NOT_ALLOWED",
      field: "CHIP_ID",
      expected: `one of ${e.allowedChipIds.map((id) => `${toHex(id).slice(0, 16)}…`).join(", ")}`,
      actual: toHex(r.chipId),
    });
  }
  return out;
}

/**
 * Accepts the report if it matches any of the entries ("accept if any entry matches", as the
 * manifest's reference values are meant). Returns the index of the first match; otherwise throws
 * a PolicyError whose details list, per entry, every field that did not match.
 */
export function validateSnpReport(v: VerifiedSnpReport, entries: readonly SnpExpectations[]): number {
  return acceptAny(entries, (e) => snpMismatches(v, e), { evidence: "report", tee: "SNP" });
}
