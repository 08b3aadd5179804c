// @contrast/attestation: verification of AMD SEV-SNP and Intel TDX evidence, collateral,
// validators, evidence documents, issuers and the simulated TEE.

export {
  type CollateralCacheStorage,
  type CollateralFetcher,
  CollateralStore,
  type CollateralStoreOptions,
  directoryStorage,
  type FetchedDocument,
  type FreshUntil,
} from "./collateral/store.js";
export { fetchTdxCollateral, PCS_ISSUER_CHAIN_HEADERS } from "./collateral/tdx.js";
export {
  AMD_KDS,
  INTEL_PCS,
  INTEL_ROOT_CRL_URL,
  type IntelCollateralUrls,
  intelCollateralUrls,
  kdsCertChainUrl,
  kdsCrlUrl,
  kdsVcekUrl,
  pcsPckCrlUrl,
  pcsQeIdentityUrl,
  pcsTcbInfoUrl,
} from "./collateral/urls.js";
export { verifyCrl } from "./crl.js";
export { ATTESTATION_ERROR_CODES, type AttestationErrorCode } from "./error-codes.js";
export { AttestationPolicyError, EvidenceError } from "./errors.js";
export { EVIDENCE_OIDS } from "./evidence/oids.js";
export { decodeSnpEvidence, encodeSnpEvidence, SNP_CRL_EXTRAS_KEY, type SnpEvidence } from "./evidence/snp.js";
export {
  COLLATERAL_KEY,
  COLLATERAL_VERSION,
  collateralToJson,
  decodeTdxEvidence,
  encodeTdxEvidence,
  type TdxEvidence,
} from "./evidence/tdx.js";
export { simArkKeyDigest, simEntriesNaming } from "./expectations/sim.js";
export { type EvidenceBindings, type SnpExpectationOptions, snpExpectations } from "./expectations/snp.js";
export { tdxExpectations } from "./expectations/tdx.js";
export {
  buildSnpCertTable,
  CONFIGFS_TSM_REPORT,
  type ConfigfsTsmOptions,
  issueTsmReport,
  nodeTsmFileSystem,
  parseSnpCertTable,
  SNP_CERT_GUIDS,
  type TsmFileSystem,
  type TsmReport,
} from "./issuer/configfs-tsm.js";
export {
  type CreateSimulatedAuthorityOptions,
  createSimulatedAuthority,
  type SimReportRequest,
  type SimTcb,
  type SimulatedAuthority,
} from "./sim/tee.js";
export { AMD_ROOT_CERTS, AMD_ROOT_FINGERPRINTS } from "./snp/amd-roots.js";
export { AMD_OIDS, type EndorsementKey, parseEndorsementKey } from "./snp/endorsement.js";
export {
  amdEcdsaPublicKey,
  CONTRAST_ID_SIGNATURE,
  type ContrastIdBlock,
  contrastIdBlock,
  encodeGuestPolicy,
  isOnP384,
  type P384Point,
  recoverP384PublicKeys,
  SNP_ID_AUTH_SIZE,
  SNP_ID_BLOCK_SIZE,
  SNP_PUBLIC_KEY_SIZE,
  type SnpIdBlockFields,
  snpIdBlock,
} from "./snp/id-block.js";
export {
  decodeGuestPolicy,
  decodePlatformInfo,
  decodeTcb,
  type FirmwareVersion,
  PLATFORM_INFO_KNOWN_BITS,
  parseSnpReport,
  productFromCpuid,
  SNP_REPORT_SIZE,
  SNP_SIGNED_SIZE,
  type SnpGuestPolicyBits,
  type SnpPlatformInfoBits,
  type SnpProduct,
  type SnpReport,
  type SnpSigningKey,
  type TcbParts,
} from "./snp/report.js";
export {
  contrastIdKeyDigest,
  type Mismatch,
  type SnpExpectations,
  type SnpMismatchCode,
  snpMismatches,
  validateSnpReport,
} from "./snp/validate.js";
export {
  type AmdRoots,
  amdRoots,
  checkAmdCrl,
  SnpVerifier,
  type SnpVerifierOptions,
  type VerifiedSnpReport,
  type VerifySnpOptions,
  verifyAmdChain,
  verifySnpReport,
} from "./snp/verify.js";
export {
  collateralFromDcapQvl,
  missingTdxCollateral,
  parsePcsResponse,
  type SignedCollateral,
  type TdxCollateral,
  tdxCollateralSources,
} from "./tdx/collateral-documents.js";
export { intelDate } from "./tdx/collateral-fields.js";
export { INTEL_SGX_ROOT_CA, INTEL_SGX_ROOT_CA_FINGERPRINT } from "./tdx/intel-root.js";
export { type JudgeTdxQuoteOptions, judgeTdxQuote, type TdxJudgement } from "./tdx/judge.js";
export { type PckExtension, parsePckExtension, type SgxType } from "./tdx/pck.js";
export { INTEL_QE_VENDOR_ID, parseTdxQuote, type QeReport, type TdxQuote, type TdxQuoteBody } from "./tdx/quote.js";
export { evaluateTdxTcb, type TdxTcbEvaluation } from "./tdx/tcb-evaluation.js";
export { TCB_STATUSES, type TcbStatus } from "./tdx/tcb-status.js";
export {
  CONTRAST_TD_ATTRIBUTES,
  type TdxExpectations,
  type TdxMismatch,
  type TdxMismatchCode,
  tdxMismatches,
  validateTdxQuote,
} from "./tdx/validate.js";
export {
  type TdxAttestOptions,
  TdxVerifier,
  type TdxVerifierOptions,
  type VerifiedTdxQuote,
  type VerifyTdxOptions,
  verifyPckChain,
  verifyTdxQuote,
} from "./tdx/verify.js";
export { type VerifyTdxCollateralOptions, verifyTdxCollateral } from "./tdx/verify-collateral.js";
