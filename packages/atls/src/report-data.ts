import { sha512 } from "@contrast/core";

/**
 * The 64 bytes an attester asks its TEE to sign: SHA-512(publicKeyDer ‖ nonce), where
 * publicKeyDer is the PKIX SubjectPublicKeyInfo DER of the key in its aTLS certificate and nonce
 * is the verifier's. Upstream's ConstructReportData; the digest is the whole REPORT_DATA (SNP) or
 * REPORTDATA (TDX), neither padded nor truncated.
 */
export function reportData(publicKeyDer: Uint8Array, nonce: Uint8Array): Uint8Array {
  return sha512(publicKeyDer, nonce);
}
