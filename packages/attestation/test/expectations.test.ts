import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixedClock, fromHex, toHex } from "@contrast/core";
import { type SNPReferenceValues, simReferenceValues, type TDXReferenceValues } from "@contrast/manifest";
import { expectCode } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { AttestationPolicyError } from "../src/errors.js";
import { simEntriesNaming } from "../src/expectations/sim.js";
import { snpExpectations } from "../src/expectations/snp.js";
import { tdxExpectations } from "../src/expectations/tdx.js";
import { createSimulatedAuthority } from "../src/sim/tee.js";
import { contrastIdKeyDigest, validateSnpReport } from "../src/snp/validate.js";
import { verifySnpReport } from "../src/snp/verify.js";
import { validateTdxQuote } from "../src/tdx/validate.js";
import { verifyTdxQuote } from "../src/tdx/verify.js";
import { snpFile } from "./vectors.js";

const TDX_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/attestation/tdx");
const hex = (n: number, byte: string) => byte.repeat(n);

function snpEntry(overrides: Partial<SNPReferenceValues> = {}): SNPReferenceValues {
  return {
    MinimumTCB: { BootloaderVersion: 3, TEEVersion: null, SNPVersion: 8, MicrocodeVersion: 115 },
    ProductName: "Milan",
    TrustedMeasurement: hex(48, "ab"),
    GuestPolicy: {
      ABIMinor: 1,
      ABIMajor: 2,
      SMT: true,
      MigrateMA: false,
      Debug: false,
      SingleSocket: true,
      CXLAllowed: false,
      MemAES256XTS: true,
      RAPLDis: false,
      CipherTextHidingDRAM: true,
    },
    ...overrides,
  };
}

describe("SNP reference values as expectations", () => {
  it("maps every field of an entry", () => {
    const reportData = new Uint8Array(64).fill(1);
    const hostData = new Uint8Array(32).fill(2);
    const e = snpExpectations(
      snpEntry({
        PlatformInfo: {
          SMTEnabled: true,
          TSMEEnabled: false,
          ECCEnabled: true,
          RAPLDisabled: false,
          CiphertextHidingDRAMEnabled: true,
          AliasCheckComplete: false,
          TIOEnabled: true,
        },
        MinimumMitigationVector: 5,
        AllowedChipIDs: [hex(64, "cd")],
      }),
      { reportData, hostData },
    );
    expect(toHex(e.measurement)).toBe(hex(48, "ab"));
    expect(e.product).toBe("Milan");
    expect(e.minimumTcb).toEqual({ bootloader: 3, tee: 0, snp: 8, microcode: 115 });
    expect(e.guestPolicy).toEqual({
      abiMajor: 2,
      abiMinor: 1,
      smt: true,
      migrateMa: false,
      debug: false,
      singleSocket: true,
      cxlAllowed: false,
      memAes256Xts: true,
      raplDis: false,
      ciphertextHidingDram: true,
      pageSwapDisable: false,
    });
    expect(e.platformInfo).toEqual({
      smtEnabled: true,
      tsmeEnabled: false,
      eccEnabled: true,
      raplDisabled: false,
      ciphertextHidingDramEnabled: true,
      aliasCheckComplete: false,
      tioEnabled: true,
    });
    expect(e.minimumMitigationVector).toBe(5n);
    expect(e.allowedChipIds?.map(toHex)).toEqual([hex(64, "cd")]);
    expect(e.reportData).toBe(reportData);
    expect(e.hostData).toBe(hostData);
    // Contrast's ID block is the default; its key digest follows from measurement and policy.
    expect(toHex(e.idKeyDigest as Uint8Array)).toBe(
      toHex(contrastIdKeyDigest(e.measurement, e.guestPolicy as NonNullable<typeof e.guestPolicy>)),
    );
  });

  it("leaves out what the entry does not constrain", () => {
    const e = snpExpectations(snpEntry({ ProductName: "Turin", AllowedChipIDs: [] }), { idBlock: false });
    for (const key of ["product", "platformInfo", "minimumMitigationVector", "allowedChipIds", "idKeyDigest"]) {
      expect(e).not.toHaveProperty(key);
    }
    expect(e).not.toHaveProperty("reportData");
    expect(e).not.toHaveProperty("hostData");
  });

  it("refuses a measurement that is not 48 bytes of hex", () => {
    expect(() => snpExpectations(snpEntry({ TrustedMeasurement: "ab" }))).toThrow(
      expect.objectContaining({ kind: "input" }),
    );
  });

  it("judges a real Milan report: its own values pass, another measurement is a policy mismatch", () => {
    const verified = verifySnpReport({
      report: snpFile("virtee-milan-report.bin"),
      endorsementKey: snpFile("virtee-milan-vcek.der"),
      now: new Date("2024-01-01T00:00:00Z"),
    });
    const r = verified.report;
    const own = snpEntry({
      TrustedMeasurement: toHex(r.measurement),
      MinimumTCB: { BootloaderVersion: 3, TEEVersion: 0, SNPVersion: 8, MicrocodeVersion: 115 },
      GuestPolicy: {
        ...snpEntry().GuestPolicy,
        ABIMajor: 0,
        ABIMinor: 0,
        SingleSocket: false,
        MemAES256XTS: false,
        CipherTextHidingDRAM: false,
      },
    });
    expect(validateSnpReport(verified, [snpExpectations(own, { idBlock: false })])).toBe(0);
    const other = { ...own, TrustedMeasurement: hex(48, "00") };
    let err: unknown;
    try {
      validateSnpReport(verified, [snpExpectations(other, { idBlock: false })]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AttestationPolicyError);
    expect((err as AttestationPolicyError).code).toBe("ATTESTATION_MEASUREMENT_MISMATCH");
  });
});

describe("the simulated TEE's trust anchor", () => {
  const clock = fixedClock(new Date("2026-06-01T00:00:00Z"));
  const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
  const other = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
  const measurement = new Uint8Array(48).fill(7);
  const hostData = new Uint8Array(32).fill(9);
  const report = sim.report({ reportData: new Uint8Array(64), measurement, hostData });
  const verified = verifySnpReport({ report, endorsementKey: sim.vcek, now: clock.now(), roots: sim.roots });

  it("accepts only entries that name the chain's ARK, digests compared case-insensitively", () => {
    const mine = { ...simReferenceValues(sim.arkKeyDigest.toUpperCase()), TrustedMeasurement: toHex(measurement) };
    const theirs = { ...simReferenceValues(other.arkKeyDigest), TrustedMeasurement: toHex(measurement) };
    const named = simEntriesNaming(sim.roots.ark.publicKey, [theirs, mine]);
    expect(named).toEqual([mine]);
    // With Contrast's ID block (the simulated TEE launches with it by default) and the host data.
    expect(
      validateSnpReport(
        verified,
        named.map((e) => snpExpectations(e, { hostData })),
      ),
    ).toBe(0);
    expect(() =>
      validateSnpReport(
        verified,
        named.map((e) => snpExpectations(e, { hostData: new Uint8Array(32) })),
      ),
    ).toThrow(AttestationPolicyError);
  });

  it("treats a chain no entry names as untrusted evidence, not as a mismatch", () => {
    const theirs = simReferenceValues(other.arkKeyDigest);
    expectCode(
      () => simEntriesNaming(sim.roots.ark.publicKey, [theirs]),
      "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED",
      "crypto",
    );
    expectCode(() => simEntriesNaming(sim.roots.ark.publicKey, []), "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED", "crypto");
  });
});

describe("TDX reference values as expectations", () => {
  const now = new Date("2025-07-01T00:00:00Z");
  const verified = verifyTdxQuote({ quote: new Uint8Array(readFileSync(join(TDX_DIR, "phala-quote-v4.dat"))), now });
  const b = verified.quote.body;
  const own: TDXReferenceValues = {
    MrTd: toHex(b.mrTd),
    Rtrms: b.rtmrs.map(toHex) as TDXReferenceValues["Rtrms"],
    MinimumQeSvn: verified.quote.qeReport.isvSvn,
    MinimumPceSvn: 11,
    MinimumTeeTcbSvn: toHex(b.teeTcbSvn),
    MrSeam: toHex(b.mrSeam),
    TdAttributes: "0000001000000000",
    Xfam: toHex(b.xfam),
  };

  it("maps every field of an entry", () => {
    const e = tdxExpectations(
      { ...own, MinimumQeSvn: null, MinTCBEvaluationDataNumber: 17, AllowedPIIDs: [hex(16, "ee")] },
      { reportData: b.reportData },
    );
    expect(toHex(e.mrTd)).toBe(own.MrTd);
    expect(e.rtmrs.map(toHex)).toEqual(own.Rtrms);
    expect(toHex(e.mrSeam)).toBe(own.MrSeam);
    expect(toHex(e.xfam)).toBe(own.Xfam);
    expect(toHex(e.tdAttributes as Uint8Array)).toBe("0000001000000000");
    expect(e.minimumQeSvn).toBe(0);
    expect(e.minimumPceSvn).toBe(11);
    expect(e.minTcbEvaluationDataNumber).toBe(17);
    expect(e.allowedPiids?.map(toHex)).toEqual([hex(16, "ee")]);
    expect(e.reportData).toBe(b.reportData);
    expect(e).not.toHaveProperty("hostData");
  });

  it("judges a real quote: its own values pass, another MRTD is a policy mismatch", () => {
    expect(validateTdxQuote(verified, [tdxExpectations(own, { reportData: b.reportData })], 11)).toBe(0);
    let err: unknown;
    try {
      validateTdxQuote(verified, [tdxExpectations({ ...own, MrTd: hex(48, "00") })], 11);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AttestationPolicyError);
    expect((err as AttestationPolicyError).code).toBe("ATTESTATION_MEASUREMENT_MISMATCH");
    expect(() => tdxExpectations({ ...own, Xfam: "00" })).toThrow(expect.objectContaining({ kind: "input" }));
    expect(fromHex(own.MrTd, 48)).toHaveLength(48);
  });
});
