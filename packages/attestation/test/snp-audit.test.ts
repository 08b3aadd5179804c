import { fromHex } from "@contrast/core";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EvidenceError } from "../src/errors.js";
import { parseEndorsementKey } from "../src/snp/endorsement.js";
import { decodeGuestPolicy } from "../src/snp/report.js";
import { type SnpExpectations, snpMismatches } from "../src/snp/validate.js";
import { verifySnpReport } from "../src/snp/verify.js";
import { FORGE_NOW, forgedRoots, forgeKey, forgeReport } from "./forge.js";
import { rejection, SNP_VECTORS, snpFile } from "./vectors.js";

// Each test here stands for one finding of the adversarial audit (issue 11, section 4) and failed
// before its fix.

const vector = (report: string) => {
  const v = SNP_VECTORS.find((x) => x.report === report);
  if (!v) throw new Error(report);
  return v;
};
const verifiedVector = (report: string) => {
  const v = vector(report);
  return verifySnpReport({
    report: snpFile(v.report),
    endorsementKey: snpFile(v.key),
    now: new Date(v.now),
    product: v.product,
  });
};
const expectations = (report: string, overrides: Partial<SnpExpectations> = {}): SnpExpectations => {
  const v = vector(report);
  return {
    measurement: fromHex(v.measurement),
    minimumTcb: v.tcb,
    guestPolicy: decodeGuestPolicy(v.policy),
    vmpl: v.vmpl,
    ...overrides,
  };
};
const codes = (m: { code: string; field: string }[]) => m.map((x) => `${x.code} ${x.field}`);

const TCB = { bootloader: 10, tee: 0, snp: 23, microcode: 84 };
const chipId = new Uint8Array(64).fill(7);
const vcek = forgeKey({ tcb: TCB, hwId: chipId });
const verifyForged = (report: Uint8Array, key = vcek.der) =>
  verifySnpReport({ report, endorsementKey: key, now: FORGE_NOW, roots: forgedRoots });

describe("SNP TCB rollback: the minimum applies to REPORTED_TCB, the key's TCB", () => {
  it("the AWS VLEK vector (reported microcode 217, committed 219) fails a minimum of 219", () => {
    const name = "trustee-milan-vlek-report.bin";
    const v = verifiedVector(name);
    expect(v.reportedTcb.microcode).toBe(217);
    expect(v.committedTcb.microcode).toBe(219);
    const m = snpMismatches(v, expectations(name, { minimumTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 } }));
    expect(codes(m)).toEqual(["ATTESTATION_TCB_TOO_LOW REPORTED_TCB"]);
    expect(snpMismatches(v, expectations(name))).toEqual([]);
  });

  it("a report signed with an old key that claims new committed and launch TCBs is refused", () => {
    const old = { ...TCB, snp: 20 };
    const key = forgeKey({ tcb: old, hwId: chipId });
    const report = forgeReport({ current: TCB, reported: old, chipId }, key);
    const v = verifyForged(report, key.der);
    const m = snpMismatches(v, {
      measurement: new Uint8Array(48),
      minimumTcb: TCB,
      guestPolicy: decodeGuestPolicy(0x30000n),
    });
    expect(codes(m)).toContain("ATTESTATION_TCB_TOO_LOW REPORTED_TCB");
  });

  it("refuses a key TCB above CURRENT_TCB", () => {
    const newer = { ...TCB, microcode: 90 };
    const key = forgeKey({ tcb: newer, hwId: chipId });
    const report = forgeReport({ current: TCB, reported: newer, chipId }, key);
    expect(rejection(() => verifyForged(report, key.der)).code).toBe("SNP_TCB_ABOVE_CURRENT");
  });
});

describe("SNP TCB relations (property)", () => {
  it("accepts exactly when key = REPORTED <= CURRENT, COMMITTED <= CURRENT and the minimum <= REPORTED, COMMITTED, LAUNCH (property)", () => {
    const part = fc.integer({ min: 0, max: 2 });
    const tcb = fc.record({ bootloader: part, tee: part, snp: part, microcode: part });
    const keys = new Map<string, ReturnType<typeof forgeKey>>();
    const keyFor = (t: typeof TCB) => {
      const id = JSON.stringify(t);
      const known = keys.get(id);
      if (known !== undefined) return known;
      const made = forgeKey({ tcb: t, hwId: chipId });
      keys.set(id, made);
      return made;
    };
    const le = (a: typeof TCB, b: typeof TCB) =>
      a.bootloader <= b.bootloader && a.tee <= b.tee && a.snp <= b.snp && a.microcode <= b.microcode;
    fc.assert(
      fc.property(tcb, tcb, tcb, tcb, tcb, (current, reported, committed, launch, minimum) => {
        const key = keyFor(reported);
        const report = forgeReport({ current, reported, committed, launch, chipId }, key);
        let verified: ReturnType<typeof verifySnpReport>;
        try {
          verified = verifyForged(report, key.der);
        } catch (e) {
          expect(e).toBeInstanceOf(EvidenceError);
          expect((e as EvidenceError).code).toBe("SNP_TCB_ABOVE_CURRENT");
          expect(le(reported, current)).toBe(false);
          return;
        }
        expect(le(reported, current)).toBe(true);
        const m = codes(
          snpMismatches(verified, {
            measurement: new Uint8Array(48),
            minimumTcb: minimum,
            guestPolicy: decodeGuestPolicy(0x30000n),
          }),
        );
        const expected = [
          ...(le(minimum, reported) ? [] : ["ATTESTATION_TCB_TOO_LOW REPORTED_TCB"]),
          ...(le(minimum, committed) ? [] : ["ATTESTATION_TCB_TOO_LOW COMMITTED_TCB"]),
          ...(le(minimum, launch) ? [] : ["ATTESTATION_TCB_TOO_LOW LAUNCH_TCB"]),
          ...(le(committed, current) ? [] : ["ATTESTATION_FIRMWARE_INCONSISTENT COMMITTED_TCB"]),
        ];
        expect(m).toEqual(expected);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});

describe("SNP reference values: ProductName, PlatformInfo, mitigation vectors, firmware", () => {
  it("a Milan report does not pass an entry naming Genoa", () => {
    const name = "virtee-milan-report.bin";
    const v = verifiedVector(name);
    expect(codes(snpMismatches(v, expectations(name, { product: "Genoa" })))).toEqual([
      "ATTESTATION_PRODUCT_MISMATCH PRODUCT",
    ]);
    expect(snpMismatches(v, expectations(name, { product: "Milan" }))).toEqual([]);
  });

  it("PLATFORM_INFO: features not allowed and features required, as go-sev-guest", () => {
    // S5's PLATFORM_INFO is 0x27: SMT, TSME, ECC, alias check complete.
    const name = "trustee-milan-vlek-report.bin";
    const v = verifiedVector(name);
    const none = {
      smtEnabled: false,
      tsmeEnabled: false,
      eccEnabled: false,
      raplDisabled: false,
      ciphertextHidingDramEnabled: false,
      aliasCheckComplete: false,
      tioEnabled: false,
    };
    expect(codes(snpMismatches(v, expectations(name, { platformInfo: none })))).toEqual([
      "ATTESTATION_PLATFORM_INFO_MISMATCH PLATFORM_INFO.smtEnabled",
      "ATTESTATION_PLATFORM_INFO_MISMATCH PLATFORM_INFO.tsmeEnabled",
    ]);
    const strict = { ...none, smtEnabled: true, tsmeEnabled: true, eccEnabled: true, raplDisabled: true };
    expect(codes(snpMismatches(v, expectations(name, { platformInfo: strict })))).toEqual([
      "ATTESTATION_PLATFORM_INFO_MISMATCH PLATFORM_INFO.raplDisabled",
    ]);
    const ok = { ...none, smtEnabled: true, tsmeEnabled: true, eccEnabled: true, aliasCheckComplete: true };
    expect(snpMismatches(v, expectations(name, { platformInfo: ok }))).toEqual([]);
  });

  it("PLATFORM_INFO with a reserved bit fails when the reference values judge it", () => {
    const report = forgeReport({ current: TCB, chipId, platformInfo: 1n | (1n << 6n) }, vcek);
    const v = verifyForged(report);
    const base = { measurement: new Uint8Array(48), minimumTcb: TCB, guestPolicy: decodeGuestPolicy(0x30000n) };
    expect(snpMismatches(v, base)).toEqual([]);
    const pi = {
      smtEnabled: true,
      tsmeEnabled: true,
      eccEnabled: false,
      raplDisabled: false,
      ciphertextHidingDramEnabled: false,
      aliasCheckComplete: false,
      tioEnabled: true,
    };
    expect(codes(snpMismatches(v, { ...base, platformInfo: pi }))).toEqual([
      "ATTESTATION_PLATFORM_INFO_MISMATCH PLATFORM_INFO",
    ]);
  });

  it("mitigation vectors: both must hold every bit of the minimum; reports before v5 have none", () => {
    const base = { measurement: new Uint8Array(48), minimumTcb: TCB, guestPolicy: decodeGuestPolicy(0x30000n) };
    const v5 = verifyForged(
      forgeReport({ version: 5, current: TCB, chipId, launchMitVector: 0b11n, currentMitVector: 0b01n }, vcek),
    );
    expect(snpMismatches(v5, { ...base, minimumMitigationVector: 0b01n })).toEqual([]);
    expect(codes(snpMismatches(v5, { ...base, minimumMitigationVector: 0b11n }))).toEqual([
      "ATTESTATION_MITIGATION_VECTOR_MISSING CURRENT_MIT_VECTOR",
    ]);
    const v3 = verifyForged(forgeReport({ current: TCB, chipId }, vcek));
    expect(codes(snpMismatches(v3, { ...base, minimumMitigationVector: 1n }))).toEqual([
      "ATTESTATION_MITIGATION_VECTOR_MISSING LAUNCH_MIT_VECTOR",
      "ATTESTATION_MITIGATION_VECTOR_MISSING CURRENT_MIT_VECTOR",
    ]);
  });

  it("firmware: committed may not exceed current, and a minimum applies to the current version", () => {
    const base = { measurement: new Uint8Array(48), minimumTcb: TCB, guestPolicy: decodeGuestPolicy(0x30000n) };
    const ahead = verifyForged(
      forgeReport({ current: TCB, chipId, currentFirmware: [40, 55, 1], committedFirmware: [41, 55, 1] }, vcek),
    );
    expect(codes(snpMismatches(ahead, base))).toEqual(["ATTESTATION_FIRMWARE_INCONSISTENT COMMITTED_BUILD"]);
    const ok = verifyForged(forgeReport({ current: TCB, chipId, currentFirmware: [40, 55, 1] }, vcek));
    expect(snpMismatches(ok, { ...base, minimumFirmware: { major: 1, minor: 55, build: 40 } })).toEqual([]);
    expect(codes(snpMismatches(ok, { ...base, minimumFirmware: { major: 1, minor: 58, build: 0 } }))).toEqual([
      "ATTESTATION_FIRMWARE_TOO_OLD CURRENT_VERSION",
    ]);
    expect(codes(snpMismatches(ok, { ...base, minimumFirmware: { major: 1, minor: 0, build: 41 } }))).toEqual([
      "ATTESTATION_FIRMWARE_TOO_OLD CURRENT_BUILD",
    ]);
  });
});

describe("SNP evidence: keys, reserved bytes and product", () => {
  it("a VCEK without hwID is refused (the chip binding could not be checked)", () => {
    const key = forgeKey({ tcb: TCB });
    expect(rejection(() => parseEndorsementKey(key.der)).code).toBe("SNP_CERT_MALFORMED");
    expect(rejection(() => verifyForged(forgeReport({ current: TCB, chipId }, key), key.der)).code).toBe(
      "SNP_CERT_MALFORMED",
    );
  });

  it("a VLEK with an hwID, or without a CSP ID, is refused; a VCEK with a CSP ID too", () => {
    const vlek = (o: { hwId?: Uint8Array; cspId?: string }) => forgeKey({ kind: "vlek", tcb: TCB, ...o });
    expect(rejection(() => parseEndorsementKey(vlek({ hwId: chipId, cspId: "CN=cloud" }).der)).code).toBe(
      "SNP_CERT_MALFORMED",
    );
    expect(rejection(() => parseEndorsementKey(vlek({}).der)).code).toBe("SNP_CERT_MALFORMED");
    expect(parseEndorsementKey(vlek({ cspId: "CN=cloud" }).der).kind).toBe("vlek");
    const both = forgeKey({ tcb: TCB, hwId: chipId, cspId: "CN=cloud" });
    expect(rejection(() => parseEndorsementKey(both.der)).code).toBe("SNP_CERT_MALFORMED");
  });

  it("reserved bytes of a TCB_VERSION must be zero", () => {
    for (const offset of [0x38 + 2, 0x180 + 3, 0x1e0 + 4, 0x1f0 + 5]) {
      const report = forgeReport({ current: TCB, chipId, edit: (b) => (b[offset] = 1) }, vcek);
      const e = rejection(() => verifyForged(report));
      expect(e.code).toBe("SNP_REPORT_MALFORMED");
      expect(e.details).toMatchObject({ offset });
    }
  });

  it("Turin: CHIP_ID bytes 8-63 must be zero; bytes 0-7 bind the VCEK's 8-byte hwID", () => {
    const turinTcb = { fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 5 };
    const hwId = new Uint8Array(8).fill(0x5a);
    const key = forgeKey({ productName: "Turin", tcb: turinTcb, hwId });
    const good = new Uint8Array(64);
    good.set(hwId);
    const ok = verifyForged(forgeReport({ product: "Turin", current: turinTcb, chipId: good }, key), key.der);
    expect(ok.product).toBe("Turin");
    expect(ok.reportedTcb).toEqual(turinTcb);
    const bad = good.slice();
    bad[40] = 1;
    const e = rejection(() =>
      verifyForged(forgeReport({ product: "Turin", current: turinTcb, chipId: bad }, key), key.der),
    );
    expect(e.code).toBe("SNP_REPORT_MALFORMED");
    // Turin's reserved TCB bytes are 4 to 6.
    const reserved = forgeReport(
      { product: "Turin", current: turinTcb, chipId: good, edit: (b) => (b[0x180 + 5] = 1) },
      key,
    );
    expect(rejection(() => verifyForged(reserved, key.der)).code).toBe("SNP_REPORT_MALFORMED");
  });

  it("an unknown CPUID fails instead of falling back to the certificate's product", () => {
    const report = forgeReport({ current: TCB, chipId, cpuid: [0x17, 0x31, 0] }, vcek);
    expect(rejection(() => verifyForged(report)).code).toBe("SNP_PRODUCT_UNKNOWN");
    expect(
      rejection(() =>
        verifySnpReport({ report, endorsementKey: vcek.der, now: FORGE_NOW, roots: forgedRoots, product: "Genoa" }),
      ).code,
    ).toBe("SNP_PRODUCT_UNKNOWN");
    // All-zero CPUID bytes carry no claim: the product comes from the key, as for version 2.
    const silent = forgeReport({ current: TCB, chipId, cpuid: [0, 0, 0] }, vcek);
    expect(verifyForged(silent).product).toBe("Genoa");
  });
});
