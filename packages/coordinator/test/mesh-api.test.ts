import { randomBytes, X509Certificate } from "node:crypto";
import { EvidenceBinding } from "@contrast/api";
import { channelBinding, reportData } from "@contrast/atls";
import { bytesEqual, fromUtf8, sha256Hex, toHex } from "@contrast/core";
import { publicKeyDer, SeedEngine } from "@contrast/mesh-pki";
import { expectCodeAsync } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Coordinator, MemoryStore } from "../src/index.js";
import {
  callerOf,
  ecKey,
  engineFromShares,
  fakeEvidence,
  fakeVerifier,
  meshCertFlow,
  open,
  policyHash,
  rsaKey,
  SNP_OID,
  setRequest,
} from "./fixture.js";

const shareOwner = rsaKey();
const spec = {
  policies: {
    web: { SANs: ["web", "web.default.svc", "10.0.0.7"] },
    db: { WorkloadSecretID: "db-secret" },
    coordinator: { Role: "coordinator" },
  },
  owners: [ecKey()],
  seedShareOwners: [shareOwner],
};

function chainOf(pem: Uint8Array): X509Certificate[] {
  return (fromUtf8(pem).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

async function running(extra: Parameters<typeof open>[1] = {}) {
  const o = open(new MemoryStore(), extra);
  const c = await o.coordinator;
  const res = await c.setManifest(setRequest(spec));
  return { ...o, c, shares: res.SeedSharesDoc };
}

describe("NewMeshCert", () => {
  it("issues a certificate for the caller's key with the entry's SANs, chained to the mesh CA", async () => {
    const { c, failures } = await running();
    const meshKey = ecKey("P-256");
    const res = await meshCertFlow(c, meshKey, policyHash("web"));
    const [leaf, intermediate] = chainOf(res.CertChain);
    const meshCa = new X509Certificate(Buffer.from(res.MeshCACert));
    const root = new X509Certificate(Buffer.from(res.RootCACert));
    expect(leaf?.publicKey.export({ type: "spki", format: "der" })).toEqual(Buffer.from(publicKeyDer(meshKey)));
    expect(leaf?.subjectAltName).toBe("DNS:web, DNS:web.default.svc, IP Address:10.0.0.7");
    expect(leaf?.verify(meshCa.publicKey)).toBe(true);
    expect(intermediate?.verify(root.publicKey)).toBe(true);
    expect(res.WorkloadSecret).toHaveLength(0);
    expect(failures).toEqual([]);
  });

  it("derives the workload secret from the seed when the entry names a WorkloadSecretID", async () => {
    const { c, shares } = await running();
    const res = await meshCertFlow(c, ecKey("P-256"), policyHash("db"));
    const { engine } = engineFromShares(shares, shareOwner);
    expect(toHex(res.WorkloadSecret)).toBe(toHex(engine.workloadSecret("db-secret")));
    // The certificate carries the workload secret ID extension (1.3.9901.3.1).
    const [leaf] = chainOf(res.CertChain);
    expect(leaf?.raw.includes(Buffer.from("db-secret"))).toBe(true);
  });

  it("refuses a policy hash that is not in the manifest (the verifier's allowed host data)", async () => {
    const { c, failures } = await running();
    await expectCodeAsync(
      () => meshCertFlow(c, ecKey("P-256"), sha256Hex(new Uint8Array([1]))),
      "ATTESTATION_HOST_DATA_MISMATCH",
    );
    expect(failures).toEqual(["ATTESTATION_HOST_DATA_MISMATCH"]);
  });

  it("after a manifest update, allows exactly the new policies and hands out the new mesh CA", async () => {
    const { c } = await running();
    const before = await meshCertFlow(c, ecKey("P-256"), policyHash("web"));
    await meshCertFlow(c, ecKey("P-256"), policyHash("web"));
    const owner = spec.owners[0] as ReturnType<typeof ecKey>;
    await c.setManifest(
      setRequest({ ...spec, policies: { db: { WorkloadSecretID: "db-secret" }, api: {} } }),
      callerOf(owner),
    );
    await expectCodeAsync(() => meshCertFlow(c, ecKey("P-256"), policyHash("web")), "ATTESTATION_HOST_DATA_MISMATCH");
    const after = await meshCertFlow(c, ecKey("P-256"), policyHash("api"));
    // A new generation has a new mesh CA and root CA certificate; the root key (from the seed) stays.
    expect(fromUtf8(after.MeshCACert)).not.toBe(fromUtf8(before.MeshCACert));
    expect(fromUtf8(after.RootCACert)).not.toBe(fromUtf8(before.RootCACert));
    const rootKey = (r: typeof before) =>
      new X509Certificate(Buffer.from(r.RootCACert)).publicKey.export({ type: "spki", format: "der" });
    expect(rootKey(after)).toEqual(rootKey(before));
    const [leaf] = chainOf(after.CertChain);
    expect(leaf?.verify(new X509Certificate(Buffer.from(after.MeshCACert)).publicKey)).toBe(true);
  });

  it("checks the policy hash itself, even behind a verifier that does not", async () => {
    const lenient: typeof fakeVerifier = (req) =>
      fakeVerifier({
        ...req,
        allowedHostData: [sha256Hex(new Uint8Array([1])), ...req.allowedHostData],
      });
    const { c, failures } = await running({ verifyEvidence: lenient });
    await expectCodeAsync(
      () => meshCertFlow(c, ecKey("P-256"), sha256Hex(new Uint8Array([1]))),
      "COORDINATOR_POLICY_NOT_IN_MANIFEST",
      "policy",
    );
    expect(failures).toEqual(["COORDINATOR_POLICY_NOT_IN_MANIFEST"]);
  });

  it("refuses a replayed nonce, even when its first use failed", async () => {
    const { c } = await running();
    const key = ecKey("P-256");
    const caller = callerOf(key);
    const { Nonce } = await c.newAttestationNonce(caller);
    const good = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), Nonce));
    await c.newMeshCert({ AttestationNonce: Nonce, Evidence: good, EvidenceOID: SNP_OID }, caller);
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: Nonce, Evidence: good, EvidenceOID: SNP_OID }, caller),
      "COORDINATOR_NONCE_UNKNOWN",
      "crypto",
    );

    const second = await c.newAttestationNonce(caller);
    const bad = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), new Uint8Array(32)));
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: second.Nonce, Evidence: bad, EvidenceOID: SNP_OID }, caller),
      "ATTESTATION_REPORT_DATA_MISMATCH",
    );
    const fixed = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), second.Nonce));
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: second.Nonce, Evidence: fixed, EvidenceOID: SNP_OID }, caller),
      "COORDINATOR_NONCE_UNKNOWN",
    );
  });

  it("refuses an expired nonce", async () => {
    const { c, clock } = await running();
    const key = ecKey("P-256");
    const caller = callerOf(key);
    const { Nonce, TtlSeconds } = await c.newAttestationNonce(caller);
    expect(TtlSeconds).toBe(60);
    clock.advance(60_000);
    const ev = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), Nonce));
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: Nonce, Evidence: ev, EvidenceOID: SNP_OID }, caller),
      "COORDINATOR_NONCE_EXPIRED",
      "crypto",
    );
  });

  it("refuses a nonce issued to another client key", async () => {
    const { c } = await running();
    const mine = ecKey("P-256");
    const theirs = ecKey("P-256");
    const { Nonce } = await c.newAttestationNonce(callerOf(theirs));
    const ev = fakeEvidence(policyHash("web"), reportData(publicKeyDer(mine), Nonce));
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: Nonce, Evidence: ev, EvidenceOID: SNP_OID }, callerOf(mine)),
      "COORDINATOR_NONCE_KEY_MISMATCH",
      "crypto",
    );
  });

  it("refuses evidence made for another key (a relayed attestation)", async () => {
    const { c } = await running();
    const attacker = ecKey("P-256");
    const victim = ecKey("P-256");
    const { Nonce } = await c.newAttestationNonce(callerOf(attacker));
    // Genuine evidence of the victim workload, bound to the victim's key and the attacker's nonce.
    const ev = fakeEvidence(policyHash("web"), reportData(publicKeyDer(victim), Nonce));
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: Nonce, Evidence: ev, EvidenceOID: SNP_OID }, callerOf(attacker)),
      "ATTESTATION_REPORT_DATA_MISMATCH",
    );
  });

  it("checks the report data itself when the verifier returns it", async () => {
    const liar: typeof fakeVerifier = async (req) => ({ ...(await fakeVerifier(req)), reportData: new Uint8Array(64) });
    const { c } = await running({ verifyEvidence: liar });
    await expectCodeAsync(
      () => meshCertFlow(c, ecKey("P-256"), policyHash("web")),
      "COORDINATOR_REPORT_DATA_MISMATCH",
      "crypto",
    );
  });

  it("refuses unknown nonces, missing evidence, missing client certificates and verifier bugs", async () => {
    const { c, failures } = await running({
      verifyEvidence: async () => {
        throw new TypeError("boom");
      },
    });
    const key = ecKey("P-256");
    const caller = callerOf(key);
    await expectCodeAsync(
      () =>
        c.newMeshCert(
          { AttestationNonce: randomBytes(32), Evidence: new Uint8Array([1]), EvidenceOID: SNP_OID },
          caller,
        ),
      "COORDINATOR_NONCE_UNKNOWN",
    );
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: new Uint8Array(), Evidence: new Uint8Array(), EvidenceOID: "" }, caller),
      "COORDINATOR_EVIDENCE_MISSING",
      "crypto",
    );
    const { Nonce } = await c.newAttestationNonce(caller);
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: Nonce, Evidence: new Uint8Array(), EvidenceOID: SNP_OID }, caller),
      "COORDINATOR_EVIDENCE_MISSING",
    );
    await expectCodeAsync(() => c.newAttestationNonce({}), "COORDINATOR_CLIENT_CERT_MISSING", "policy");
    const n2 = await c.newAttestationNonce(caller);
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: n2.Nonce, Evidence: new Uint8Array([1]), EvidenceOID: SNP_OID }, caller),
      "COORDINATOR_EVIDENCE_REJECTED",
      "crypto",
    );
    expect(failures).toEqual([
      "COORDINATOR_NONCE_UNKNOWN",
      "COORDINATOR_EVIDENCE_MISSING",
      "COORDINATOR_EVIDENCE_MISSING",
      "COORDINATOR_EVIDENCE_REJECTED",
    ]);
  });

  it("accepts evidence from the handshake (upstream initializers), bound to the server's nonce", async () => {
    const { c } = await running();
    const key = ecKey("P-256");
    const serverNonce = randomBytes(32);
    const rd = reportData(publicKeyDer(key), serverNonce);
    const evidence = fakeEvidence(policyHash("web"), rd);
    const caller = { ...callerOf(key), handshakeEvidence: { oid: SNP_OID, evidence, reportData: rd } };
    const res = await c.newMeshCert(
      { AttestationNonce: new Uint8Array(), Evidence: new Uint8Array(), EvidenceOID: "" },
      caller,
    );
    expect(chainOf(res.CertChain)).toHaveLength(2);
    const other = {
      ...caller,
      handshakeEvidence: { oid: SNP_OID, evidence, reportData: reportData(publicKeyDer(key), randomBytes(32)) },
    };
    await expectCodeAsync(
      () => c.newMeshCert({ AttestationNonce: new Uint8Array(), Evidence: new Uint8Array(), EvidenceOID: "" }, other),
      "ATTESTATION_REPORT_DATA_MISMATCH",
    );
  });

  it("answers UNAVAILABLE-kind errors before a manifest and in recovery", async () => {
    const store = new MemoryStore();
    const c = await open(store).coordinator;
    await expectCodeAsync(() => meshCertFlow(c, ecKey("P-256"), policyHash("web")), "COORDINATOR_MESH_NOT_READY", "io");
    await c.setManifest(setRequest(spec));
    const restarted = await open(store).coordinator;
    await expectCodeAsync(
      () => meshCertFlow(restarted, ecKey("P-256"), policyHash("web")),
      "COORDINATOR_MESH_NOT_READY",
      "io",
    );
  });

  it("keeps at most maxNonces nonces, evicting the oldest", async () => {
    const { c } = await running({ maxNonces: 3 });
    const key = ecKey("P-256");
    const caller = callerOf(key);
    const nonces: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) nonces.push((await c.newAttestationNonce(caller)).Nonce);
    expect(c.pendingNonces).toBe(3);
    const use = (n: Uint8Array) =>
      c.newMeshCert(
        {
          AttestationNonce: n,
          Evidence: fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), n)),
          EvidenceOID: SNP_OID,
        },
        caller,
      );
    await expectCodeAsync(() => use(nonces[0] as Uint8Array), "COORDINATOR_NONCE_UNKNOWN");
    await expectCodeAsync(() => use(nonces[1] as Uint8Array), "COORDINATOR_NONCE_UNKNOWN");
    await use(nonces[4] as Uint8Array);
    expect(c.pendingNonces).toBe(2);
  });

  it("drops expired nonces when issuing new ones", async () => {
    const { c, clock } = await running();
    const caller = callerOf(ecKey("P-256"));
    for (let i = 0; i < 10; i++) await c.newAttestationNonce(caller);
    clock.advance(61_000);
    await c.newAttestationNonce(caller);
    expect(c.pendingNonces).toBe(1);
  });
});

describe("peer recovery (mesh API Recover)", () => {
  /** A client of `server`'s mesh API as the recovering Coordinator with client key `key` would see it. */
  function inProcessClient(server: Coordinator, key: ReturnType<typeof ecKey>) {
    const caller = callerOf(key);
    return {
      newAttestationNonce: () => server.newAttestationNonce(caller),
      recover: (r: { AttestationNonce: Uint8Array; Evidence: Uint8Array; EvidenceOID: string }) =>
        server.meshRecover(r, caller),
    };
  }
  const issuerFor = (policy: string) => ({
    oid: SNP_OID,
    issue: async (rd: Uint8Array) => fakeEvidence(policyHash(policy), rd),
  });

  it("a Coordinator in recovery recovers from a ready peer and keeps its mesh CA key", async () => {
    const { c: a, store, shares } = await running();
    const b = await open(store).coordinator;
    expect((await b.status()).phase).toBe("recovery");
    const key = ecKey("P-256");
    await b.recoverFromPeer({
      client: inProcessClient(a, key),
      clientPublicKeyDer: publicKeyDer(key),
      issuer: issuerFor("coordinator"),
    });
    expect(await b.status()).toMatchObject({ phase: "running", generation: 1 });
    const [fromA, fromB] = [await a.getManifests(), await b.getManifests()];
    const keyOf = (pem: Uint8Array) =>
      new X509Certificate(Buffer.from(pem)).publicKey.export({ type: "spki", format: "der" }).toString("hex");
    expect(keyOf(fromB.MeshCA)).toBe(keyOf(fromA.MeshCA));
    expect(keyOf(fromB.RootCA)).toBe(keyOf(fromA.RootCA));
    // Same seed: the same workload secrets.
    const web = await meshCertFlow(b, ecKey("P-256"), policyHash("db"));
    expect(toHex(web.WorkloadSecret)).toBe(
      toHex(engineFromShares(shares, shareOwner).engine.workloadSecret("db-secret")),
    );
  });

  it("the serving side hands out the seed only to a policy with role coordinator", async () => {
    const { c: a, store, failures } = await running();
    const b = await open(store).coordinator;
    const key = ecKey("P-256");
    await expectCodeAsync(
      () =>
        b.recoverFromPeer({
          client: inProcessClient(a, key),
          clientPublicKeyDer: publicKeyDer(key),
          issuer: issuerFor("web"),
        }),
      "COORDINATOR_PEER_NOT_COORDINATOR",
      "policy",
    );
    expect(failures).toEqual(["COORDINATOR_PEER_NOT_COORDINATOR"]);
    expect((await b.status()).phase).toBe("recovery");
  });

  it("refuses what a peer of another deployment sends", async () => {
    const { c: other } = await running();
    const { store } = await running();
    const b = await open(store).coordinator;
    const key = ecKey("P-256");
    await expectCodeAsync(
      () =>
        b.recoverFromPeer({
          client: inProcessClient(other, key),
          clientPublicKeyDer: publicKeyDer(key),
          issuer: issuerFor("coordinator"),
        }),
      "COORDINATOR_PEER_RECOVERY_INVALID",
      "crypto",
    );
  });

  it("reports a peer whose latest manifest differs from the store's as a transient race", async () => {
    const { c: a, store } = await running();
    const b = await open(store).coordinator;
    const key = ecKey("P-256");
    const client = inProcessClient(a, key);
    const tampered = {
      ...client,
      recover: async (r: Parameters<typeof client.recover>[0]) => ({
        ...(await client.recover(r)),
        LatestManifest: new Uint8Array([1]),
      }),
    };
    await expectCodeAsync(
      () =>
        b.recoverFromPeer({
          client: tampered,
          clientPublicKeyDer: publicKeyDer(key),
          issuer: issuerFor("coordinator"),
        }),
      "COORDINATOR_PEER_STATE_MOVED",
    );
  });

  it("a running Coordinator does not recover, and does not serve recovery while in recovery itself", async () => {
    const { c: a, store } = await running();
    const key = ecKey("P-256");
    await expectCodeAsync(
      () =>
        a.recoverFromPeer({
          client: inProcessClient(a, key),
          clientPublicKeyDer: publicKeyDer(key),
          issuer: issuerFor("coordinator"),
        }),
      "COORDINATOR_ALREADY_RECOVERED",
    );
    const b = await open(store).coordinator;
    const c = await open(store).coordinator;
    await expectCodeAsync(
      () =>
        c.recoverFromPeer({
          client: inProcessClient(b, key),
          clientPublicKeyDer: publicKeyDer(key),
          issuer: issuerFor("coordinator"),
        }),
      "COORDINATOR_MESH_NOT_READY",
    );
  });

  it("seed and salt survive the round trip exactly", async () => {
    const { c: a, shares } = await running();
    const key = ecKey("P-256");
    const client = inProcessClient(a, key);
    const { Nonce } = await client.newAttestationNonce();
    const res = await client.recover({
      AttestationNonce: Nonce,
      Evidence: fakeEvidence(policyHash("coordinator"), reportData(publicKeyDer(key), Nonce)),
      EvidenceOID: SNP_OID,
    });
    const { seed, salt } = engineFromShares(shares, shareOwner);
    expect(toHex(res.Seed)).toBe(toHex(seed));
    expect(toHex(res.Salt)).toBe(toHex(salt));
    expect(fromUtf8(res.MeshCAKey)).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(SeedEngine.fromSeed(res.Seed, res.Salt).salt).toEqual(salt);
  });

  it("recoverFromPeers tries the ready peers in turn until one recovers it", async () => {
    const { c: a, store } = await running();
    const { c: foreign } = await running();
    const logged: string[] = [];
    const b = await open(store, {
      logger: { debug() {}, info() {}, error() {}, warn: (m, f) => logged.push(`${m} ${String(f?.code ?? f?.error)}`) },
    }).coordinator;
    const key = ecKey("P-256");
    const closed: string[] = [];
    const servers: Record<string, Coordinator> = { "coordinator-1": foreign, "coordinator-2": a };
    let listed = [
      { name: "coordinator-1", ip: "10.0.0.1" },
      { name: "coordinator-2", ip: "10.0.0.2" },
    ];
    const options = {
      peers: { listPeers: async () => listed },
      connect: (peer: { name: string }) => ({
        ...inProcessClient(servers[peer.name] as Coordinator, key),
        close: () => closed.push(peer.name),
      }),
      clientPublicKeyDer: publicKeyDer(key),
      issuer: issuerFor("coordinator"),
    };
    listed = [];
    expect(await b.recoverFromPeers(options)).toBeUndefined();
    listed = [
      { name: "coordinator-1", ip: "10.0.0.1" },
      { name: "coordinator-2", ip: "10.0.0.2" },
    ];
    expect((await b.recoverFromPeers(options))?.name).toBe("coordinator-2");
    expect(closed).toEqual(["coordinator-1", "coordinator-2"]);
    expect(logged).toEqual(["peer recovery failed COORDINATOR_PEER_RECOVERY_INVALID"]);
    expect((await b.status()).phase).toBe("running");
    // Running: a further round does nothing.
    expect(await b.recoverFromPeers(options)).toBeUndefined();
  });
});

describe("TLS exporter channel binding (EvidenceBinding TLS_EXPORTER)", () => {
  /** The caller a transport reports for one connection: its client key and its exporter. */
  const connection = (key: ReturnType<typeof ecKey>, exporter = randomBytes(32)) => ({
    caller: { ...callerOf(key), channelBinding: () => new Uint8Array(exporter) },
    exporter: new Uint8Array(exporter),
  });
  const exporterRequest = (evidence: Uint8Array) => ({
    AttestationNonce: new Uint8Array(),
    Evidence: evidence,
    EvidenceOID: SNP_OID,
    EvidenceBinding: EvidenceBinding.TLS_EXPORTER,
  });

  it("issues a certificate in one call for evidence bound to the key and the calling connection's exporter", async () => {
    const { c, failures } = await running();
    const key = ecKey("P-256");
    const conn = connection(key);
    const evidence = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), conn.exporter));
    const res = await c.newMeshCert(exporterRequest(evidence), conn.caller);
    const [leaf] = chainOf(res.CertChain);
    expect(leaf?.publicKey.export({ type: "spki", format: "der" })).toEqual(Buffer.from(publicKeyDer(key)));
    // No nonce was issued or consumed.
    expect(c.pendingNonces).toBe(0);
    // The same evidence again on the same connection, by the same key: the same attested key
    // gets another certificate, which is what it could ask for anyway.
    await c.newMeshCert(exporterRequest(evidence), conn.caller);
    expect(failures).toEqual([]);
  });

  it("refuses evidence bound to another connection's exporter, even with the same client key", async () => {
    const { c, failures } = await running();
    const key = ecKey("P-256");
    const a = connection(key);
    const b = connection(key);
    const forA = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), a.exporter));
    await expectCodeAsync(
      () => c.newMeshCert(exporterRequest(forA), b.caller),
      "ATTESTATION_REPORT_DATA_MISMATCH",
      "crypto",
    );
    // Bound to the right exporter but for another key (a key substitution): refused too.
    const otherKey = ecKey("P-256");
    const forOtherKey = fakeEvidence(policyHash("web"), reportData(publicKeyDer(otherKey), b.exporter));
    await expectCodeAsync(
      () => c.newMeshCert(exporterRequest(forOtherKey), b.caller),
      "ATTESTATION_REPORT_DATA_MISMATCH",
    );
    // A nonce-bound evidence whose "nonce" is the exporter, sent as the nonce flow: no such nonce.
    await expectCodeAsync(
      () =>
        c.newMeshCert(
          { ...exporterRequest(forA), AttestationNonce: a.exporter, EvidenceBinding: EvidenceBinding.NONCE },
          a.caller,
        ),
      "COORDINATOR_NONCE_UNKNOWN",
    );
    expect(failures).toEqual([
      "ATTESTATION_REPORT_DATA_MISMATCH",
      "ATTESTATION_REPORT_DATA_MISMATCH",
      "COORDINATOR_NONCE_UNKNOWN",
    ]);
  });

  it("takes the exporter only from the transport: a binding with a nonce, an unknown binding, or none offered are refused", async () => {
    const { c } = await running();
    const key = ecKey("P-256");
    const conn = connection(key);
    const evidence = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), conn.exporter));
    await expectCodeAsync(
      () => c.newMeshCert({ ...exporterRequest(evidence), AttestationNonce: conn.exporter }, conn.caller),
      "COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED",
      "input",
    );
    await expectCodeAsync(
      () => c.newMeshCert({ ...exporterRequest(evidence), EvidenceBinding: 7 as EvidenceBinding }, conn.caller),
      "COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED",
    );
    await expectCodeAsync(
      () => c.newMeshCert(exporterRequest(evidence), callerOf(key)),
      "COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED",
    );
    await expectCodeAsync(
      () => c.newMeshCert(exporterRequest(new Uint8Array()), conn.caller),
      "COORDINATOR_EVIDENCE_MISSING",
    );
  });

  it("(property) issues only for evidence whose report data is the key and this connection's exporter; unknown bindings are refused", async () => {
    const { c } = await running();
    const key = ecKey("P-256");
    const conn = connection(key);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 3, max: 2 ** 31 - 1 }),
        async (other, unknownBinding) => {
          fc.pre(!bytesEqual(other, conn.exporter));
          const wrong = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), other));
          await expectCodeAsync(
            () => c.newMeshCert(exporterRequest(wrong), conn.caller),
            "ATTESTATION_REPORT_DATA_MISMATCH",
          );
          const right = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), conn.exporter));
          await expectCodeAsync(
            () =>
              c.newMeshCert(
                { ...exporterRequest(right), EvidenceBinding: unknownBinding as EvidenceBinding },
                conn.caller,
              ),
            "COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED",
          );
        },
      ),
      { numRuns: 50 },
    );
    // And the right evidence is still accepted after all of that.
    const right = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), conn.exporter));
    await c.newMeshCert(exporterRequest(right), conn.caller);
  });

  it("refuses when the connection cannot give a binding (TLS 1.2), with the transport's code", async () => {
    const { c } = await running();
    const key = ecKey("P-256");
    const tls12 = {
      ...callerOf(key),
      channelBinding: () =>
        channelBinding({ getProtocol: () => "TLSv1.2", exportKeyingMaterial: () => randomBytes(32) }),
    };
    const evidence = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), randomBytes(32)));
    await expectCodeAsync(
      () => c.newMeshCert(exporterRequest(evidence), tls12),
      "ATLS_CHANNEL_BINDING_UNAVAILABLE",
      "crypto",
    );
  });

  it("leaves the nonce flow as it was, with EvidenceBinding NONCE or unspecified", async () => {
    const { c } = await running();
    const key = ecKey("P-256");
    const conn = connection(key);
    for (const binding of [EvidenceBinding.NONCE, EvidenceBinding.UNSPECIFIED]) {
      const { Nonce } = await c.newAttestationNonce(conn.caller);
      const evidence = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), Nonce));
      await c.newMeshCert(
        { AttestationNonce: Nonce, Evidence: evidence, EvidenceOID: SNP_OID, EvidenceBinding: binding },
        conn.caller,
      );
      // Evidence bound to the exporter is no answer to the nonce flow.
      const second = await c.newAttestationNonce(conn.caller);
      const wrong = fakeEvidence(policyHash("web"), reportData(publicKeyDer(key), conn.exporter));
      await expectCodeAsync(
        () =>
          c.newMeshCert(
            { AttestationNonce: second.Nonce, Evidence: wrong, EvidenceOID: SNP_OID, EvidenceBinding: binding },
            conn.caller,
          ),
        "ATTESTATION_REPORT_DATA_MISMATCH",
      );
    }
    // NONCE without a nonce is refused, not taken as handshake evidence.
    await expectCodeAsync(
      () =>
        c.newMeshCert(
          {
            AttestationNonce: new Uint8Array(),
            Evidence: new Uint8Array(),
            EvidenceOID: "",
            EvidenceBinding: EvidenceBinding.NONCE,
          },
          {
            ...conn.caller,
            handshakeEvidence: { oid: SNP_OID, evidence: new Uint8Array([1]), reportData: new Uint8Array(64) },
          },
        ),
      "COORDINATOR_NONCE_UNKNOWN",
    );
  });

  it("peer recovery takes one call when the client offers a channel binding", async () => {
    const { c: a, store } = await running();
    const b = await open(store).coordinator;
    const key = ecKey("P-256");
    const conn = connection(key);
    const calls: string[] = [];
    await b.recoverFromPeer({
      client: {
        newAttestationNonce: () => {
          calls.push("nonce");
          return a.newAttestationNonce(conn.caller);
        },
        recover: (r) => {
          calls.push(`recover:${r.EvidenceBinding}`);
          return a.meshRecover(r, conn.caller);
        },
        channelBinding: async () => conn.exporter,
      },
      clientPublicKeyDer: publicKeyDer(key),
      issuer: { oid: SNP_OID, issue: async (rd: Uint8Array) => fakeEvidence(policyHash("coordinator"), rd) },
    });
    expect(calls).toEqual([`recover:${EvidenceBinding.TLS_EXPORTER}`]);
    expect((await b.status()).phase).toBe("running");
  });

  it("a recovering peer whose evidence binds another connection is refused", async () => {
    const { c: a, store } = await running();
    const b = await open(store).coordinator;
    const key = ecKey("P-256");
    const served = connection(key);
    await expectCodeAsync(
      () =>
        b.recoverFromPeer({
          client: {
            newAttestationNonce: () => a.newAttestationNonce(served.caller),
            recover: (r) => a.meshRecover(r, served.caller),
            // What the client believes its binding is: another connection's.
            channelBinding: async () => new Uint8Array(randomBytes(32)),
          },
          clientPublicKeyDer: publicKeyDer(key),
          issuer: { oid: SNP_OID, issue: async (rd: Uint8Array) => fakeEvidence(policyHash("coordinator"), rd) },
        }),
      "ATTESTATION_REPORT_DATA_MISMATCH",
    );
    expect((await b.status()).phase).toBe("recovery");
  });
});
