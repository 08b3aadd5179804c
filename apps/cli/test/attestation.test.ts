import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { collateralFromDcapQvl, encodeSnpEvidence, encodeTdxEvidence } from "@contrast/attestation";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { fixedClock, fromHex } from "@contrast/core";
import {
  type Manifest,
  parseManifest,
  SIM_TRUSTED_MEASUREMENT,
  serializeManifest,
  simReferenceValues,
} from "@contrast/manifest";
import { describe, expect, it } from "vitest";
import { cli, REPO, tempDir } from "./helpers.js";

const SNP = join(REPO, "testdata/attestation/snp");
const S2 = [
  "attestation",
  "verify",
  join(SNP, "virtee-milan-report.bin"),
  "--vcek",
  join(SNP, "virtee-milan-vcek.der"),
  "--now",
  "2024-01-01T00:00:00Z",
];

function manifestWith(rv: Partial<Manifest["ReferenceValues"]>): string {
  const dir = tempDir();
  const file = join(dir, "manifest.json");
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

const s2Entry = (
  measurement = "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
) => {
  const base = parseManifest(readFileSync(join(REPO, "testdata/manifests/v1.5-metal-qemu-snp.json"))).manifest
    ?.ReferenceValues.snp[0];
  if (!base) throw new Error("fixture");
  return {
    ...base,
    TrustedMeasurement: measurement,
    MinimumTCB: { BootloaderVersion: 3, TEEVersion: 0, SNPVersion: 8, MicrocodeVersion: 115 },
  };
};

describe("contrast attestation verify", () => {
  it("verifies a captured report offline and prints its claims", async () => {
    const r = await cli(S2);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("VCEK-signed report from a Milan verified");
    expect(r.stdout).toContain("measurement  7a1e5c26");
    const json = JSON.parse((await cli(["-o", "json", ...S2])).stdout);
    expect(json.claims).toMatchObject({
      product: "Milan",
      signingKey: "vcek",
      vmpl: 0,
      tcb: { reported: { microcode: 115 } },
    });
  });

  it("matches reference values from a manifest", async () => {
    // This vector was not launched by a Contrast runtime: it has no deterministic ID block.
    // AMD's CRL of that time is not in testdata: revocation stays unchecked in these tests.
    const strict = await cli([...S2, "--allow-missing-crl", "--reference-values", manifestWith({ snp: [s2Entry()] })]);
    expect(strict.status).toBe(2);
    expect(strict.stderr).toContain("[ATTESTATION_ID_KEY_MISMATCH]");
    expect(strict.stderr).toContain("ID_KEY_DIGEST: expected ");
    const r = await cli([
      ...S2,
      "--skip-id-block",
      "--allow-missing-crl",
      "--reference-values",
      manifestWith({ snp: [s2Entry()] }),
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("matches reference values entry 0");
  });

  it("exits 2 with a policy code when genuine evidence does not match", async () => {
    const r = await cli([
      ...S2,
      "--allow-missing-crl",
      "--reference-values",
      manifestWith({ snp: [s2Entry("00".repeat(48))] }),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("[ATTESTATION_MEASUREMENT_MISMATCH]");
    expect(r.stderr).toContain("MEASUREMENT: expected 000000");
    const debug = await cli([
      "attestation",
      "verify",
      join(SNP, "gsg-milan-report.bin"),
      "--vcek",
      join(SNP, "gsg-milan-vcek.der"),
      "--now",
      "2024-01-01T00:00:00Z",
      "--allow-missing-crl",
      "--reference-values",
      manifestWith({
        snp: [
          s2Entry("b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"),
        ],
      }),
    ]);
    expect(debug.status).toBe(2);
    expect(debug.stderr).toContain("POLICY.debug: expected not allowed, got allowed");
  });

  it("exits 1 with an evidence code when the report or chain is broken", async () => {
    const dir = tempDir();
    const tampered = new Uint8Array(readFileSync(join(SNP, "virtee-milan-report.bin")));
    tampered[0x90] = (tampered[0x90] as number) ^ 0x80;
    writeFileSync(join(dir, "r.bin"), tampered);
    const r = await cli([
      "attestation",
      "verify",
      join(dir, "r.bin"),
      "--vcek",
      join(SNP, "virtee-milan-vcek.der"),
      "--now",
      "2024-01-01T00:00:00Z",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[SNP_SIGNATURE_INVALID]");
    const expired = await cli([
      "attestation",
      "verify",
      join(SNP, "trustee-milan-vlek-report.bin"),
      "--vcek",
      join(SNP, "trustee-milan-vlek.der"),
      "--now",
      "2026-01-01T00:00:00Z",
    ]);
    expect(expired.status).toBe(1);
    expect(expired.stderr).toContain("[SNP_CERT_NOT_VALID_AT_TIME]");
  });

  it("verifies simulated evidence only against a manifest that names its ARK, and says so loudly", async () => {
    const clock = fixedClock("2026-11-22T00:00:00Z");
    const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
    const dir = tempDir();
    const hostData = new Uint8Array(32).fill(7);
    writeFileSync(
      join(dir, "report.bin"),
      sim.report({ reportData: new Uint8Array(64), measurement: fromHex(SIM_TRUSTED_MEASUREMENT), hostData }),
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

    const ok = await cli([
      ...args,
      "--reference-values",
      manifestWith({ sim: [simReferenceValues(sim.arkKeyDigest)] }),
      "--host-data",
      "07".repeat(32),
    ]);
    expect(ok.stderr).toContain("SIMULATED evidence");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("SIMULATED VCEK-signed report from a Genoa verified");

    const other = await cli([
      ...args,
      "--reference-values",
      manifestWith({ sim: [simReferenceValues("ab".repeat(32))] }),
    ]);
    // Without a trusted anchor the evidence itself cannot be trusted: exit 1, not a mismatch.
    expect(other.status).toBe(1);
    expect(other.stderr).toContain("[ATTESTATION_SIM_ANCHOR_NOT_TRUSTED]");

    const asHardware = await cli([
      "attestation",
      "verify",
      join(dir, "report.bin"),
      "--vcek",
      join(dir, "vcek.der"),
      "--now",
      "2026-11-22T00:00:00Z",
    ]);
    expect(asHardware.status).toBe(1);
    expect(asHardware.stderr).toContain("[SNP_CHAIN_INVALID]");

    const crlFile = join(tempDir(), "revoked.der");
    writeFileSync(crlFile, sim.crl({ now: clock.now(), revokeAsk: true }));
    const revoked = await cli([
      ...args,
      "--crl",
      crlFile,
      "--reference-values",
      manifestWith({ sim: [simReferenceValues(sim.arkKeyDigest)] }),
    ]);
    expect(revoked.status).toBe(1);
    expect(revoked.stderr).toContain("[SNP_CERT_REVOKED]");

    const hwManifest = await cli([...args, "--reference-values", manifestWith({ snp: [s2Entry()] })]);
    expect(hwManifest.stderr).toContain("has no sim reference values");
  });

  it("rejects bad options with usage errors", async () => {
    expect((await cli([...S2.slice(0, 5), "--now", "yesterday"])).stderr).toContain("[CLI_USAGE]");
    expect((await cli([...S2, "--report-data", "abcd"])).stderr).toContain("[CLI_USAGE]");
    expect((await cli(["attestation", "verify", join(SNP, "virtee-milan-report.bin")])).stderr).toContain(
      "no VCEK or VLEK given",
    );
    expect((await cli([...S2, "--platform", "sgx"])).stderr).toContain("[CLI_USAGE]");
  });
});

describe("contrast attestation verify --platform tdx", () => {
  const TDX = join(REPO, "testdata/attestation/tdx");
  const base = (quote: string, now: string) => [
    "attestation",
    "verify",
    join(TDX, quote),
    "--platform",
    "tdx",
    "--now",
    now,
  ];

  it("verifies a quote with dcap-qvl collateral: UpToDate", async () => {
    const r = await cli([
      ...base("phala-quote-v4.dat", "2025-07-01T00:00:00Z"),
      "--collateral",
      join(TDX, "phala-quote-v4-collateral.json"),
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("TCB status UpToDate (platform UpToDate, module UpToDate, QE UpToDate)");
  });

  it("reads a directory of PCS responses; OutOfDate exits 2 unless accepted", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tcb_info.json"), readFileSync(join(TDX, "trustee-tcbinfo-00a06d080000.json")));
    writeFileSync(join(dir, "tcb_info_issuer_chain.pem"), readFileSync(join(TDX, "phala-tcb-signing-chain-2025.pem")));
    writeFileSync(join(dir, "qe_identity.json"), readFileSync(join(TDX, "trustee-qeidentity.json")));
    const args = [...base("trustee-quote-v4-00a06d080000.dat", "2025-11-01T00:00:00Z"), "--collateral", dir];
    const strict = await cli(args);
    expect(strict.status).toBe(2);
    expect(strict.stderr).toContain("[TDX_TCB_STATUS_NOT_ACCEPTED]");
    const lenient = await cli([...args, "--accept-tcb-status", "UpToDate,OutOfDate", "-o", "json"]);
    expect(lenient.status).toBe(0);
    expect(JSON.parse(lenient.stdout).claims.tcb).toMatchObject({
      status: "OutOfDate",
      platformStatus: "OutOfDate",
      moduleStatus: "UpToDate",
    });
    expect((await cli([...args, "--accept-tcb-status", "Fine"])).stderr).toContain("[CLI_USAGE]");
  });

  it("checks Contrast's reference values: the debug TD fails on TDATTRIBUTES", async () => {
    const q = "trustee-quote-v4-debugtd.dat";
    const json = JSON.parse((await cli(["-o", "json", ...base(q, "2023-07-01T01:00:00Z")])).stdout).claims;
    // go-tdx-guest's collateral for FMSPC 50806f000000, with both CRLs: judging needs all of it.
    const collateral = tempDir();
    for (const [to, from] of [
      ["tcb_info.json", "gtg-tcbinfo-50806f000000.json"],
      ["tcb_info_issuer_chain.pem", "gtg-tcb-signing-chain-2018.pem"],
      ["qe_identity.json", "gtg-qeidentity.json"],
      ["pck_crl.der", "gtg-pckcrl-platform.der"],
      ["root_crl.der", "gtg-rootcrl.der"],
    ] as const) {
      writeFileSync(join(collateral, to), readFileSync(join(TDX, from)));
    }
    const entry = {
      MrTd: json.mrTd,
      Rtrms: json.rtmrs,
      MinimumQeSvn: 4,
      MinimumPceSvn: 11,
      MinimumTeeTcbSvn: json.teeTcbSvn,
      MrSeam: json.mrSeam,
      TdAttributes: "0000001000000000",
      Xfam: json.xfam,
    };
    const judge = (e: object) =>
      cli([
        ...base(q, "2023-07-01T01:00:00Z"),
        "--collateral",
        collateral,
        "--reference-values",
        manifestWith({ tdx: [e as typeof entry] }),
      ]);
    const r = await judge(entry);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("TDATTRIBUTES: expected 0000001000000000, got 0100001000000000");
    // A manifest that expects the debug bit is refused, and the validator refuses debug TDs anyway.
    const same = await judge({ ...entry, TdAttributes: "0100001000000000" });
    expect(same.status).toBe(1);
    expect(same.stderr).toContain("[REFERENCE_VALUES_INVALID]");
    expect(same.stderr).toContain("TdAttributes sets DEBUG");
  });

  it("exits 1 for a tampered quote", async () => {
    const dir = tempDir();
    const quote = new Uint8Array(readFileSync(join(TDX, "phala-quote-v4.dat")));
    quote[0x100] = (quote[0x100] as number) ^ 4;
    writeFileSync(join(dir, "q.dat"), quote);
    const r = await cli([
      "attestation",
      "verify",
      join(dir, "q.dat"),
      "--platform",
      "tdx",
      "--now",
      "2025-07-01T00:00:00Z",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[TDX_QUOTE_SIGNATURE_INVALID]");
  });
});

describe("contrast attestation verify with evidence documents", () => {
  it("reads a sevsnp.Attestation document: VCEK and CRL from the document", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "doc.pb"),
      encodeSnpEvidence({
        report: new Uint8Array(readFileSync(join(SNP, "virtee-milan-report.bin"))),
        vcek: new Uint8Array(readFileSync(join(SNP, "virtee-milan-vcek.der"))),
        product: { name: "Milan", machineStepping: 0 },
      }),
    );
    const r = await cli(["attestation", "verify", join(dir, "doc.pb"), "--now", "2024-01-01T00:00:00Z", "-o", "json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).claims).toMatchObject({
      product: "Milan",
      measurement: expect.stringMatching(/^7a1e5c26/),
    });
  });

  it("reads a simulated document whose chain must still be named by the reference values", async () => {
    const clock = fixedClock("2026-11-22T00:00:00Z");
    const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
    const dir = tempDir();
    const report = sim.report({
      reportData: new Uint8Array(64),
      measurement: fromHex(SIM_TRUSTED_MEASUREMENT),
      hostData: new Uint8Array(32),
    });
    const doc = (revokeAsk: boolean) =>
      encodeSnpEvidence({
        report,
        vcek: sim.vcek,
        ask: new Uint8Array(sim.roots.ask.raw),
        ark: new Uint8Array(sim.roots.ark.raw),
        crl: sim.crl({ now: clock.now(), revokeAsk }),
      });
    writeFileSync(join(dir, "doc.pb"), doc(false));
    writeFileSync(join(dir, "revoked.pb"), doc(true));
    const args = (file: string, ark: string) => [
      "attestation",
      "verify",
      join(dir, file),
      "--platform",
      "sim",
      "--now",
      "2026-11-22T00:00:00Z",
      "--reference-values",
      manifestWith({ sim: [simReferenceValues(ark)] }),
    ];
    const ok = await cli(args("doc.pb", sim.arkKeyDigest));
    expect(ok.status).toBe(0);
    const stranger = await cli(args("doc.pb", "cd".repeat(32)));
    expect(stranger.status).toBe(1);
    expect(stranger.stderr).toContain("[ATTESTATION_SIM_ANCHOR_NOT_TRUSTED]");
    const revoked = await cli(args("revoked.pb", sim.arkKeyDigest));
    expect(revoked.status).toBe(1);
    expect(revoked.stderr).toContain("[SNP_CERT_REVOKED]");
  });

  it("reads a tdx.QuoteV4 document and verifies the collateral it carries", async () => {
    const TDX = join(REPO, "testdata/attestation/tdx");
    const dir = tempDir();
    const collateral = collateralFromDcapQvl(readFileSync(join(TDX, "phala-quote-v4-collateral.json"), "utf8"));
    writeFileSync(
      join(dir, "doc.pb"),
      encodeTdxEvidence({ quote: new Uint8Array(readFileSync(join(TDX, "phala-quote-v4.dat"))), collateral }),
    );
    const r = await cli([
      "attestation",
      "verify",
      join(dir, "doc.pb"),
      "--platform",
      "tdx",
      "--now",
      "2025-07-01T00:00:00Z",
      "-o",
      "json",
    ]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).claims.tcb).toMatchObject({ status: "UpToDate" });
    const damaged = readFileSync(join(dir, "doc.pb"));
    writeFileSync(join(dir, "short.pb"), damaged.subarray(0, damaged.length - 10));
    const bad = await cli(["attestation", "verify", join(dir, "short.pb"), "--platform", "tdx"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("[EVIDENCE_DOCUMENT_MALFORMED]");
  });
});
