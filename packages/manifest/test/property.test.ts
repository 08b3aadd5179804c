import { toHex } from "@contrast/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../src/manifest.js";
import { serializeManifest } from "../src/serialize.js";
import type { Manifest, SimReferenceValues, SNPReferenceValues, TDXReferenceValues } from "../src/types.js";
import { FUZZ_RUNS, fixture } from "./fixtures.js";

// Any value the model can hold after decoding, valid or not: the serialiser and the decoder must
// be exact inverses on all of them, not only on valid manifests.
const str = fc.oneof(fc.string({ unit: "grapheme", maxLength: 12 }), fc.string({ maxLength: 12 }));
const hexOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toHex);
const field = fc.oneof(str, hexOf(48), hexOf(8));
const u8 = fc.integer({ min: 0, max: 255 });
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

const guestPolicy = fc.record(
  {
    ABIMinor: u8,
    ABIMajor: u8,
    SMT: fc.boolean(),
    MigrateMA: fc.boolean(),
    Debug: fc.boolean(),
    SingleSocket: fc.boolean(),
    CXLAllowed: fc.boolean(),
    MemAES256XTS: fc.boolean(),
    RAPLDis: fc.boolean(),
    CipherTextHidingDRAM: fc.boolean(),
    PageSwapDisable: fc.boolean(),
  },
  {
    requiredKeys: [
      "ABIMinor",
      "ABIMajor",
      "SMT",
      "MigrateMA",
      "Debug",
      "SingleSocket",
      "CXLAllowed",
      "MemAES256XTS",
      "RAPLDis",
      "CipherTextHidingDRAM",
    ],
  },
);

const snpFields = {
  MinimumTCB: fc.record({
    BootloaderVersion: nullable(u8),
    TEEVersion: nullable(u8),
    SNPVersion: nullable(u8),
    MicrocodeVersion: nullable(u8),
  }),
  ProductName: fc.oneof(fc.constantFrom("Milan", "Genoa"), str),
  TrustedMeasurement: field,
  GuestPolicy: guestPolicy,
  PlatformInfo: fc.record({
    SMTEnabled: fc.boolean(),
    TSMEEnabled: fc.boolean(),
    ECCEnabled: fc.boolean(),
    RAPLDisabled: fc.boolean(),
    CiphertextHidingDRAMEnabled: fc.boolean(),
    AliasCheckComplete: fc.boolean(),
    TIOEnabled: fc.boolean(),
  }),
  MinimumMitigationVector: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  AllowedChipIDs: nullable(fc.array(fc.oneof(hexOf(64), str), { maxLength: 2 })),
};
const snp: fc.Arbitrary<SNPReferenceValues> = fc.record(snpFields, {
  requiredKeys: ["MinimumTCB", "ProductName", "TrustedMeasurement", "GuestPolicy"],
});
const sim: fc.Arbitrary<SimReferenceValues> = fc.record(
  { ...snpFields, ArkKeyDigest: fc.oneof(hexOf(32), str) },
  { requiredKeys: ["ArkKeyDigest", "MinimumTCB", "ProductName", "TrustedMeasurement", "GuestPolicy"] },
);
const tdx: fc.Arbitrary<TDXReferenceValues> = fc.record({
  MrTd: field,
  Rtrms: fc.tuple(field, field, field, field),
  MinimumQeSvn: nullable(fc.integer({ min: 0, max: 0xffff })),
  MinimumPceSvn: nullable(fc.integer({ min: 0, max: 0xffff })),
  MinimumTeeTcbSvn: fc.oneof(hexOf(16), str),
  MrSeam: field,
  TdAttributes: field,
  Xfam: field,
});

export const manifestArb: fc.Arbitrary<Manifest> = fc.record({
  Policies: nullable(
    fc
      .uniqueArray(
        fc.tuple(
          fc.oneof(hexOf(32), str),
          fc.record({
            SANs: nullable(fc.array(str, { maxLength: 3 })),
            WorkloadSecretID: str,
            Role: fc.constantFrom("", "coordinator", "x"),
          }),
        ),
        { selector: ([k]) => k, maxLength: 4 },
      )
      .map((entries) => new Map(entries)),
  ),
  ReferenceValues: fc.record({
    snp: fc.array(snp, { maxLength: 2 }),
    tdx: fc.array(tdx, { maxLength: 2 }),
    sim: fc.array(sim, { maxLength: 1 }),
  }),
  WorkloadOwnerKeyDigests: nullable(fc.array(fc.oneof(hexOf(32), str), { maxLength: 2 })),
  SeedshareOwnerPubKeys: nullable(fc.array(str, { maxLength: 2 })),
});

describe("manifest parser and serialiser (properties)", () => {
  it("parse(serialize(m)) is m, and the bytes are canonical", () => {
    fc.assert(
      fc.property(manifestArb, (m) => {
        const text = serializeManifest(m);
        const result = parseManifest(text);
        const decodeProblems = result.issues.filter((i) =>
          [
            "MANIFEST_JSON_INVALID",
            "MANIFEST_WRONG_TYPE",
            "MANIFEST_UNKNOWN_FIELD",
            "MANIFEST_NUMBER_OUT_OF_RANGE",
          ].includes(i.code),
        );
        expect(decodeProblems).toEqual([]);
        expect(result.canonical).toBe(true);
        expect(result.manifest).toEqual(m);
        expect(serializeManifest(result.manifest as Manifest)).toBe(text);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("never throws on arbitrary JSON, and every issue is coded (fuzz)", () => {
    const jsonish = fc.oneof(
      fc.jsonValue(),
      fc.record({
        Policies: fc.jsonValue(),
        ReferenceValues: fc.oneof(
          fc.jsonValue(),
          fc.record({ snp: fc.jsonValue(), tdx: fc.jsonValue(), sim: fc.jsonValue() }),
        ),
        WorkloadOwnerKeyDigests: fc.jsonValue(),
        SeedshareOwnerPubKeys: fc.jsonValue(),
      }),
    );
    fc.assert(
      fc.property(jsonish, (v) => {
        const result = parseManifest(JSON.stringify(v) ?? "null");
        for (const i of result.issues) {
          expect(i.code).toMatch(/^MANIFEST_[A-Z_]+$/);
          expect(i.hint.length).toBeGreaterThan(0);
          expect(i.path.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("survives byte-level mutations of a real manifest (fuzz)", () => {
    const base = fixture("v1.5-metal-qemu-snp.json");
    const mutation = fc.array(
      fc.tuple(
        fc.nat({ max: base.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom("set", "insert", "delete"),
      ),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(mutation, (ops) => {
        const bytes = [...base];
        for (const [pos, byte, op] of ops) {
          const at = Math.min(pos, bytes.length - 1);
          if (op === "set") bytes[at] = byte;
          else if (op === "insert") bytes.splice(at, 0, byte);
          else bytes.splice(at, 1);
        }
        const result = parseManifest(new Uint8Array(bytes));
        expect(result.issues.every((i) => /^MANIFEST_/.test(i.code))).toBe(true);
        if (result.manifest !== undefined) {
          // Whatever was accepted writes out in a form that reads back to the same model.
          expect(parseManifest(serializeManifest(result.manifest)).manifest).toEqual(result.manifest);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
