// @contrast/manifest: the Contrast v1.5 manifest, its validation and its byte-stable form.

export { ManifestError } from "./error.js";
export { MANIFEST_ERROR_CODES, type ManifestErrorCode } from "./error-codes.js";
export { parseRuntimeHandler, runtimeHandler } from "./handler.js";
export { MANIFEST_ISSUE_CODES } from "./issue-codes.js";
export {
  formatIssue,
  type IssueSeverity,
  type ManifestIssue,
  type ManifestIssueCode,
} from "./issues.js";
export {
  loadManifest,
  MANIFEST_MAX_BYTES,
  type ManifestParseResult,
  manifestHash,
  type ParseManifestOptions,
  parseManifest,
} from "./manifest.js";
export {
  PLATFORMS,
  type Platform,
  type PlatformId,
  parsePlatform,
  SIM_COORDINATOR_POLICY_HASH,
  SIM_COORDINATOR_POLICY_LABEL,
  SIM_TRUSTED_MEASUREMENT,
  simReferenceValues,
  type TeeType,
} from "./platforms.js";
export {
  parseSeedShareDocument,
  SEED_SALT_BYTES,
  type SeedShare,
  type SeedShareDocument,
  serializeSeedShareDocument,
} from "./seed-shares.js";
export { serializeManifest } from "./serialize.js";
export type {
  Manifest,
  PolicyEntry,
  ReferenceValues,
  SimReferenceValues,
  SNPReferenceValues,
  SNPTCB,
  SnpGuestPolicy,
  SnpPlatformInfo,
  TDXReferenceValues,
} from "./types.js";
