// What a workload owner, a seed share owner and an initializer do against a running Coordinator
// on the simulated TEE: shared by the process tests, the crash soak and the mesh-cert benchmark.
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { createServiceClient, EvidenceBinding, MeshAPI, UserAPI } from "@contrast/api";
import { atlsChannelCredentials, reportData, simIssuer } from "@contrast/atls";
import { loadSimulatedAuthority, nodeSimAuthorityFileSystem } from "@contrast/attestation/testing";
import { fromHex, sha256Hex, systemClock, utf8 } from "@contrast/core";
import {
  SIM_COORDINATOR_POLICY_HASH,
  SIM_COORDINATOR_POLICY_LABEL,
  SIM_TRUSTED_MEASUREMENT,
  serializeManifest,
  simReferenceValues,
} from "@contrast/manifest";
import { cryptoRandom, publicKeyDer, seedShareOwnerPublicKeyHex, workloadOwnerKeyDigest } from "@contrast/mesh-pki";

export const ecKey = (curve = "P-256") => generateKeyPairSync("ec", { namedCurve: curve }).privateKey;
export const rsaKey = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

/** The simulated authority a Coordinator keeps in `simDir`. */
export async function loadSim(simDir) {
  const authority = await loadSimulatedAuthority(join(simDir, "authority.json"), nodeSimAuthorityFileSystem);
  if (authority === undefined) throw new Error(`no simulated authority in ${simDir}`);
  return authority;
}

/** How a client judges the simulated Coordinator: its ARK, the sim measurement, its policy hash. */
export function simVerify(authority) {
  return {
    referenceValues: { sim: [simReferenceValues(authority.arkKeyDigest)] },
    allowedHostData: [SIM_COORDINATOR_POLICY_HASH],
    clock: systemClock,
  };
}

const channelOptions = { "grpc.max_receive_message_length": 8 * 1024 * 1024 };

/** A user API client over aTLS whose client certificate has `key`. */
export function userClient(port, authority, key, host = "127.0.0.1") {
  const credentials = atlsChannelCredentials({ verify: simVerify(authority), clientKey: key, random: cryptoRandom });
  return createServiceClient(UserAPI, `${host}:${port}`, credentials, channelOptions);
}

/**
 * A mesh API client over aTLS with the workload's mesh key as its client certificate key, one
 * connection per client; `channelBinding(deadline)` connects if need be and gives that
 * connection's TLS exporter channel binding (as @contrast/workload's connector does).
 */
export function meshClient(port, authority, meshKey) {
  const credentials = atlsChannelCredentials({
    verify: simVerify(authority),
    clientKey: meshKey,
    random: cryptoRandom,
  });
  const client = createServiceClient(MeshAPI, `127.0.0.1:${port}`, credentials, channelOptions);
  return {
    ...client,
    channelBinding: async (deadline = new Date(Date.now() + 30_000)) => {
      await client.waitForReady(deadline);
      return credentials.channelBinding();
    },
  };
}

/** A policy document and its hash (the manifest's key for it). */
export const policy = (name) => {
  const doc = utf8(`package agent_policy\n# ${name}\n`);
  return { doc, hash: sha256Hex(doc) };
};

/** The simulated Coordinator's own "policy": the label its HOST_DATA is the hash of. */
export const coordinatorPolicy = { doc: utf8(SIM_COORDINATOR_POLICY_LABEL), hash: SIM_COORDINATOR_POLICY_HASH };

/**
 * SetManifest's request: `workloads` maps names to policy entries; the Coordinator's own policy is
 * listed with role coordinator (so peers may recover from each other).
 */
export function setManifestRequest({ authority, workloads, owners = [], seedShareOwners = [], generation = 0 }) {
  const policies = new Map();
  const docs = [];
  for (const [name, entry] of Object.entries(workloads)) {
    const p = policy(name);
    policies.set(p.hash, { SANs: entry.SANs ?? [name], WorkloadSecretID: entry.WorkloadSecretID ?? "", Role: "" });
    docs.push(p.doc);
  }
  policies.set(coordinatorPolicy.hash, { SANs: ["coordinator"], WorkloadSecretID: "", Role: "coordinator" });
  docs.push(coordinatorPolicy.doc);
  // Different generations differ in a SAN, so every update is a new manifest.
  if (generation > 0) policies.get(coordinatorPolicy.hash).SANs.push(`generation-${generation}`);
  const manifest = {
    Policies: policies,
    ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(authority.arkKeyDigest)] },
    WorkloadOwnerKeyDigests: owners.map(workloadOwnerKeyDigest),
    SeedshareOwnerPubKeys: seedShareOwners.map(seedShareOwnerPublicKeyHex),
  };
  return { Manifest: utf8(serializeManifest(manifest)), Policies: docs };
}

/**
 * An initializer's NewMeshCert with simulated evidence for its key. `binding` "tls-exporter"
 * (the default, what @contrast/workload does): one call, the evidence binds the connection's TLS
 * exporter (or `options.exporter`, to test another connection's). "nonce": NewAttestationNonce
 * first, the evidence binds that nonce (or `options.nonce`). `evidenceKey`: bind another key.
 */
export async function requestMeshCert(client, authority, meshKey, workloadName, options = {}) {
  const binding = options.binding ?? (options.nonce === undefined ? "tls-exporter" : "nonce");
  if (binding === "tls-exporter")
    return client.newMeshCert(await exporterMeshCertRequest(client, authority, meshKey, workloadName, options));
  const issuer = workloadIssuer(authority, workloadName);
  const boundKey = publicKeyDer(options.evidenceKey ?? meshKey);
  const { Nonce } = await client.newAttestationNonce({});
  const evidence = await issuer.issue(reportData(boundKey, options.nonce ?? Nonce));
  return client.newMeshCert({
    AttestationNonce: Nonce,
    Evidence: evidence,
    EvidenceOID: issuer.oid,
    EvidenceBinding: EvidenceBinding.NONCE,
  });
}

/**
 * The NewMeshCertRequest of the TLS exporter flow: simulated evidence for the key and the
 * connection's exporter (or `options.exporter`). It stays valid for every call on that connection,
 * as an initializer's retry on one connection would send it again.
 */
export async function exporterMeshCertRequest(client, authority, meshKey, workloadName, options = {}) {
  const issuer = workloadIssuer(authority, workloadName);
  const boundKey = publicKeyDer(options.evidenceKey ?? meshKey);
  const exporter = options.exporter ?? (await client.channelBinding());
  const evidence = await issuer.issue(reportData(boundKey, exporter));
  return { Evidence: evidence, EvidenceOID: issuer.oid, EvidenceBinding: EvidenceBinding.TLS_EXPORTER };
}

const workloadIssuer = (authority, workloadName) =>
  simIssuer(authority, { measurement: fromHex(SIM_TRUSTED_MEASUREMENT), hostData: fromHex(policy(workloadName).hash) });
