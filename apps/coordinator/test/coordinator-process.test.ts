import { execFile } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { EvidenceBinding, type GetManifestsResponse } from "@contrast/api";
import { atlsChannelCredentials } from "@contrast/atls";
import type { SimulatedAuthority } from "@contrast/attestation/testing";
import { toBase64 } from "@contrast/core";
import { publicKeyDer, recoverSeed } from "@contrast/mesh-pki";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ecKey,
  loadSim,
  meshClient,
  requestMeshCert,
  rsaKey,
  setManifestRequest,
  simVerify,
  userClient,
} from "../bench/client.mjs";
import { APP, type RunningCoordinator, runToExit, startCoordinator } from "../bench/process.mjs";

const run = promisify(execFile);
const BUF = join(APP, "../../packages/api/node_modules/.bin/buf");
const PROTO = join(APP, "../../packages/api/proto");

const tmp = mkdtempSync(join(tmpdir(), "coordinator-process-"));
const stateDir = join(tmp, "state");
const simDir = join(tmp, "sim");
// A short handshake budget, so the stalled-client test does not wait the default 30 s.
const args = ["--platform", "sim", "--state-dir", stateDir, "--sim-dir", simDir, "--handshake-timeout", "3"];
let c: RunningCoordinator;
let authority: SimulatedAuthority;
const owner = ecKey("P-384");
const seedOwner = rsaKey();
const workloads = { web: { SANs: ["web", "web.default.svc"], WorkloadSecretID: "default/web" }, db: {} };
let seedShares: Parameters<typeof recoverSeed>[0];
let before: GetManifestsResponse;

beforeAll(async () => {
  c = await startCoordinator(args);
  authority = await loadSim(simDir);
}, 120_000);
afterAll(async () => {
  c?.proc.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
});

/** buf curl over TLS with a client nonce as SNI (v1.5's encoding); the certificate is not checked. */
async function bufCurl(method: string, port: number, body = "{}") {
  const url = `https://127.0.0.1:${port}/edgelesssys.contrast.userapi.UserAPI/${method}`;
  const servername = toBase64(new Uint8Array(randomBytes(32)));
  const a = [
    "curl",
    "--protocol",
    "grpc",
    "--insecure",
    "--servername",
    servername,
    "--schema",
    PROTO,
    "-d",
    body,
    url,
  ];
  return run(BUF, a).then(
    ({ stdout }) => ({ ok: true as const, out: JSON.parse(stdout) as Record<string, unknown> }),
    (e: { stdout?: string; stderr?: string }) => ({
      ok: false as const,
      out: JSON.parse(e.stderr || e.stdout || "{}"),
    }),
  );
}

const metric = async (name: string) => {
  const { body } = await c.probe("/metrics");
  const line = body.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(" ").pop());
};

describe("the built Coordinator on the simulated TEE", () => {
  it("refuses a bad configuration with a code and exit status 2", async () => {
    const r = await runToExit(["--state-dir", stateDir]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ level: "ERROR", error: { code: "SERVER_PLATFORM_REQUIRED" } });
    const busy = await runToExit([...args, "--host", "127.0.0.1", "--user-api-port", String(c.userApiPort)]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("SERVER_PORT_UNAVAILABLE");
  });

  it("is started and live but not ready before a manifest, and serves its metrics", async () => {
    expect(await c.probe("/probe/startup")).toEqual({ status: 200, body: "ok\n" });
    expect((await c.probe("/probe/liveness")).status).toBe(200);
    expect(await c.probe("/probe/readiness")).toEqual({ status: 503, body: "no manifest set\n" });
    expect(await metric("contrast_coordinator_manifest_generation")).toBe(0);
  });

  it("answers buf curl (a Go gRPC client, plain TLS with the nonce in SNI): FailedPrecondition before a manifest", async () => {
    const r = await bufCurl("GetManifests", c.userApiPort);
    expect(r.ok).toBe(false);
    expect(r.out).toMatchObject({ code: "failed_precondition" });
  });

  it("sets a manifest, returns it, and issues mesh certificates through the nonce flow", async () => {
    const user = userClient(c.userApiPort, authority, owner);
    try {
      const set = await user.setManifest(
        setManifestRequest({ authority, workloads, owners: [owner], seedShareOwners: [seedOwner] }),
      );
      expect(new TextDecoder().decode(set.RootCA)).toMatch(/^-----BEGIN CERTIFICATE-----/);
      seedShares = set.SeedSharesDoc as typeof seedShares;
      before = await user.getManifests({});
      expect(before.Manifests).toHaveLength(1);
    } finally {
      user.close();
    }
    expect((await c.probe("/probe/readiness")).status).toBe(200);
    expect(await metric("contrast_coordinator_manifest_generation")).toBe(1);

    const meshKey = ecKey();
    const mesh = meshClient(c.meshApiPort, authority, meshKey);
    try {
      const res = await requestMeshCert(mesh, authority, meshKey, "web", { binding: "nonce" });
      const pems = new TextDecoder()
        .decode(res.CertChain)
        .match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
      const leaf = new X509Certificate(pems?.[0] ?? "");
      const intermediate = new X509Certificate(pems?.[1] ?? "");
      // Issued for the key of this connection's client certificate, by the Coordinator's CA.
      expect(Buffer.from(leaf.publicKey.export({ type: "spki", format: "der" }))).toEqual(
        Buffer.from(publicKeyDer(meshKey)),
      );
      expect(leaf.verify(intermediate.publicKey)).toBe(true);
      expect(leaf.subjectAltName).toContain("DNS:web.default.svc");
      expect(res.WorkloadSecret.length).toBeGreaterThan(0);
    } finally {
      mesh.close();
    }

    const r = await bufCurl("GetManifests", c.userApiPort);
    expect(r.ok).toBe(true);
    expect((r.out.Manifests as string[])[0]).toBe(toBase64(before.Manifests[0] as Uint8Array));
  });

  it("issues in one call for evidence bound to the connection's TLS exporter, and refuses another connection's", async () => {
    const failuresBefore = (await metric("contrast_meshapi_attestation_failures_total")) ?? 0;
    const meshKey = ecKey();
    // Two connections with the same client key: what a relay that somehow held the key would
    // have. Only the exporter tells them apart.
    const a = meshClient(c.meshApiPort, authority, meshKey);
    const b = meshClient(c.meshApiPort, authority, meshKey);
    try {
      const res = await requestMeshCert(a, authority, meshKey, "web");
      const leaf = new X509Certificate(Buffer.from(res.CertChain));
      expect(Buffer.from(leaf.publicKey.export({ type: "spki", format: "der" }))).toEqual(
        Buffer.from(publicKeyDer(meshKey)),
      );
      const [exporterA, exporterB] = [await a.channelBinding(), await b.channelBinding()];
      expect(Buffer.from(exporterA).equals(Buffer.from(exporterB))).toBe(false);
      // Evidence for connection A's exporter, sent on connection B: refused as evidence.
      await expect(requestMeshCert(b, authority, meshKey, "web", { exporter: exporterA })).rejects.toMatchObject({
        code: "ATLS_REPORT_DATA_MISMATCH",
        kind: "crypto",
      });
      // A's own exporter on A still works (the same attested key, the same connection).
      await requestMeshCert(a, authority, meshKey, "web", { exporter: exporterA });
      // The exporter with a nonce as well is a malformed request.
      await expect(
        a.newMeshCert({
          AttestationNonce: exporterA,
          Evidence: new Uint8Array([1]),
          EvidenceOID: "1.3.9901.2.1",
          EvidenceBinding: EvidenceBinding.TLS_EXPORTER,
        }),
      ).rejects.toMatchObject({ code: "COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED" });
    } finally {
      a.close();
      b.close();
    }
    expect(await metric("contrast_meshapi_attestation_failures_total")).toBe(failuresBefore + 2);
  });

  it("never issues a certificate for evidence bound to another key, a used nonce or an unknown policy", async () => {
    const failuresBefore = (await metric("contrast_meshapi_attestation_failures_total")) ?? 0;
    const meshKey = ecKey();
    const mesh = meshClient(c.meshApiPort, authority, meshKey);
    try {
      await expect(requestMeshCert(mesh, authority, meshKey, "web", { evidenceKey: ecKey() })).rejects.toMatchObject({
        kind: "crypto",
      });
      const { Nonce } = await mesh.newAttestationNonce({});
      await requestMeshCert(mesh, authority, meshKey, "web", { nonce: Nonce }).catch(() => undefined);
      await expect(requestMeshCert(mesh, authority, meshKey, "web", { nonce: Nonce })).rejects.toBeDefined();
      await expect(requestMeshCert(mesh, authority, meshKey, "not-in-manifest")).rejects.toMatchObject({
        kind: "policy",
      });
    } finally {
      mesh.close();
    }
    expect(await metric("contrast_meshapi_attestation_failures_total")).toBeGreaterThanOrEqual(failuresBefore + 3);
  });

  it("answers malformed and oversized requests with a status and stays up; garbage and stalled TLS are cut", async () => {
    // A client that never finishes its handshake, held open for the whole test.
    const stalled = connect(c.userApiPort, "127.0.0.1");
    const stalledClosed = new Promise<void>((resolve) => stalled.on("close", () => resolve()));
    stalled.on("error", () => {});

    const garbage = connect(c.userApiPort, "127.0.0.1");
    garbage.on("error", () => {});
    garbage.write(randomBytes(4096));
    await new Promise<void>((resolve) => garbage.on("close", () => resolve()));

    const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
    const credentials = atlsChannelCredentials({
      verify: simVerify(authority),
      clientKey: owner,
      random: (n) => new Uint8Array(randomBytes(n)),
    });
    const client = new grpc.Client(`127.0.0.1:${c.userApiPort}`, credentials, {
      "grpc.max_send_message_length": 64 * 1024 * 1024,
    });
    const call = (body: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          "/edgelesssys.contrast.userapi.UserAPI/SetManifest",
          raw.serialize,
          raw.deserialize,
          body,
          (err) => resolve(err),
        ),
      );
    try {
      const malformed = await call(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
      expect(malformed?.code).toBe(grpc.status.INTERNAL);
      const oversized = await call(Buffer.alloc(5 * 1024 * 1024, 1));
      expect(oversized?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
    }
    const user = userClient(c.userApiPort, authority, owner);
    try {
      expect((await user.getManifests({})).Manifests).toHaveLength(1);
    } finally {
      user.close();
    }
    // The server cuts the stalled handshake after its budget (3 s here).
    await stalledClosed;
    const { body } = await c.probe("/metrics");
    expect(body).toMatch(/contrast_atls_handshake_failures_total\{api="user",reason="ATLS_[A-Z_]+"\} [1-9]/);
    expect(c.proc.exitCode).toBeNull();
  }, 30_000);

  it("after kill -9 restarts in recovery, is recovered with the seed, and its history is unchanged", async () => {
    c.proc.kill("SIGKILL");
    await c.exited;
    c = await startCoordinator(args);
    expect((await c.probe("/probe/readiness")).body).toMatch(/^recovery/);
    const user = userClient(c.userApiPort, authority, seedOwner);
    try {
      await expect(user.getManifests({})).rejects.toMatchObject({ code: "COORDINATOR_IN_RECOVERY" });
      const { seed, salt } = recoverSeed(seedShares, seedOwner);
      await user.recover({ Seed: seed, Salt: salt });
      const after = await user.getManifests({});
      expect(after.Manifests).toEqual(before.Manifests);
      expect(after.Policies).toEqual(before.Policies);
      // The root CA key comes from the seed: same key (its certificate is made anew, as upstream's).
      const rootKey = (pem: Uint8Array) =>
        new X509Certificate(Buffer.from(pem)).publicKey.export({ type: "spki", format: "der" });
      expect(rootKey(after.RootCA)).toEqual(rootKey(before.RootCA));
      expect(after.LatestTransition).toEqual(before.LatestTransition);
    } finally {
      user.close();
    }
    expect((await c.probe("/probe/readiness")).status).toBe(200);
  }, 60_000);

  it("stops gracefully on SIGTERM with exit status 0, closing idle client connections", async () => {
    // A client whose connection stays open (idle after a call) must not hold up the drain.
    const idle = userClient(c.userApiPort, authority, owner);
    await idle.getManifests({});
    const t0 = Date.now();
    c.proc.kill("SIGTERM");
    expect(await c.exited).toBe(0);
    expect(c.logs.find((l) => l.msg === "coordinator stopped")).toMatchObject({ drained: true });
    expect(Date.now() - t0).toBeLessThan(15_000);
    idle.close();
  });
});
