import type { Clock } from "@contrast/core";
import { checkAtlsCertificate } from "./certificate.js";
import { AtlsError } from "./errors.js";
import { reportData } from "./report-data.js";
import {
  type AtlsReferenceValues,
  type EvidenceCollateral,
  type VerifiedEvidence,
  verifyEvidence,
} from "./verify-evidence.js";

/** What a verifier of aTLS peers accepts. */
export interface AtlsVerifyOptions extends EvidenceCollateral {
  readonly referenceValues: AtlsReferenceValues;
  /** Hex policy hashes the peer's HOST_DATA must be one of; any when left out. */
  readonly allowedHostData?: readonly string[] | undefined;
  readonly clock: Clock;
}

/** An attested peer: its certificate, key and verified evidence. */
export interface AtlsAttestedPeer {
  readonly certificateDer: Uint8Array;
  /** PKIX SubjectPublicKeyInfo DER of the peer certificate's key. */
  readonly publicKeyDer: Uint8Array;
  readonly evidence: VerifiedEvidence;
}

/**
 * Verifies a peer's aTLS certificate for the nonce this side chose: self-signature and validity,
 * an evidence extension, and the evidence with report data SHA-512(certificate key ‖ nonce).
 */
export async function verifyAtlsCertificate(
  der: Uint8Array | undefined,
  nonce: Uint8Array,
  options: AtlsVerifyOptions,
): Promise<AtlsAttestedPeer> {
  const now = options.clock.now();
  const parsed = checkAtlsCertificate(der, now);
  if (parsed.evidence === undefined) {
    throw new AtlsError("ATLS_EVIDENCE_MISSING", "the peer's certificate carries no attestation evidence");
  }
  const evidence = await verifyEvidence({
    ...options,
    oid: parsed.evidence.oid,
    evidence: parsed.evidence.document,
    reportData: reportData(parsed.publicKeyDer, nonce),
    now,
  });
  return { certificateDer: new Uint8Array(parsed.certificate.raw), publicKeyDer: parsed.publicKeyDer, evidence };
}
