import { X509Certificate } from "node:crypto";
import { type AtlsServer, type EvidenceIssuer, reportData, simIssuer, verifyEvidence } from "@contrast/atls";
import { createSimulatedAuthority, type SimulatedAuthority } from "@contrast/attestation/testing";
import { fromHex, fromUtf8, manualClock, sha256Hex, utf8 } from "@contrast/core";
import { SIM_TRUSTED_MEASUREMENT, serializeManifest, simReferenceValues } from "@contrast/manifest";
import { cryptoRandom, publicKeyDer } from "@contrast/mesh-pki";
import { expectCodeAsync } from "@contrast/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { Coordinator, type EvidenceVerifier, MemoryStore, type PeerOf } from "../src/index.js";
import { callerOf, ecKey, policyDoc, policyHash } from "./fixture.js";

// The real path: @contrast/atls's verifyEvidence on evidence from the simulated TEE, whose chain
// the manifest trusts through its sim reference values (the ARK key digest).
const clock = manualClock("2026-12-01T00:00:00Z");
let authority: SimulatedAuthority;
let stranger: SimulatedAuthority;
// @contrast/atls's verifyEvidence and its server's peerOf plug in as they are (checked by tsc).
const verifier: EvidenceVerifier = verifyEvidence;
export const peerOfAtls =
  (server: AtlsServer): PeerOf =>
  (call) =>
    server.peerOf(call);
// The DER content of OID 1.3.9901.2.1, the arc of the SNP claim extensions.
const SNP_CLAIMS_ARC = Buffer.from([0x2b, 0xcd, 0x2d, 0x02, 0x01]);

beforeAll(() => {
  authority = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
  stranger = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
}, 60_000);

const issuerFor = (a: SimulatedAuthority, policy: string): EvidenceIssuer =>
  simIssuer(a, { measurement: fromHex(SIM_TRUSTED_MEASUREMENT, 48), hostData: fromHex(policyHash(policy), 32) });

function manifest(): Uint8Array {
  return utf8(
    serializeManifest({
      Policies: new Map([
        [policyHash("web"), { SANs: ["web"], WorkloadSecretID: "", Role: "" }],
        [policyHash("coordinator"), { SANs: null, WorkloadSecretID: "", Role: "coordinator" }],
      ]),
      ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(authority.arkKeyDigest)] },
      WorkloadOwnerKeyDigests: [],
      SeedshareOwnerPubKeys: [],
    }),
  );
}

async function running(store = new MemoryStore()) {
  const failures: string[] = [];
  const c = await Coordinator.open({
    history: store,
    clock,
    random: cryptoRandom,
    verifyEvidence: verifier,
    metrics: { onAttestationFailure: (r) => failures.push(r) },
  });
  if ((await c.status()).phase === "uninitialised") {
    await c.setManifest({ Manifest: manifest(), Policies: [policyDoc("web"), policyDoc("coordinator")] });
  }
  return { c, failures, store };
}

async function attest(
  c: Coordinator,
  key: ReturnType<typeof ecKey>,
  issuer: EvidenceIssuer,
  mutate = (e: Uint8Array) => e,
  bindKey = key,
) {
  const caller = callerOf(key);
  const { Nonce } = await c.newAttestationNonce(caller);
  const evidence = mutate(await issuer.issue(reportData(publicKeyDer(bindKey), Nonce)));
  return c.newMeshCert({ AttestationNonce: Nonce, Evidence: evidence, EvidenceOID: issuer.oid }, caller);
}

describe("NewMeshCert with simulated SNP evidence and the real verifier", () => {
  it("issues a certificate carrying the report's claims", async () => {
    const { c, failures } = await running();
    const key = ecKey("P-256");
    const res = await attest(c, key, issuerFor(authority, "web"));
    const leaf = new X509Certificate(
      `${fromUtf8(res.CertChain).split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----`,
    );
    expect(leaf.publicKey.export({ type: "spki", format: "der" })).toEqual(Buffer.from(publicKeyDer(key)));
    expect(leaf.verify(new X509Certificate(Buffer.from(res.MeshCACert)).publicKey)).toBe(true);
    let claims = 0;
    for (let i = leaf.raw.indexOf(SNP_CLAIMS_ARC); i >= 0; i = leaf.raw.indexOf(SNP_CLAIMS_ARC, i + 1)) claims++;
    expect(claims).toBeGreaterThan(5);
    expect(failures).toEqual([]);
  });

  it("refuses a policy the manifest does not list, evidence for another key, tampered evidence and an untrusted TEE", async () => {
    const { c, failures } = await running();
    const key = ecKey("P-256");
    await expectCodeAsync(() => attest(c, key, issuerFor(authority, "unlisted")), "ATLS_HOST_DATA_NOT_ALLOWED");
    await expectCodeAsync(
      () => attest(c, key, issuerFor(authority, "web"), undefined, ecKey("P-256")),
      "ATLS_REPORT_DATA_MISMATCH",
    );
    const tamper = (e: Uint8Array) => {
      const copy = e.slice();
      // A byte inside the signed report (its measurement), keeping the document well-formed.
      const at = Buffer.from(copy).indexOf(Buffer.from(fromHex(SIM_TRUSTED_MEASUREMENT, 48)));
      copy[at] = (copy[at] ?? 0) ^ 1;
      return copy;
    };
    const tampered = await attest(c, key, issuerFor(authority, "web"), tamper).catch(
      (e: unknown) => e as { code: string; kind: string },
    );
    expect(tampered).toMatchObject({ kind: "crypto" });
    await expectCodeAsync(() => attest(c, key, issuerFor(stranger, "web")), "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED");
    expect(failures).toHaveLength(4);
    expect(failures[0]).toBe("ATLS_HOST_DATA_NOT_ALLOWED");
  });

  it("peer recovery with real evidence of the coordinator policy", async () => {
    const { c: a, store } = await running();
    const b = await Coordinator.open({ history: store, clock, random: cryptoRandom, verifyEvidence: verifier });
    const key = ecKey("P-256");
    const caller = callerOf(key);
    const client = {
      newAttestationNonce: () => a.newAttestationNonce(caller),
      recover: (r: { AttestationNonce: Uint8Array; Evidence: Uint8Array; EvidenceOID: string }) =>
        a.meshRecover(r, caller),
    };
    await expectCodeAsync(
      () => b.recoverFromPeer({ client, clientPublicKeyDer: publicKeyDer(key), issuer: issuerFor(authority, "web") }),
      "COORDINATOR_PEER_NOT_COORDINATOR",
    );
    await b.recoverFromPeer({
      client,
      clientPublicKeyDer: publicKeyDer(key),
      issuer: issuerFor(authority, "coordinator"),
    });
    expect((await b.status()).phase).toBe("running");
    expect(sha256Hex((await b.getManifests()).Manifests[0] ?? new Uint8Array())).toBe(sha256Hex(manifest()));
  });
});
