import { bytesEqual, toHex } from "@contrast/core";
import { acceptAny, type Mismatch as GenericMismatch } from "../accept-any.js";
import { contrastIdBlock, encodeGuestPolicy } from "./id-block.js";
import {
  decodeGuestPolicy,
  decodePlatformInfo,
  type FirmwareVersion,
  PLATFORM_INFO_KNOWN_BITS,
  type SnpGuestPolicyBits,
  type SnpPlatformInfoBits,
  type SnpProduct,
  type TcbParts,
  tcbToString,
} from "./report.js";
import { tcbLe, type VerifiedSnpReport } from "./verify.js";

/**
 * What a genuine report must show to be accepted: one entry of a manifest's reference values
 * plus the per-connection values (report data, host data). Plain data, so that this package
 * does not depend on the manifest package; callers translate.
 */
export interface SnpExpectations {
  /** 48-byte launch measurement. */
  measurement: Uint8Array;
  /**
   * Component-wise minimum for REPORTED_TCB (the TCB the signing key belongs to), LAUNCH_TCB and
   * COMMITTED_TCB.
   */
  minimumTcb: TcbParts;
  /** The product line the entry is for (the manifest's ProductName); absent means any. */
  product?: SnpProduct;
  /**
   * What PLATFORM_INFO may show, as go-sev-guest's PlatformInfo option: SMT, TSME and TIO set =
   * allowed; ECC, RAPL disabled, ciphertext hiding and alias check set = required. Reserved bits
   * must be clear. Absent: PLATFORM_INFO is not judged (Contrast v1.5).
   */
  platformInfo?: SnpPlatformInfoBits;
  /** Bits that both LAUNCH_MIT_VECTOR and CURRENT_MIT_VECTOR must have (0 or absent: none). */
  minimumMitigationVector?: bigint;
  /** Minimum firmware of CURRENT_VERSION: API major.minor and, separately, build (as go-sev-guest). */
  minimumFirmware?: FirmwareVersion;
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
  | "ATTESTATION_FIRMWARE_TOO_OLD"
  | "ATTESTATION_PRODUCT_MISMATCH"
  | "ATTESTATION_PLATFORM_INFO_MISMATCH"
  | "ATTESTATION_MITIGATION_VECTOR_MISSING"
  | "ATTESTATION_CHIP_ID_NOT_ALLOWED"
  | "ATTESTATION_ID_KEY_MISMATCH";

export type Mismatch = GenericMismatch<SnpMismatchCode>;

const tcbAtLeast = (actual: TcbParts, minimum: TcbParts): boolean => tcbLe(minimum, actual);
const apiVersion = (major: number, minor: number) => major * 256 + minor;
const fw = (v: FirmwareVersion) => `${v.major}.${v.minor} build ${v.build}`;

/** Every way in which a verified report differs from the expectations (empty: it matches). */
export function snpMismatches(v: VerifiedSnpReport, e: SnpExpectations): Mismatch[] {
  const out: Mismatch[] = [];
  const r = v.report;
  if (e.product !== undefined && e.product !== v.product)
    out.push({ code: "ATTESTATION_PRODUCT_MISMATCH", field: "PRODUCT", expected: e.product, actual: v.product });
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

  // REPORTED_TCB is what the signing key was derived from: a report signed with an old
  // firmware's key may claim anything in the other fields (go-sev-guest: minimum <= reported,
  // minimum launch <= launch). COMMITTED_TCB is checked too: it is the floor the platform can be
  // rolled back to.
  for (const [field, tcb] of [
    ["REPORTED_TCB", v.reportedTcb],
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

  // Firmware versions, as go-sev-guest with PermitProvisionalFirmware (Contrast's setting):
  // committed build and API version each at most the current ones; minimums on the current.
  const cur = r.currentVersion;
  const com = r.committedVersion;
  if (com.build > cur.build) {
    out.push({
      code: "ATTESTATION_FIRMWARE_INCONSISTENT",
      field: "COMMITTED_BUILD",
      expected: `<= ${cur.build} (CURRENT_BUILD)`,
      actual: String(com.build),
    });
  }
  if (apiVersion(com.major, com.minor) > apiVersion(cur.major, cur.minor)) {
    out.push({
      code: "ATTESTATION_FIRMWARE_INCONSISTENT",
      field: "COMMITTED_VERSION",
      expected: `<= ${cur.major}.${cur.minor} (CURRENT_VERSION)`,
      actual: `${com.major}.${com.minor}`,
    });
  }
  const min = e.minimumFirmware;
  if (min !== undefined) {
    if (apiVersion(cur.major, cur.minor) < apiVersion(min.major, min.minor)) {
      out.push({
        code: "ATTESTATION_FIRMWARE_TOO_OLD",
        field: "CURRENT_VERSION",
        expected: `>= ${min.major}.${min.minor}`,
        actual: fw(cur),
      });
    }
    if (cur.build < min.build) {
      out.push({
        code: "ATTESTATION_FIRMWARE_TOO_OLD",
        field: "CURRENT_BUILD",
        expected: `>= ${min.build}`,
        actual: fw(cur),
      });
    }
  }

  if (e.platformInfo !== undefined) {
    const allowed = e.platformInfo;
    const unknown = r.platformInfo & ~PLATFORM_INFO_KNOWN_BITS;
    if (unknown !== 0n) {
      out.push({
        code: "ATTESTATION_PLATFORM_INFO_MISMATCH",
        field: "PLATFORM_INFO",
        expected: "no reserved bits",
        actual: `0x${r.platformInfo.toString(16)}`,
      });
    }
    const info = decodePlatformInfo(r.platformInfo);
    const flag = (f: keyof SnpPlatformInfoBits, ok: boolean, expected: string) => {
      if (!ok)
        out.push({
          code: "ATTESTATION_PLATFORM_INFO_MISMATCH",
          field: `PLATFORM_INFO.${f}`,
          expected,
          actual: info[f] ? "set" : "clear",
        });
    };
    // Features that weaken isolation: set in the report only if allowed.
    for (const f of ["smtEnabled", "tsmeEnabled", "tioEnabled"] as const) flag(f, !info[f] || allowed[f], "clear");
    // Protections: required ones must be set.
    for (const f of ["eccEnabled", "raplDisabled", "ciphertextHidingDramEnabled", "aliasCheckComplete"] as const)
      flag(f, info[f] || !allowed[f], "set");
  }

  const mit = e.minimumMitigationVector ?? 0n;
  if (mit !== 0n) {
    // Reports before version 5 have no mitigation vectors: they read as 0, as in go-sev-guest.
    for (const [field, vector] of [
      ["LAUNCH_MIT_VECTOR", r.launchMitVector ?? 0n],
      ["CURRENT_MIT_VECTOR", r.currentMitVector ?? 0n],
    ] as const) {
      if ((vector & mit) !== mit) {
        out.push({
          code: "ATTESTATION_MITIGATION_VECTOR_MISSING",
          field,
          expected: `all bits of 0x${mit.toString(16)}`,
          actual: `0x${vector.toString(16)}`,
        });
      }
    }
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
 * a AttestationPolicyError whose details list, per entry, every field that did not match.
 */
export function validateSnpReport(v: VerifiedSnpReport, entries: readonly SnpExpectations[]): number {
  return acceptAny(entries, (e) => snpMismatches(v, e), { evidence: "report", tee: "SNP" });
}
