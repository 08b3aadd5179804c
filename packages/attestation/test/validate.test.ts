import { fromHex } from "@contrast/core";
import { describe, expect, it } from "vitest";
import { AttestationPolicyError } from "../src/errors.js";
import { decodeGuestPolicy } from "../src/snp/report.js";
import { type SnpExpectations, snpMismatches, validateSnpReport } from "../src/snp/validate.js";
import { verifySnpReport } from "../src/snp/verify.js";
import { SNP_VECTORS, snpFile } from "./vectors.js";

const verified = (name: string) => {
  const v = SNP_VECTORS.find((x) => x.report === name);
  if (!v) throw new Error(name);
  return verifySnpReport({
    report: snpFile(v.report),
    endorsementKey: snpFile(v.key),
    now: new Date(v.now),
    product: v.product,
  });
};

/** Contrast's bare-metal expectations: SMT allowed, everything else off, ABI 0.0, VMPL 0. */
const contrastPolicy = { ...decodeGuestPolicy(0x30000n) };

function expectationsFor(name: string, overrides: Partial<SnpExpectations> = {}): SnpExpectations {
  const v = SNP_VECTORS.find((x) => x.report === name);
  if (!v) throw new Error(name);
  return {
    measurement: fromHex(v.measurement),
    minimumTcb: v.tcb,
    guestPolicy: contrastPolicy,
    ...overrides,
  };
}

function policyError(fn: () => unknown): AttestationPolicyError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationPolicyError);
    expect((e as AttestationPolicyError).kind).toBe("policy");
    return e as AttestationPolicyError;
  }
  throw new Error("expected a AttestationPolicyError");
}

describe("SNP validation against reference values", () => {
  it("accepts S2 with Contrast's bare-metal guest policy and its own measurement and TCB", () => {
    const v = verified("virtee-milan-report.bin");
    expect(validateSnpReport(v, [expectationsFor("virtee-milan-report.bin")])).toBe(0);
  });

  it("rejects S1's debug policy, naming expected and actual values", () => {
    const v = verified("gsg-milan-report.bin");
    const e = policyError(() => validateSnpReport(v, [expectationsFor("gsg-milan-report.bin")]));
    expect(e.code).toBe("ATTESTATION_GUEST_POLICY_MISMATCH");
    expect(e.details?.mismatches).toEqual([
      { code: "ATTESTATION_GUEST_POLICY_MISMATCH", field: "POLICY.debug", expected: "not allowed", actual: "allowed" },
    ]);
  });

  it("rejects S1 against another measurement and host data, listing every mismatch", () => {
    const v = verified("gsg-milan-report.bin");
    const m = snpMismatches(
      v,
      expectationsFor("gsg-milan-report.bin", {
        measurement: new Uint8Array(48).fill(1),
        hostData: new Uint8Array(32).fill(2),
      }),
    );
    expect(m.map((x) => x.code)).toEqual([
      "ATTESTATION_MEASUREMENT_MISMATCH",
      "ATTESTATION_HOST_DATA_MISMATCH",
      "ATTESTATION_GUEST_POLICY_MISMATCH",
    ]);
    expect(m[1]).toMatchObject({ field: "HOST_DATA", expected: "02".repeat(32), actual: "00".repeat(32) });
  });

  it("rejects S5 for VMPL 1 and for a chip-ID allow-list (its CHIP_ID is masked)", () => {
    const v = verified("trustee-milan-vlek-report.bin");
    const m = snpMismatches(
      v,
      expectationsFor("trustee-milan-vlek-report.bin", { allowedChipIds: [new Uint8Array(64).fill(9)] }),
    );
    expect(m.map((x) => x.code)).toEqual(["ATTESTATION_VMPL_MISMATCH", "ATTESTATION_CHIP_ID_NOT_ALLOWED"]);
  });

  it("checks the minimum TCB against reported, committed and launch TCB, component-wise", () => {
    const v = verified("virtee-milan-report.bin");
    const tooHigh = { bootloader: 3, tee: 0, snp: 8, microcode: 116 };
    const m = snpMismatches(v, expectationsFor("virtee-milan-report.bin", { minimumTcb: tooHigh }));
    expect(m.map((x) => `${x.code} ${x.field}`)).toEqual([
      "ATTESTATION_TCB_TOO_LOW REPORTED_TCB",
      "ATTESTATION_TCB_TOO_LOW COMMITTED_TCB",
      "ATTESTATION_TCB_TOO_LOW LAUNCH_TCB",
    ]);
    // A higher microcode does not make up for a lower SNP firmware: no u64 comparison.
    const mixed = { bootloader: 3, tee: 0, snp: 9, microcode: 0 };
    expect(snpMismatches(v, expectationsFor("virtee-milan-report.bin", { minimumTcb: mixed }))).toHaveLength(3);
  });

  it("S4: the microcode in CURRENT_TCB is higher than the reported one and that is fine", () => {
    const v = verified("trustee-milan-idblock-report.bin");
    const m = snpMismatches(
      v,
      expectationsFor("trustee-milan-idblock-report.bin", { guestPolicy: decodeGuestPolicy(0x3001fn) }),
    );
    expect(m).toEqual([]);
  });

  it("requires the report's ABI version to be at least the expected one", () => {
    const v = verified("virtee-milan-report.bin");
    const m = snpMismatches(
      v,
      expectationsFor("virtee-milan-report.bin", { guestPolicy: { ...contrastPolicy, abiMinor: 31 } }),
    );
    expect(m).toEqual([
      { code: "ATTESTATION_GUEST_POLICY_MISMATCH", field: "POLICY.ABI", expected: ">= 0.31", actual: "0.0" },
    ]);
  });

  it("accepts if any entry matches, and otherwise reports every entry", () => {
    const v = verified("virtee-milan-report.bin");
    const wrong = expectationsFor("virtee-milan-report.bin", { measurement: new Uint8Array(48) });
    const right = expectationsFor("virtee-milan-report.bin");
    expect(validateSnpReport(v, [wrong, right])).toBe(1);
    const e = policyError(() => validateSnpReport(v, [wrong, wrong]));
    expect(e.code).toBe("ATTESTATION_NO_MATCHING_REFERENCE_VALUES");
    expect(e.details?.entries).toHaveLength(2);
    expect(e.message).toContain("[1] MEASUREMENT: expected");
    expect(policyError(() => validateSnpReport(v, [])).code).toBe("ATTESTATION_NO_REFERENCE_VALUES");
  });
});
