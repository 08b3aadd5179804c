/**
 * Certificate-extension OIDs under which aTLS certificates carry evidence documents (Contrast's
 * private arc 1.3.9901). The extension value is the document itself, not wrapped in another
 * ASN.1 type.
 */
export const EVIDENCE_OIDS = {
  /** `sevsnp.Attestation` protobuf (also used by the simulated TEE, whose reports are SNP reports). */
  snp: "1.3.9901.2.1",
  /** `tdx.QuoteV4` protobuf. */
  tdx: "1.3.9901.2.2",
  /** Upstream's insecure, non-TEE test document; recognised, never accepted as evidence. */
  insecure: "1.3.9901.2.3",
} as const;
