import type { SnpReport, TdxQuote } from "@contrast/attestation";
import type { ReferenceValues } from "@contrast/manifest";

/** What the Coordinator asks of evidence: the same checks as a client's aTLS verification. */
export interface EvidenceVerificationRequest {
  /** The evidence format: 1.3.9901.2.1 (SNP, also simulated SNP) or 1.3.9901.2.2 (TDX). */
  readonly oid: string;
  readonly evidence: Uint8Array;
  /** The 64 bytes the evidence must carry as REPORT_DATA / REPORTDATA. */
  readonly reportData: Uint8Array;
  /** The current manifest's reference values; evidence must satisfy one entry. */
  readonly referenceValues: ReferenceValues;
  /** HOST_DATA (SNP) or the first 32 bytes of MRCONFIGID (TDX) must be one of these (lower-case hex). */
  readonly allowedHostData: readonly string[];
  readonly now: Date;
}

/** Verified evidence: the attested policy hash and the report the mesh certificate's claims come from. */
export interface VerifiedEvidence {
  readonly platform: "snp" | "tdx" | "sim";
  /** The policy hash: SNP HOST_DATA, or MRCONFIGID (its first 32 bytes are used). */
  readonly hostData: Uint8Array;
  /** When given, checked again against the expected report data. */
  readonly reportData?: Uint8Array | undefined;
  readonly snpReport?: { readonly report: SnpReport } | undefined;
  readonly tdxQuote?: { readonly quote: TdxQuote } | undefined;
  readonly tdxExtraBytes?: Uint8Array | undefined;
}

/**
 * Verifies evidence or throws a ContrastError saying why (its code is the failure reason the
 * attestation-failure metric counts). @contrast/atls's verifyEvidence has this shape (wrap it to
 * add the SNP CRL and TDX collateral getters); the Coordinator takes it injected so that it can be
 * tested without hardware and without sockets.
 */
export type EvidenceVerifier = (request: EvidenceVerificationRequest) => Promise<VerifiedEvidence>;
