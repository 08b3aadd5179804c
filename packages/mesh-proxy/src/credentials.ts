import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext, type SecureContextOptions } from "node:tls";
import { MeshProxyError } from "./errors.js";

/** The three files the initializer writes to /contrast/tls-config that the proxy uses. */
export const MESH_TLS_FILES = {
  certChain: "certChain.pem",
  key: "key.pem",
  meshCa: "mesh-ca.pem",
} as const;

/** The bytes (or text) of the three PEM files; the caller reads them. */
export interface MeshCredentialFiles {
  readonly certChain: Uint8Array | string;
  readonly key: Uint8Array | string;
  readonly meshCa: Uint8Array | string;
}

/** Checked mesh credentials, ready for TLS contexts. */
export interface MeshCredentials {
  /** The workload's chain as the Coordinator issued it: leaf, then the intermediate CA. */
  readonly certChainPem: string;
  readonly keyPem: string;
  /** The mesh CA: the only trust anchor for peers (never the system roots). */
  readonly meshCaPem: string;
  readonly leaf: X509Certificate;
  readonly meshCa: X509Certificate;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function text(value: Uint8Array | string): string {
  return typeof value === "string" ? value : Buffer.from(value).toString("utf8");
}

function invalid(message: string, cause?: unknown): MeshProxyError {
  return new MeshProxyError("PROXY_CREDENTIALS_INVALID", message, { cause });
}

function certificates(pem: string, file: string): X509Certificate[] {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw invalid(`${file} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (cause) {
      throw invalid(`certificate ${i + 1} of ${file} is not a valid X.509 certificate`, cause);
    }
  });
}

/**
 * Checks the initializer's files: the chain parses, the key is a private key and belongs to the
 * chain's first certificate, the mesh CA is a CA. Validity dates are not checked here: a peer
 * judges them at each handshake, and the proxy must start (and serve passthrough ports) even when
 * a clock is off.
 */
export function loadMeshCredentials(files: MeshCredentialFiles): MeshCredentials {
  const certChainPem = text(files.certChain);
  const keyPem = text(files.key);
  const meshCaPem = text(files.meshCa);
  const chain = certificates(certChainPem, MESH_TLS_FILES.certChain);
  const leaf = chain[0] as X509Certificate;
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (cause) {
    throw invalid(`${MESH_TLS_FILES.key} is not a PEM private key`, cause);
  }
  if (!leaf.checkPrivateKey(key)) {
    throw invalid(`${MESH_TLS_FILES.key} is not the key of the first certificate in ${MESH_TLS_FILES.certChain}`);
  }
  const cas = certificates(meshCaPem, MESH_TLS_FILES.meshCa);
  if (cas.length !== 1) throw invalid(`${MESH_TLS_FILES.meshCa} holds ${cas.length} certificates, not 1`);
  const meshCa = cas[0] as X509Certificate;
  if (!meshCa.ca) throw invalid(`${MESH_TLS_FILES.meshCa} is not a CA certificate`);
  // The context is built once here so that a bad combination fails at load, not at the first peer.
  secureContextFor({ certChainPem, keyPem, meshCaPem, leaf, meshCa });
  return { certChainPem, keyPem, meshCaPem, leaf, meshCa };
}

/**
 * The TLS settings of every mesh connection: the workload chain, trust in the mesh CA only. Envoy
 * accepts TLS 1.2 and 1.3 from peers; so do we (upstream's Envoy clients default to 1.2 at most).
 */
export function tlsOptionsFor(credentials: MeshCredentials): SecureContextOptions {
  return {
    cert: credentials.certChainPem,
    key: credentials.keyPem,
    ca: credentials.meshCaPem,
    minVersion: "TLSv1.2",
    maxVersion: "TLSv1.3",
  };
}

/** A TLS context with tlsOptionsFor's settings. */
export function secureContextFor(credentials: MeshCredentials): SecureContext {
  try {
    return createSecureContext(tlsOptionsFor(credentials));
  } catch (cause) {
    throw invalid("the mesh credentials do not form a TLS context", cause);
  }
}
