import { join } from "node:path";
import { createServiceClient, grpcServiceDefinition, MeshAPI, UserAPI } from "@contrast/api";
import { reportData } from "@contrast/atls";
import { fromHex, type Logger, toHex } from "@contrast/core";
import { publicKeyDer } from "@contrast/mesh-pki";
import { expectCodeAsync, scratchDir } from "@contrast/testkit";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Caller,
  COORDINATOR_GRPC_SERVER_OPTIONS,
  type Coordinator,
  GRPC_MAX_MESSAGE_BYTES,
  type MemoryStore,
  meshApiHandlers,
  userApiHandlers,
} from "../src/index.js";
import { ecKey, fakeEvidence, open, policyHash, rsaKey, SNP_OID, setRequest } from "./fixture.js";

// The transport is not under test here (the aTLS server's peerOf is): the caller's key travels in
// a metadata entry that only this test server reads.
const KEY_HEADER = "x-test-client-spki";
const peerOf = (call: grpc.ServerUnaryCall<unknown, unknown>): Caller | undefined => {
  const v = call.metadata.get(KEY_HEADER)[0];
  if (v === "explode") throw new TypeError("peerOf bug");
  return typeof v === "string" ? { publicKeyDer: fromHex(v) } : undefined;
};
const as = (key: ReturnType<typeof ecKey>) => {
  const md = new grpc.Metadata();
  md.set(KEY_HEADER, toHex(publicKeyDer(key)));
  return { metadata: md };
};

const owner = ecKey();
const stranger = ecKey();
const spec = { policies: { web: { SANs: ["web"] } }, owners: [owner], seedShareOwners: [rsaKey()] };

let server: grpc.Server;
let coordinator: Coordinator;
let address: string;
const logged: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug: (message, fields) => logged.push({ level: "debug", message, ...(fields ? { fields } : {}) }),
  info: (message, fields) => logged.push({ level: "info", message, ...(fields ? { fields } : {}) }),
  warn: (message, fields) => logged.push({ level: "warn", message, ...(fields ? { fields } : {}) }),
  error: (message, fields) => logged.push({ level: "error", message, ...(fields ? { fields } : {}) }),
};

beforeAll(async () => {
  coordinator = await open().coordinator;
  server = new grpc.Server(COORDINATOR_GRPC_SERVER_OPTIONS);
  const user = userApiHandlers(coordinator, peerOf, { logger });
  server.addService(grpcServiceDefinition(UserAPI), user);
  server.addService(grpcServiceDefinition(UserAPI, "userapi.UserAPI"), user);
  server.addService(grpcServiceDefinition(MeshAPI), meshApiHandlers(coordinator, peerOf, { logger }));
  address = `unix://${join(scratchDir("contrast-coordinator-grpc-"), "c.sock")}`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
  );
});
afterAll(() => server?.forceShutdown());

const userClient = () => createServiceClient(UserAPI, address, grpc.credentials.createInsecure());
const meshClient = () => createServiceClient(MeshAPI, address, grpc.credentials.createInsecure());

/** The raw gRPC status of a failing call. */
async function statusOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (e) {
    const cause = (e as { cause?: { code?: number } }).cause;
    return grpc.status[cause?.code ?? -1] ?? "none";
  }
  return "OK";
}

describe("gRPC handlers", () => {
  it("answer each state and refusal with upstream's status and our code", async () => {
    const user = userClient();
    const mesh = meshClient();
    // Before any manifest.
    expect(await statusOf(() => user.getManifests({}))).toBe("FAILED_PRECONDITION");
    await expectCodeAsync(() => user.getManifests({}), "COORDINATOR_NO_MANIFEST");
    expect(await statusOf(() => user.recover({ Seed: new Uint8Array(64), Salt: new Uint8Array(32) }))).toBe(
      "FAILED_PRECONDITION",
    );
    expect(await statusOf(() => mesh.newMeshCert({}, as(ecKey("P-256"))))).toBe("UNAVAILABLE");
    expect(await statusOf(() => user.setManifest(setRequest(spec, [])))).toBe("INVALID_ARGUMENT");

    const set = await user.setManifest(setRequest(spec));
    expect(set.SeedSharesDoc?.SeedShares).toHaveLength(1);
    expect(await statusOf(() => user.setManifest(setRequest(spec), as(stranger)))).toBe("PERMISSION_DENIED");
    await expectCodeAsync(
      () => user.setManifest(setRequest(spec), as(stranger)),
      "COORDINATOR_UPDATE_UNAUTHORIZED",
      "policy",
    );
    await user.setManifest(setRequest(spec), as(owner));
    expect((await user.getManifests({})).Manifests).toHaveLength(2);
    expect(await statusOf(() => user.recover({ Seed: new Uint8Array(64), Salt: new Uint8Array(32) }))).toBe(
      "FAILED_PRECONDITION",
    );
    user.close();
    mesh.close();
  });

  it("serve the mesh certificate flow, and refuse a replayed nonce with UNAUTHENTICATED", async () => {
    const mesh = meshClient();
    const key = ecKey("P-256");
    const { Nonce, TtlSeconds } = await mesh.newAttestationNonce({}, as(key));
    expect(Nonce).toHaveLength(32);
    expect(TtlSeconds).toBe(60);
    const request = {
      AttestationNonce: Nonce,
      Evidence: fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), Nonce)),
      EvidenceOID: SNP_OID,
    };
    const res = await mesh.newMeshCert(request, as(key));
    expect(Buffer.from(res.CertChain).toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(await statusOf(() => mesh.newMeshCert(request, as(key)))).toBe("UNAUTHENTICATED");
    await expectCodeAsync(() => mesh.newMeshCert(request, as(key)), "COORDINATOR_NONCE_UNKNOWN", "crypto");
    expect(await statusOf(() => mesh.newAttestationNonce({}))).toBe("PERMISSION_DENIED");
    mesh.close();
  });

  it("serve the user API under the pre-1.0 name userapi.UserAPI too", async () => {
    const legacy = grpc.makeGenericClientConstructor(grpcServiceDefinition(UserAPI, "userapi.UserAPI"), "UserAPI");
    const client = new legacy(address, grpc.credentials.createInsecure());
    const manifests = await new Promise<{ Manifests: Uint8Array[] }>((resolve, reject) =>
      (
        client as unknown as Record<
          string,
          (r: object, cb: (e: Error | null, r: { Manifests: Uint8Array[] }) => void) => void
        >
      ).getManifests?.({}, (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(manifests.Manifests.length).toBeGreaterThan(0);
    client.close();
  });

  it("refuse a message over the size limit and keep serving", async () => {
    const user = userClient();
    const huge = { Manifest: new Uint8Array(GRPC_MAX_MESSAGE_BYTES + 1), Policies: [] };
    expect(await statusOf(() => user.setManifest(huge, as(owner)))).toBe("RESOURCE_EXHAUSTED");
    expect((await user.getManifests({})).Manifests.length).toBeGreaterThan(0);
    user.close();
  });

  it("answer a bug with INTERNAL and a fixed message, and log the original", async () => {
    const user = userClient();
    const md = new grpc.Metadata();
    md.set(KEY_HEADER, "explode");
    expect(await statusOf(() => user.getManifests({}, { metadata: md }))).toBe("INTERNAL");
    await expectCodeAsync(() => user.getManifests({}, { metadata: md }), "INTERNAL");
    const bug = logged.find((l) => l.level === "error" && l.message === "rpc failed");
    expect(String(bug?.fields?.error)).toMatch(/TypeError: peerOf bug/);
    user.close();
    // Refusals are logged at debug level only: they are the callers' problem.
    const mesh = meshClient();
    const before = logged.length;
    await statusOf(() => mesh.newMeshCert({}, as(ecKey("P-256"))));
    expect(logged.slice(before).some((l) => l.level === "debug" && l.message === "rpc refused")).toBe(true);
    mesh.close();
  });

  it("report a damaged history as INTERNAL, never serving the damaged bytes", async () => {
    const o = open();
    const c = await o.coordinator;
    await c.setManifest(setRequest(spec));
    const damagedServer = new grpc.Server(COORDINATOR_GRPC_SERVER_OPTIONS);
    damagedServer.addService(grpcServiceDefinition(UserAPI), userApiHandlers(c, peerOf));
    const addr = `unix://${join(scratchDir("contrast-coordinator-grpc-"), "d.sock")}`;
    await new Promise<void>((resolve, reject) =>
      damagedServer.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    const key = (o.store as MemoryStore).keys().find((k) => k.startsWith("manifests/")) as string;
    await o.store.set(key, new TextEncoder().encode("{}"));
    const user = createServiceClient(UserAPI, addr, grpc.credentials.createInsecure());
    expect(await statusOf(() => user.getManifests({}))).toBe("INTERNAL");
    await expectCodeAsync(() => user.getManifests({}), "HISTORY_HASH_MISMATCH", "crypto");
    user.close();
    damagedServer.forceShutdown();
  });
});
