import { createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServiceClient, UserAPI } from "@contrast/api";
import { atlsChannelCredentials } from "@contrast/atls";
import {
  loadSimulatedAuthority,
  nodeSimAuthorityFileSystem,
  type SimulatedAuthority,
} from "@contrast/attestation/testing";
import { sha256Hex, systemClock, utf8 } from "@contrast/core";
import {
  SIM_COORDINATOR_POLICY_HASH,
  SIM_COORDINATOR_POLICY_LABEL,
  serializeManifest,
  simReferenceValues,
} from "@contrast/manifest";
import { cryptoRandom } from "@contrast/mesh-pki";
import { openssl } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIALIZER, type LogLine, type Running, retrying, start, startCoordinator } from "./processes.js";

const tmp = mkdtempSync(join(tmpdir(), "initializer-process-"));
const simDir = join(tmp, "sim");
let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
let authority: SimulatedAuthority;
const started: Running[] = [];

/** A workload's policy document and its hash, the manifest's key for it. */
const policy = (name: string) => {
  const doc = utf8(`package agent_policy\n# ${name}\n`);
  return { doc, hash: sha256Hex(doc) };
};
const web = policy("web");
const db = policy("db");

function manifestBytes(arkKeyDigest: string): Uint8Array {
  const Policies = new Map([
    [web.hash, { SANs: ["web", "*"], WorkloadSecretID: "apps/v1/Deployment/default/web", Role: "" }],
    [db.hash, { SANs: ["db", "*"], WorkloadSecretID: "", Role: "" }],
    [SIM_COORDINATOR_POLICY_HASH, { SANs: ["coordinator"], WorkloadSecretID: "", Role: "coordinator" }],
  ]);
  return utf8(
    serializeManifest({
      Policies,
      ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(arkKeyDigest)] },
      WorkloadOwnerKeyDigests: [],
      SeedshareOwnerPubKeys: [],
    }),
  );
}

async function setManifest(): Promise<void> {
  const credentials = atlsChannelCredentials({
    verify: {
      referenceValues: { sim: [simReferenceValues(authority.arkKeyDigest)] },
      allowedHostData: [SIM_COORDINATOR_POLICY_HASH],
      clock: systemClock,
    },
    clientKey: generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey,
    random: cryptoRandom,
  });
  const user = createServiceClient(UserAPI, `127.0.0.1:${coordinator.userApiPort}`, credentials);
  try {
    await user.setManifest({
      Manifest: manifestBytes(authority.arkKeyDigest),
      Policies: [web.doc, db.doc, utf8(SIM_COORDINATOR_POLICY_LABEL)],
    });
  } finally {
    user.close();
  }
}

// Set once; tests after the one that sets it (or run alone with -t) share it.
let manifestSet: Promise<void> | undefined;
const ensureManifest = () => {
  manifestSet ??= setManifest();
  return manifestSet;
};

/** Runs the built initializer as a pod would, on the sim platform, with its root under `tmp`. */
function initializer(
  name: string,
  policyHash: string,
  extra: readonly string[] = [],
  port?: number,
): Running & { root: string } {
  const root = join(tmp, name);
  const r = start(
    INITIALIZER,
    [
      "--platform",
      "sim",
      "--sim-dir",
      simDir,
      "--sim-policy-hash",
      policyHash,
      "--root",
      root,
      "--done-file",
      join(root, "done"),
      "--mesh-api-port",
      String(port ?? coordinator.meshApiPort),
      "--retry-initial",
      "0.05",
      "--retry-max",
      "0.2",
      ...extra,
    ],
    { COORDINATOR_HOST: "127.0.0.1" },
  );
  started.push(r);
  return { ...r, root };
}

const mode = (path: string) => statSync(path).mode & 0o777;
const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => join(d.parentPath, d.name))
    : [];

beforeAll(async () => {
  coordinator = await startCoordinator(join(tmp, "state"), simDir);
  const loaded = await loadSimulatedAuthority(join(simDir, "authority.json"), nodeSimAuthorityFileSystem);
  if (loaded === undefined) throw new Error("the Coordinator made no sim authority");
  authority = loaded;
}, 120_000);
afterAll(() => {
  for (const r of started) r.proc.kill("SIGKILL");
  coordinator?.proc.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

// Real processes on a machine shared with the rest of the suite: generous per-test budgets.
describe("the built initializer against a real Coordinator process (sim)", { timeout: 90_000 }, () => {
  it("before any manifest: keeps retrying and says why; SIGTERM stops it (143) with nothing written", async () => {
    const p = initializer("stopped", web.hash);
    const first = await p.waitFor(retrying("not-ready"), "not-ready");
    expect(first).toMatchObject({ level: "WARN", error: { code: "COORDINATOR_MESH_NOT_READY" } });
    // Further attempts of the same reason are logged at info, each with its delay.
    await p.waitFor((l) => retrying("not-ready")(l) && (l.attempt as number) >= 3, "a third attempt");
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(143);
    expect(p.logs.at(-1)).toMatchObject({ level: "WARN", error: { code: "INITIALIZER_STOPPED" } });
    expect(filesUnder(p.root)).toEqual([]);
  });

  it("many failed attempts hold no file descriptors: each attempt's connection is closed", async () => {
    // Still before the manifest: every attempt is a TLS connection, a nonce, evidence, a refusal.
    const p = initializer("fds", web.hash, ["--retry-initial", "0.01", "--retry-max", "0.01"]);
    const fds = () => readdirSync(`/proc/${p.proc.pid}/fd`).length;
    const attempt = (n: number) => (l: LogLine) => typeof l.attempt === "number" && l.attempt >= n;
    await p.waitFor(attempt(10), "attempt 10");
    const early = fds();
    await p.waitFor(attempt(100), "attempt 100", 60_000);
    const late = fds();
    expect(late - early).toBeLessThanOrEqual(3);
    expect(p.logs.filter(retrying("not-ready")).length).toBeGreaterThanOrEqual(100);
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(143);
  });

  it("started before the manifest, gets its credentials once one lists its policy: files, contents and modes", async () => {
    const p = initializer("web", web.hash);
    await p.waitFor(retrying("not-ready"), "not-ready");
    await ensureManifest();
    expect(await p.exited).toBe(0);
    expect(p.logs.find((l) => l.msg === "wrote the workload's credentials")).toMatchObject({ workloadSecret: true });

    const tls = join(p.root, "tls-config");
    const secrets = join(p.root, "secrets");
    expect(mode(tls)).toBe(0o755);
    expect(mode(secrets)).toBe(0o755);
    for (const f of ["mesh-ca.pem", "certChain.pem", "coordinator-root-ca.pem"]) expect(mode(join(tls, f))).toBe(0o444);
    expect(mode(join(tls, "key.pem"))).toBe(0o400);
    expect(mode(join(secrets, "workload-secret-seed"))).toBe(0o400);
    expect(readFileSync(join(p.root, "done")).length).toBe(0);
    // Nothing else: no temporary files left behind.
    expect(filesUnder(p.root).sort()).toEqual(
      [
        "done",
        "secrets/workload-secret-seed",
        "tls-config/certChain.pem",
        "tls-config/coordinator-root-ca.pem",
        "tls-config/key.pem",
        "tls-config/mesh-ca.pem",
      ].map((f) => join(p.root, f)),
    );

    // The chain verifies with openssl against mesh-ca.pem, and (through the intermediate) the root CA.
    const chain = readFileSync(join(tls, "certChain.pem"), "utf8");
    const pems = chain.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
    expect(pems.length).toBe(2);
    const leafPath = join(tmp, "leaf.pem");
    const intermediatePath = join(tmp, "intermediate.pem");
    writeFileSync(leafPath, pems[0] as string);
    writeFileSync(intermediatePath, pems[1] as string);
    expect(openssl(["verify", "-CAfile", join(tls, "mesh-ca.pem"), leafPath]).toString()).toContain("OK");
    expect(
      openssl([
        "verify",
        "-CAfile",
        join(tls, "coordinator-root-ca.pem"),
        "-untrusted",
        intermediatePath,
        leafPath,
      ]).toString(),
    ).toContain("OK");
    const leaf = new X509Certificate(pems[0] as string);
    expect(leaf.subjectAltName).toContain("DNS:web");

    // key.pem is PKCS#8 and is the key of the leaf (openssl's view and Node's agree).
    const keyPem = readFileSync(join(tls, "key.pem"), "utf8");
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const fromKey = openssl(["pkey", "-in", join(tls, "key.pem"), "-pubout"]).toString();
    const fromCert = openssl(["x509", "-in", leafPath, "-noout", "-pubkey"]).toString();
    expect(fromKey).toBe(fromCert);
    expect(createPublicKey(keyPem).asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" });

    // The workload secret: 64 bytes as lower-case hex text, no newline.
    expect(readFileSync(join(secrets, "workload-secret-seed"), "utf8")).toMatch(/^[0-9a-f]{128}$/);
  });

  it("a workload without a WorkloadSecretID gets no secrets directory", async () => {
    await ensureManifest();
    const p = initializer("db", db.hash);
    expect(await p.exited).toBe(0);
    expect(existsSync(join(p.root, "tls-config/certChain.pem"))).toBe(true);
    expect(existsSync(join(p.root, "secrets"))).toBe(false);
  });

  it("a policy the manifest does not list: refused as permission denied, it keeps retrying; SIGINT stops it (130)", async () => {
    await ensureManifest();
    const p = initializer("unknown", sha256Hex(utf8("another policy")));
    const denied = await p.waitFor(retrying("denied"), "denied");
    expect(denied.msg).toContain("permission denied");
    expect(["COORDINATOR_POLICY_NOT_IN_MANIFEST", "ATLS_HOST_DATA_NOT_ALLOWED"]).toContain(
      (denied.error as { code: string }).code,
    );
    await p.waitFor((l) => retrying("denied")(l) && (l.attempt as number) >= 2, "a second attempt");
    p.proc.kill("SIGINT");
    expect(await p.exited).toBe(130);
    expect(filesUnder(p.root)).toEqual([]);
  });

  it("verifies the Coordinator when given a manifest; refuses one the manifest does not trust", async () => {
    await ensureManifest();
    const good = join(tmp, "manifest.json");
    writeFileSync(good, manifestBytes(authority.arkKeyDigest));
    const ok = initializer("verified", web.hash, ["--coordinator-manifest", good]);
    expect(await ok.exited).toBe(0);
    expect(existsSync(join(ok.root, "tls-config/key.pem"))).toBe(true);

    // A manifest naming another simulated TEE's ARK: the Coordinator's evidence does not meet it.
    const bad = join(tmp, "other-manifest.json");
    writeFileSync(bad, manifestBytes(sha256Hex(utf8("another simulated ARK"))));
    const refused = initializer("unverified", web.hash, ["--coordinator-manifest", bad]);
    const line = await refused.waitFor(retrying("coordinator-unverified"), "coordinator-unverified");
    expect(line.error).toMatchObject({ code: "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED" });
    refused.proc.kill("SIGTERM");
    expect(await refused.exited).toBe(143);
    expect(filesUnder(refused.root)).toEqual([]);
  });

  it.skipIf(existsSync("/sys/kernel/config/tsm/report"))(
    "--platform snp without configfs-tsm (skipped where the kernel has it): no evidence, retried with the reason",
    async () => {
      const root = join(tmp, "snp");
      const p = start(
        INITIALIZER,
        ["--platform", "snp", "--mesh-api-port", String(coordinator.meshApiPort), "--root", root],
        {
          COORDINATOR_HOST: "127.0.0.1",
        },
      );
      started.push(p);
      const line = await p.waitFor(retrying("no-evidence"), "no-evidence");
      expect(["TSM_UNAVAILABLE", "ATLS_ISSUER_FAILED"]).toContain((line.error as { code: string }).code);
      p.proc.kill("SIGTERM");
      expect(await p.exited).toBe(143);
      expect(filesUnder(root)).toEqual([]);
    },
  );

  it("an unreachable Coordinator: retries, saying so", async () => {
    // A port nothing listens on: the Coordinator's own user API port is aTLS, so use a closed one.
    const p = initializer("unreachable", web.hash, [], 1);
    const line = await p.waitFor(retrying("unreachable"), "unreachable");
    expect(line.msg).toBe("the Coordinator is unreachable; retrying");
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(143);
  });

  it("refuses bad configuration with a code: exit 2; a sim dir without an authority: exit 1", async () => {
    const noHost = start(INITIALIZER, ["--platform", "sim"]);
    expect(await noHost.exited).toBe(2);
    expect(noHost.logs[0]).toMatchObject({ error: { code: "INITIALIZER_COORDINATOR_HOST_REQUIRED" } });
    const badHash = start(INITIALIZER, ["--platform", "sim", "--sim-policy-hash", "xyz"], { COORDINATOR_HOST: "c" });
    expect(await badHash.exited).toBe(2);
    expect(badHash.logs[0]).toMatchObject({ error: { code: "INITIALIZER_CONFIG_INVALID" } });
    const noAuthority = start(
      INITIALIZER,
      ["--platform", "sim", "--sim-dir", join(tmp, "empty"), "--sim-policy-hash", web.hash, "--root", join(tmp, "x")],
      { COORDINATOR_HOST: "127.0.0.1" },
    );
    expect(await noAuthority.exited).toBe(1);
    expect(noAuthority.logs.at(-1)).toMatchObject({ error: { code: "INITIALIZER_SIM_AUTHORITY_MISSING" } });
    // A --coordinator-manifest that is not a manifest: exit 1 with the manifest's code, before any attempt.
    const broken = join(tmp, "broken-manifest.json");
    writeFileSync(broken, "{}");
    const badManifest = initializer("broken-manifest", web.hash, ["--coordinator-manifest", broken]);
    expect(await badManifest.exited).toBe(1);
    expect(badManifest.logs.at(-1)).toMatchObject({ error: { code: expect.stringMatching(/^MANIFEST_/) } });
    expect(badManifest.logs.some((l) => l.msg === "requesting mesh credentials")).toBe(false);
  });
});
