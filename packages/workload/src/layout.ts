import { X509Certificate } from "node:crypto";
import { bytesEqual, decodePem, toHex, utf8 } from "@contrast/core";
import { WorkloadError } from "./errors.js";

/**
 * Where the initializer puts the pod's credentials, relative to its output root (`/contrast` in a
 * pod: the `contrast-secrets` emptyDir every container mounts). Names and modes are upstream's
 * v1.5 facts (reference §7): directories 0755, certificates 0444, the key and the seed 0400.
 */
export const CREDENTIAL_LAYOUT = {
  tlsConfigDir: "tls-config",
  secretsDir: "secrets",
  meshCa: "tls-config/mesh-ca.pem",
  certChain: "tls-config/certChain.pem",
  key: "tls-config/key.pem",
  coordinatorRootCa: "tls-config/coordinator-root-ca.pem",
  workloadSecretSeed: "secrets/workload-secret-seed",
} as const;

export const CREDENTIAL_MODES = { dir: 0o755, certificate: 0o444, secret: 0o400 } as const;

/** The workload secret is 64 bytes derived from the seed; the file holds its lower-case hex. */
export const WORKLOAD_SECRET_BYTES = 64;

/** One file to write: a path relative to the output root, its bytes and its mode. */
export interface CredentialFile {
  readonly path: string;
  readonly contents: Uint8Array;
  readonly mode: number;
}

/** What NewMeshCert answers, as bytes (the generated message type fits). */
export interface MeshCredentials {
  readonly MeshCACert: Uint8Array;
  readonly CertChain: Uint8Array;
  readonly RootCACert: Uint8Array;
  readonly WorkloadSecret: Uint8Array;
}

const invalid = (message: string, cause?: unknown) =>
  new WorkloadError("INITIALIZER_RESPONSE_INVALID", message, cause === undefined ? {} : { cause });

function certificates(what: string, pem: Uint8Array): X509Certificate[] {
  let blocks: ReturnType<typeof decodePem>;
  try {
    blocks = decodePem(new TextDecoder("utf-8", { fatal: true }).decode(pem));
  } catch (cause) {
    throw invalid(`${what} is not PEM`, cause);
  }
  if (blocks.length === 0) throw invalid(`${what} is empty`);
  return blocks.map((b, i) => {
    if (b.type !== "CERTIFICATE") throw invalid(`${what} block ${i} is ${JSON.stringify(b.type)}, not CERTIFICATE`);
    try {
      return new X509Certificate(b.der);
    } catch (cause) {
      throw invalid(`${what} block ${i} is not an X.509 certificate`, cause);
    }
  });
}

/**
 * The files for one NewMeshCert answer and the workload key (SPKI DER to check the leaf against,
 * PKCS#8 PEM to write). The initializer does not verify the Coordinator (as upstream v1.5), so
 * these checks are sanity, not trust: every PEM must be certificates, the chain's leaf must be for
 * the workload key (a certificate for another key next to key.pem would break every TLS
 * handshake of the pod), and the secret must be empty or 64 bytes.
 */
export function credentialFiles(
  answer: MeshCredentials,
  key: { readonly publicKeyDer: Uint8Array; readonly privateKeyPem: string },
): CredentialFile[] {
  certificates("MeshCACert", answer.MeshCACert);
  certificates("RootCACert", answer.RootCACert);
  const chain = certificates("CertChain", answer.CertChain);
  const leaf = chain[0] as X509Certificate;
  let leafKey: Uint8Array;
  try {
    leafKey = new Uint8Array(leaf.publicKey.export({ type: "spki", format: "der" }));
  } catch (cause) {
    // X509Certificate parses lazily: a damaged key surfaces only here.
    throw invalid("the CertChain's leaf has no usable public key", cause);
  }
  if (!bytesEqual(leafKey, key.publicKeyDer)) throw invalid("the CertChain's leaf is for another key");
  if (!key.privateKeyPem.startsWith("-----BEGIN PRIVATE KEY-----")) {
    throw new TypeError("the workload key must be PKCS#8 PEM (PRIVATE KEY)");
  }
  const secret = answer.WorkloadSecret;
  if (secret.length !== 0 && secret.length !== WORKLOAD_SECRET_BYTES) {
    throw invalid(`the workload secret has ${secret.length} bytes, not ${WORKLOAD_SECRET_BYTES}`);
  }
  const files: CredentialFile[] = [
    { path: CREDENTIAL_LAYOUT.meshCa, contents: answer.MeshCACert, mode: CREDENTIAL_MODES.certificate },
    { path: CREDENTIAL_LAYOUT.certChain, contents: answer.CertChain, mode: CREDENTIAL_MODES.certificate },
    { path: CREDENTIAL_LAYOUT.key, contents: utf8(key.privateKeyPem), mode: CREDENTIAL_MODES.secret },
    { path: CREDENTIAL_LAYOUT.coordinatorRootCa, contents: answer.RootCACert, mode: CREDENTIAL_MODES.certificate },
  ];
  // Only when the policy entry has a WorkloadSecretID (upstream writes no file otherwise).
  if (secret.length > 0) {
    files.push({
      path: CREDENTIAL_LAYOUT.workloadSecretSeed,
      contents: utf8(toHex(secret)),
      mode: CREDENTIAL_MODES.secret,
    });
  }
  return files;
}
