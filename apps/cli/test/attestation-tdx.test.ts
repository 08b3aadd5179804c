import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { collateralFromDcapQvl, encodeTdxEvidence, type TdxCollateral } from "@contrast/attestation";
import { type Manifest, serializeManifest, type TDXReferenceValues } from "@contrast/manifest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE, cli, REPO, tempDir } from "./helpers.js";

// The TDX findings of the adversarial audit (issue 11 §4), through the command: each of these
// exited 0 or 2 before its fix.

const TDX = join(REPO, "testdata/attestation/tdx");
const NOW = "2025-07-01T00:00:00Z";
const PHALA = JSON.parse(readFileSync(join(TDX, "phala-quote-v4-collateral.json"), "utf8"));
const verify = (file: string, ...rest: string[]) =>
  cli(["attestation", "verify", file, "--platform", "tdx", "--now", NOW, ...rest]);
const T3 = join(TDX, "phala-quote-v4.dat");

function manifestWith(tdx: TDXReferenceValues[]): string {
  const file = join(tempDir(), "manifest.json");
  const m: Manifest = {
    Policies: new Map(),
    ReferenceValues: { snp: [], tdx, sim: [] },
    WorkloadOwnerKeyDigests: null,
    SeedshareOwnerPubKeys: null,
  };
  writeFileSync(file, serializeManifest(m));
  return file;
}

/** T3's own values as a v1.5 entry. */
async function t3Entry(): Promise<TDXReferenceValues> {
  const claims = JSON.parse((await verify(T3, "-o", "json")).stdout).claims;
  return {
    MrTd: claims.mrTd,
    Rtrms: claims.rtmrs,
    MinimumQeSvn: 4,
    MinimumPceSvn: 11,
    MinimumTeeTcbSvn: claims.teeTcbSvn,
    MrSeam: claims.mrSeam,
    TdAttributes: "0000001000000000",
    Xfam: claims.xfam,
  };
}

/** T3's collateral as a directory of PCS responses, leaving out the named files. */
function pcsDirectory(...leaveOut: string[]): string {
  const dir = tempDir();
  const files: Record<string, string | Buffer> = {
    "tcb_info.json": `{"tcbInfo":${PHALA.tcb_info},"signature":"${PHALA.tcb_info_signature}"}`,
    "tcb_info_issuer_chain.pem": PHALA.tcb_info_issuer_chain,
    "qe_identity.json": `{"enclaveIdentity":${PHALA.qe_identity},"signature":"${PHALA.qe_identity_signature}"}`,
    "qe_identity_issuer_chain.pem": PHALA.qe_identity_issuer_chain,
    "pck_crl.der": Buffer.from(PHALA.pck_crl, "hex"),
    "root_crl.der": Buffer.from(PHALA.root_ca_crl, "hex"),
  };
  for (const [name, data] of Object.entries(files)) if (!leaveOut.includes(name)) writeFileSync(join(dir, name), data);
  return dir;
}

describe("attestation verify --platform tdx: judging needs complete collateral", () => {
  it("refuses --reference-values without collateral (exit 1), saying how to fetch it", async () => {
    const r = await verify(T3, "--reference-values", manifestWith([await t3Entry()]));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[TDX_COLLATERAL_REQUIRED]");
    expect(r.stderr).toContain("--fetch-collateral");
  });

  it("refuses reference values with collateral that lacks a CRL; accepts complete collateral", async () => {
    const rv = manifestWith([await t3Entry()]);
    for (const missing of ["pck_crl.der", "root_crl.der"]) {
      const r = await verify(T3, "--collateral", pcsDirectory(missing), "--reference-values", rv);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("[TDX_COLLATERAL_INCOMPLETE]");
    }
    const ok = await verify(T3, "--collateral", pcsDirectory(), "--reference-values", rv, "-o", "json");
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).claims).toMatchObject({
      matchedReferenceValues: 0,
      tcb: { status: "UpToDate", qeStatus: "UpToDate", revocationChecked: true },
    });
  });

  it("without reference values, looks at the quote with CRL-less collateral and warns", async () => {
    const r = await verify(T3, "--collateral", pcsDirectory("pck_crl.der", "root_crl.der"));
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("revocation was not checked");
  });
});

describe("attestation verify --platform tdx: the QE identity is never optional", () => {
  it("refuses a collateral directory without the QE identity (exit 1)", async () => {
    const r = await verify(T3, "--collateral", pcsDirectory("qe_identity.json", "qe_identity_issuer_chain.pem"));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[TDX_COLLATERAL_INCOMPLETE]");
  });

  it("refuses an evidence document whose sender left the QE identity out", async () => {
    const collateral: TdxCollateral = collateralFromDcapQvl(JSON.stringify(PHALA));
    delete collateral.qeIdentity;
    delete collateral.qeIdentityIssuerChain;
    const file = join(tempDir(), "doc.pb");
    writeFileSync(file, encodeTdxEvidence({ quote: new Uint8Array(readFileSync(T3)), collateral }));
    const r = await verify(file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[TDX_COLLATERAL_INCOMPLETE]");
  });
});

describe("attestation verify --platform tdx: exit classes", () => {
  it("collateral for another platform (TDX_FMSPC_MISMATCH) exits 1, not 2", async () => {
    const r = await verify(join(TDX, "trustee-quote-v4-debugtd.dat"), "--collateral", pcsDirectory());
    expect(r.stderr).toContain("[TDX_FMSPC_MISMATCH]");
    expect(r.status).toBe(1);
  });
});

describe("attestation verify --platform tdx: newer reference values", () => {
  it("MinTCBEvaluationDataNumber and AllowedPIIDs are enforced", async () => {
    const entry = await t3Entry();
    const claims = JSON.parse((await verify(T3, "--collateral", pcsDirectory(), "-o", "json")).stdout).claims;
    expect(claims.tcb.tcbEvaluationDataNumber).toBe(17);
    const piid = claims.pck.piid as string;
    expect(piid).toMatch(/^[0-9a-f]{32}$/);
    const judge = (e: TDXReferenceValues) =>
      verify(T3, "--collateral", pcsDirectory(), "--reference-values", manifestWith([e]));
    expect((await judge({ ...entry, MinTCBEvaluationDataNumber: 17, AllowedPIIDs: [piid] })).status).toBe(0);
    const old = await judge({ ...entry, MinTCBEvaluationDataNumber: 18 });
    expect(old.status).toBe(2);
    expect(old.stderr).toContain("TCB_EVALUATION_DATA_NUMBER: expected >= 18, got 17");
    const stranger = await judge({ ...entry, AllowedPIIDs: ["aa".repeat(16)] });
    expect(stranger.status).toBe(2);
    expect(stranger.stderr).toContain("[ATTESTATION_PIID_NOT_ALLOWED]");
  });
});

describe("attestation verify --platform tdx: --collateral-dir and --fetch-collateral", () => {
  let server: Server;
  let origin: string;
  const requests: string[] = [];

  beforeAll(async () => {
    const routes: Record<string, { body: Buffer; headers: Record<string, string> }> = {
      "/tdx/certification/v4/tcb?fmspc=b0c06f000000": {
        body: Buffer.from(`{"tcbInfo":${PHALA.tcb_info},"signature":"${PHALA.tcb_info_signature}"}`),
        headers: { "TCB-Info-Issuer-Chain": encodeURIComponent(PHALA.tcb_info_issuer_chain) },
      },
      "/tdx/certification/v4/qe/identity": {
        body: Buffer.from(`{"enclaveIdentity":${PHALA.qe_identity},"signature":"${PHALA.qe_identity_signature}"}`),
        headers: { "SGX-Enclave-Identity-Issuer-Chain": encodeURIComponent(PHALA.qe_identity_issuer_chain) },
      },
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der": {
        body: Buffer.from(PHALA.pck_crl, "hex"),
        headers: { "SGX-PCK-CRL-Issuer-Chain": encodeURIComponent(PHALA.pck_crl_issuer_chain) },
      },
      "/IntelSGXRootCA.der": { body: Buffer.from(PHALA.root_ca_crl, "hex"), headers: {} },
    };
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      const route = routes[req.url ?? ""];
      if (route) res.writeHead(200, route.headers).end(route.body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fetches from a PCS double into the directory, then judges offline from it alone", async () => {
    const dir = tempDir();
    const rv = manifestWith([await t3Entry()]);
    requests.length = 0;
    const online = await verify(
      T3,
      "--fetch-collateral",
      "--pcs-url",
      origin,
      "--collateral-dir",
      dir,
      "--reference-values",
      rv,
    );
    expect(online.stderr).toBe("");
    expect(online.status).toBe(0);
    expect(requests).toHaveLength(4);
    const offline = await verify(T3, "--collateral-dir", dir, "--reference-values", rv, "-o", "json");
    expect(offline.status).toBe(0);
    expect(requests).toHaveLength(4);
    expect(JSON.parse(offline.stdout).claims.tcb).toMatchObject({ status: "UpToDate", revocationChecked: true });
  });

  it("the bundled CLI fetches over real HTTP and then works offline", async () => {
    const dir = tempDir();
    const rv = manifestWith([await t3Entry()]);
    const run = (...args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [BUNDLE, "attestation", "verify", T3, "--platform", "tdx", "--now", NOW, "--reference-values", rv, ...args],
          { cwd: "/", encoding: "utf8" },
          (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    requests.length = 0;
    const online = await run("--fetch-collateral", "--pcs-url", origin, "--collateral-dir", dir);
    expect(online.stderr).toBe("");
    expect(online.status).toBe(0);
    expect(requests).toHaveLength(4);
    const offline = await run("--collateral-dir", dir);
    expect(offline.status).toBe(0);
    expect(offline.stdout).toContain("matches reference values entry 0");
    const missing = await run();
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("[TDX_COLLATERAL_REQUIRED]");
  });

  it("an empty offline directory is an error that names the missing document", async () => {
    const r = await verify(T3, "--collateral-dir", tempDir());
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[COLLATERAL_UNAVAILABLE]");
    expect(r.stderr).toContain("https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=b0c06f000000");
  });

  it("rejects --pcs-url without --fetch-collateral and a URL that is not an origin", async () => {
    expect((await verify(T3, "--pcs-url", origin)).stderr).toContain("[CLI_USAGE]");
    expect((await verify(T3, "--fetch-collateral", "--pcs-url", `${origin}/x`)).stderr).toContain("[CLI_USAGE]");
  });
});
