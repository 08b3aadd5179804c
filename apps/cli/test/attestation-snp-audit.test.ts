import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeSnpEvidence } from "@contrast/attestation";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { fixedClock, fromHex } from "@contrast/core";
import {
  type Manifest,
  parseManifest,
  SIM_TRUSTED_MEASUREMENT,
  type SNPReferenceValues,
  serializeManifest,
  simReferenceValues,
} from "@contrast/manifest";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseNow } from "../src/commands/attestation/options.js";
import { cli, REPO, tempDir } from "./helpers.js";

// The CLI's share of the adversarial audit of issue 11, section 4: each test failed before its fix.

const SNP = join(REPO, "testdata/attestation/snp");
const verify = (report: string, key: string, now: string) => [
  "attestation",
  "verify",
  join(SNP, report),
  "--vcek",
  join(SNP, key),
  "--now",
  now,
];
const S2 = verify("virtee-milan-report.bin", "virtee-milan-vcek.der", "2024-01-01T00:00:00Z");
const S5 = verify("trustee-milan-vlek-report.bin", "trustee-milan-vlek.der", "2025-06-01T00:00:00Z");

function manifestWith(rv: Partial<Manifest["ReferenceValues"]>): string {
  const file = join(tempDir(), "manifest.json");
  writeFileSync(
    file,
    serializeManifest({
      Policies: new Map(),
      ReferenceValues: { snp: [], tdx: [], sim: [], ...rv },
      WorkloadOwnerKeyDigests: null,
      SeedshareOwnerPubKeys: null,
    }),
  );
  return file;
}

const fixtureEntry = (): SNPReferenceValues => {
  const base = parseManifest(readFileSync(join(REPO, "testdata/manifests/v1.5-metal-qemu-snp.json"))).manifest
    ?.ReferenceValues.snp[0];
  if (!base) throw new Error("fixture");
  return base;
};
const s2Entry = (over: Partial<SNPReferenceValues> = {}): SNPReferenceValues => ({
  ...fixtureEntry(),
  ProductName: "Milan",
  TrustedMeasurement:
    "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
  MinimumTCB: { BootloaderVersion: 3, TEEVersion: 0, SNPVersion: 8, MicrocodeVersion: 115 },
  ...over,
});
// S2 was not launched by a Contrast runtime (no ID block), and AMD's CRL of 2024 is not in testdata.
const S2_JUDGED = [...S2, "--skip-id-block", "--allow-missing-crl"];

describe("attestation verify: SNP reference values", () => {
  it("the AWS VLEK vector fails a minimum microcode of 219 on REPORTED_TCB (217)", async () => {
    const entry = s2Entry({
      TrustedMeasurement:
        "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
      MinimumTCB: { BootloaderVersion: 4, TEEVersion: 0, SNPVersion: 24, MicrocodeVersion: 219 },
    });
    const r = await cli([
      ...S5,
      "--skip-id-block",
      "--allow-missing-crl",
      "--reference-values",
      manifestWith({ snp: [entry] }),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "REPORTED_TCB: expected >= bl 4 tee 0 snp 24 ucode 219, got bl 4 tee 0 snp 24 ucode 217",
    );
  });

  it("a Milan report does not match an entry naming Genoa", async () => {
    const genoa = await cli([
      ...S2_JUDGED,
      "--reference-values",
      manifestWith({ snp: [s2Entry({ ProductName: "Genoa" })] }),
    ]);
    expect(genoa.status).toBe(2);
    expect(genoa.stderr).toContain("[ATTESTATION_PRODUCT_MISMATCH]");
    const milan = await cli([...S2_JUDGED, "--reference-values", manifestWith({ snp: [s2Entry()] })]);
    expect(milan.status).toBe(0);
  });

  it("judges PlatformInfo and MinimumMitigationVector when the manifest has them", async () => {
    const none = {
      SMTEnabled: false,
      TSMEEnabled: false,
      ECCEnabled: false,
      RAPLDisabled: false,
      CiphertextHidingDRAMEnabled: false,
      AliasCheckComplete: false,
      TIOEnabled: false,
    };
    const noSmt = await cli([
      ...S2_JUDGED,
      "--reference-values",
      manifestWith({ snp: [s2Entry({ PlatformInfo: none })] }),
    ]);
    expect(noSmt.status).toBe(2);
    expect(noSmt.stderr).toContain("PLATFORM_INFO.smtEnabled");
    const smt = await cli([
      ...S2_JUDGED,
      "--reference-values",
      manifestWith({ snp: [s2Entry({ PlatformInfo: { ...none, SMTEnabled: true } })] }),
    ]);
    expect(smt.status).toBe(0);
    const mit = await cli([
      ...S2_JUDGED,
      "--reference-values",
      manifestWith({ snp: [s2Entry({ MinimumMitigationVector: 1 })] }),
    ]);
    expect(mit.status).toBe(2);
    expect(mit.stderr).toContain("[ATTESTATION_MITIGATION_VECTOR_MISSING]");
    const claims = JSON.parse((await cli(["-o", "json", ...S2])).stdout).claims;
    expect(claims.platformInfo).toMatchObject({ value: "0x1", smtEnabled: true, tsmeEnabled: false });
  });

  it("requires AMD's CRL to judge hardware evidence, unless its absence is accepted explicitly", async () => {
    const rv = ["--skip-id-block", "--reference-values", manifestWith({ snp: [s2Entry()] })];
    const r = await cli([...S2, ...rv]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[SNP_CRL_REQUIRED]");
    expect(r.stderr).toContain("https://kdsintf.amd.com/vcek/v1/Milan/crl");
    const accepted = await cli([...S2, ...rv, "--allow-missing-crl"]);
    expect(accepted.status).toBe(0);
    expect(accepted.stderr).toContain("revocation");
  });
});

describe("attestation verify: evidence documents and time", () => {
  it("a document with both a VCEK and a VLEK uses the key the report names", async () => {
    const file = join(tempDir(), "doc.pb");
    writeFileSync(
      file,
      encodeSnpEvidence({
        report: new Uint8Array(readFileSync(join(SNP, "trustee-milan-vlek-report.bin"))),
        vcek: new Uint8Array(readFileSync(join(SNP, "virtee-milan-vcek.der"))),
        vlek: new Uint8Array(readFileSync(join(SNP, "trustee-milan-vlek.der"))),
      }),
    );
    const r = await cli(["attestation", "verify", file, "--now", "2025-06-01T00:00:00Z", "-o", "json"]);
    expect(r.stderr).not.toContain("Error");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).claims).toMatchObject({ signingKey: "vlek", endorsementKey: { kind: "vlek" } });
  });

  it("--now refuses dates that do not exist instead of rolling them over", async () => {
    const at = (now: string) => cli([...S2.slice(0, 5), "--now", now]);
    for (const bad of [
      "2024-02-30T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-04-31T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-01-01T24:00:00Z",
      "2024-01-01T23:60:00Z",
      "2024-01-01T23:59:60Z",
      "2024-01-01T00:00:00+24:00",
    ]) {
      const r = await at(bad);
      expect(r.status, bad).toBe(1);
      expect(r.stderr, bad).toContain("[CLI_USAGE]");
    }
    expect((await at("2024-02-29T00:00:00Z")).status).toBe(0);
    expect((await at("2024-01-01T01:00:00+01:00")).status).toBe(0);
  });
});

describe("--now parsing", () => {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const stamp = (y: number, mo: number, d: number, h: number, mi: number, s: number) =>
    `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}Z`;
  const days = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const runs = fuzzRuns(500);

  it("reads every real instant exactly, and refuses every field out of range (property)", () => {
    const fields = fc.record({
      y: fc.integer({ min: 1970, max: 2200 }),
      mo: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 31 }),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
    });
    fc.assert(
      fc.property(fields, ({ y, mo, d, h, mi, s }) => {
        const text = stamp(y, mo, d, h, mi, s);
        if (d <= days(y, mo)) expect(parseNow(text).getTime()).toBe(Date.UTC(y, mo - 1, d, h, mi, s));
        else expect(() => parseNow(text)).toThrow(/not an RFC 3339 time/);
      }),
      { numRuns: runs },
    );
    const outOfRange = fc.oneof(
      fc.record({ mo: fc.integer({ min: 13, max: 99 }) }),
      fc.record({ h: fc.integer({ min: 24, max: 99 }) }),
      fc.record({ mi: fc.integer({ min: 60, max: 99 }) }),
      fc.record({ s: fc.integer({ min: 60, max: 99 }) }),
      fc.record({ mo: fc.constant(0) }),
      fc.record({ d: fc.constant(0) }),
    );
    fc.assert(
      fc.property(outOfRange, (bad) => {
        const f = { y: 2024, mo: 1, d: 1, h: 0, mi: 0, s: 0, ...bad };
        expect(() => parseNow(stamp(f.y, f.mo, f.d, f.h, f.mi, f.s))).toThrow(/not an RFC 3339 time/);
      }),
      { numRuns: runs },
    );
  });
});

describe("attestation verify --platform sim", () => {
  const clock = fixedClock("2026-11-22T00:00:00Z");
  const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
  const dir = tempDir();
  writeFileSync(
    join(dir, "report.bin"),
    sim.report({
      reportData: new Uint8Array(64),
      measurement: fromHex(SIM_TRUSTED_MEASUREMENT),
      hostData: new Uint8Array(32),
    }),
  );
  writeFileSync(join(dir, "vcek.der"), sim.vcek);
  writeFileSync(join(dir, "cert_chain.pem"), sim.roots.ask.toString() + sim.roots.ark.toString());
  const args = [
    "attestation",
    "verify",
    join(dir, "report.bin"),
    "--platform",
    "sim",
    "--collateral",
    dir,
    "--now",
    "2026-11-22T00:00:00Z",
  ];

  it("an ARK the reference values do not name means untrusted evidence: exit 1", async () => {
    const r = await cli([...args, "--reference-values", manifestWith({ sim: [simReferenceValues("ab".repeat(32))] })]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[ATTESTATION_SIM_ANCHOR_NOT_TRUSTED]");
  });

  it("without reference values, no self-made chain is accepted", async () => {
    const r = await cli(args);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[ATTESTATION_SIM_ANCHOR_NOT_TRUSTED]");
  });

  it("compares ArkKeyDigest without regard to case", async () => {
    const upper = simReferenceValues(sim.arkKeyDigest.toUpperCase());
    const r = await cli([...args, "--reference-values", manifestWith({ sim: [upper] })]);
    expect(r.stderr).not.toContain("NOT_TRUSTED");
    expect(r.status).toBe(0);
  });
});
