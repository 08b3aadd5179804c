// @contrast/attestation: verification of AMD SEV-SNP and Intel TDX evidence, collateral,
// reference values as expectations, evidence documents and the configfs-tsm issuer. The simulated
// TEE's issuer (its chain and reports) is behind "@contrast/attestation/testing"; accepting its
// trust anchor (simEntriesNaming) is here, because verifiers need it.

export {
  type CollateralCacheStorage,
  type CollateralFetcher,
  CollateralStore,
  type CollateralStoreOptions,
  directoryStorage,
} from "./collateral/store.js";
export { fetchTdxCollateral } from "./collateral/tdx.js";
export { intelCollateralUrls, kdsCrlUrl, kdsVcekUrl, pcsTcbInfoUrl } from "./collateral/urls.js";
export { ATTESTATION_ERROR_CODES, type AttestationErrorCode } from "./error-codes.js";
export { AttestationPolicyError, EvidenceError } from "./errors.js";
export { EVIDENCE_OIDS } from "./evidence/oids.js";
export { decodeSnpEvidence, encodeSnpEvidence, type SnpEvidence } from "./evidence/snp.js";
export { decodeTdxEvidence, encodeTdxEvidence, type TdxEvidence } from "./evidence/tdx.js";
export { simArkKeyDigest, simEntriesNaming, simEntriesNamingDigest } from "./expectations/sim.js";
export { type EvidenceBindings, type SnpExpectationOptions, snpExpectations } from "./expectations/snp.js";
export { tdxExpectations } from "./expectations/tdx.js";
export {
  type ConfigfsTsmOptions,
  issueTsmReport,
  parseSnpCertTable,
  type TsmFileSystem,
} from "./issuer/configfs-tsm.js";
export { type EndorsementKey, parseEndorsementKey } from "./snp/endorsement.js";
export { contrastIdBlock } from "./snp/id-block.js";
export {
  decodeGuestPolicy,
  decodePlatformInfo,
  decodeTcb,
  parseSnpReport,
  type SnpProduct,
  type SnpReport,
  snpReportSigningKey,
} from "./snp/report.js";
export { contrastIdKeyDigest, type SnpExpectations, validateSnpReport } from "./snp/validate.js";
export {
  type AmdRoots,
  SnpVerifier,
  type SnpVerifierOptions,
  type VerifiedSnpReport,
  type VerifySnpOptions,
  verifySnpReport,
} from "./snp/verify.js";
export { collateralFromDcapQvl, parsePcsResponse, type TdxCollateral } from "./tdx/collateral-documents.js";
export { type JudgeTdxQuoteOptions, judgeTdxQuote } from "./tdx/judge.js";
export { parsePckExtension } from "./tdx/pck.js";
export { parseTdxQuote, type TdxQuote } from "./tdx/quote.js";
export { TCB_STATUSES, type TcbStatus } from "./tdx/tcb-status.js";
export { type TdxExpectations, validateTdxQuote } from "./tdx/validate.js";
export {
  TdxVerifier,
  type TdxVerifierOptions,
  type VerifiedTdxQuote,
  type VerifyTdxOptions,
  verifyTdxQuote,
} from "./tdx/verify.js";
export { type VerifyTdxCollateralOptions, verifyTdxCollateral } from "./tdx/verify-collateral.js";
