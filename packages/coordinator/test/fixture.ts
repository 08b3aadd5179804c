import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { reportData } from "@contrast/atls";
import { ContrastError, fromHex, fromUtf8, manualClock, sha256Hex, toHex, utf8 } from "@contrast/core";
import { type Manifest, type PolicyEntry, serializeManifest, simReferenceValues } from "@contrast/manifest";
import {
  cryptoRandom,
  publicKeyDer,
  recoverSeed,
  SeedEngine,
  seedShareOwnerPublicKeyHex,
  workloadOwnerKeyDigest,
} from "@contrast/mesh-pki";
import {
  type Caller,
  Coordinator,
  type CoordinatorOptions,
  type EvidenceVerifier,
  type HistoryStore,
  MemoryStore,
} from "../src/index.js";

export const SNP_OID = "1.3.9901.2.1";

export const ecKey = (curve = "P-384"): KeyObject => generateKeyPairSync("ec", { namedCurve: curve }).privateKey;
export const rsaKey = (): KeyObject => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

/** The caller a transport would report for a connection whose client certificate has `key`. */
export const callerOf = (key: KeyObject): Caller => ({ publicKeyDer: publicKeyDer(key) });

export const policyDoc = (name: string): Uint8Array => utf8(`package agent_policy\n# ${name}\n`);
export const policyHash = (name: string): string => sha256Hex(policyDoc(name));

export interface ManifestSpec {
  readonly policies?: Readonly<Record<string, Partial<PolicyEntry>>>;
  readonly owners?: readonly KeyObject[];
  readonly seedShareOwners?: readonly KeyObject[];
}

/** manifest.json bytes for named policies (their documents are policyDoc(name)), sim reference values. */
export function manifestBytes(spec: ManifestSpec): Uint8Array {
  const policies = new Map<string, PolicyEntry>();
  for (const [name, entry] of Object.entries(spec.policies ?? {})) {
    policies.set(policyHash(name), {
      SANs: entry.SANs ?? null,
      WorkloadSecretID: entry.WorkloadSecretID ?? "",
      Role: entry.Role ?? "",
    });
  }
  const m: Manifest = {
    Policies: policies,
    ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(sha256Hex(utf8("test ark")))] },
    WorkloadOwnerKeyDigests: (spec.owners ?? []).map(workloadOwnerKeyDigest),
    SeedshareOwnerPubKeys: (spec.seedShareOwners ?? []).map(seedShareOwnerPublicKeyHex),
  };
  return utf8(serializeManifest(m));
}

export const setRequest = (spec: ManifestSpec, policies = Object.keys(spec.policies ?? {})) => ({
  Manifest: manifestBytes(spec),
  Policies: policies.map(policyDoc),
});

/**
 * A stand-in for verifyEvidence: "evidence" is JSON naming the host data and report data it
 * attests, checked as the real verifier checks them (report data equal, host data allowed).
 */
export const fakeVerifier: EvidenceVerifier = async (req) => {
  let doc: { hostData: string; reportData: string };
  try {
    doc = JSON.parse(fromUtf8(req.evidence)) as typeof doc;
  } catch (cause) {
    throw new ContrastError("EVIDENCE_DOCUMENT_MALFORMED", "not fake evidence", { kind: "crypto", cause });
  }
  if (req.oid !== SNP_OID) throw new ContrastError("ATLS_EVIDENCE_OID_UNKNOWN", "unknown oid", { kind: "crypto" });
  if (doc.reportData !== toHex(req.reportData)) {
    throw new ContrastError("ATTESTATION_REPORT_DATA_MISMATCH", "report data mismatch", { kind: "crypto" });
  }
  const hostData = fromHex(doc.hostData);
  if (!req.allowedHostData.includes(doc.hostData)) {
    throw new ContrastError("ATTESTATION_HOST_DATA_MISMATCH", "host data not allowed", { kind: "policy" });
  }
  return { platform: "sim", hostData, reportData: fromHex(doc.reportData) };
};

export const fakeEvidence = (hostDataHex: string, rd: Uint8Array): Uint8Array =>
  utf8(JSON.stringify({ hostData: hostDataHex, reportData: toHex(rd) }));

export function open(store: HistoryStore = new MemoryStore(), extra: Partial<CoordinatorOptions> = {}) {
  const clock = manualClock("2026-01-01T00:00:00Z");
  const generations: number[] = [];
  const failures: string[] = [];
  const coordinator = Coordinator.open({
    history: store,
    clock,
    random: cryptoRandom,
    verifyEvidence: fakeVerifier,
    metrics: { onGeneration: (n) => generations.push(n), onAttestationFailure: (r) => failures.push(r) },
    ...extra,
  });
  return { coordinator, clock, store, generations, failures };
}

/** What a workload's initializer does: ask for a nonce, attest to it with its mesh key, send both. */
export async function meshCertFlow(c: Coordinator, meshKey: KeyObject, hostDataHex: string) {
  const caller = callerOf(meshKey);
  const { Nonce } = await c.newAttestationNonce(caller);
  const evidence = fakeEvidence(hostDataHex, reportData(publicKeyDer(meshKey), Nonce));
  return c.newMeshCert({ AttestationNonce: Nonce, Evidence: evidence, EvidenceOID: SNP_OID }, caller);
}

/** The seed engine a seed share owner recovers from the first SetManifest's seed shares. */
export function engineFromShares(
  doc: { SeedShares: { PublicKey: string; EncryptedSeed: Uint8Array }[]; salt: Uint8Array } | undefined,
  owner: KeyObject,
): { seed: Uint8Array; salt: Uint8Array; engine: SeedEngine } {
  if (doc === undefined) throw new Error("no seed shares");
  const { seed, salt } = recoverSeed(doc, owner);
  return { seed, salt, engine: SeedEngine.fromSeed(seed, salt) };
}
