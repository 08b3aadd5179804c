// @contrast/policy: Kata agent policies for confidential pods, the genpolicy equivalent:
// Kubernetes objects to policy data and the policy annotation. Image metadata (registries, OCI
// layouts, offline files, dm-verity layer hashes) comes from @contrast/oci.

export { type AgentDecision, type AgentOptions, AgentPolicy } from "./agent/decision.js";
export { withProtobufDefaults } from "./agent/defaults.js";
export { type DenialReason, explainDenial } from "./agent/explain.js";
export {
  type HonestRequestOptions,
  type HonestStream,
  honestRequests,
  honestRequestsForYaml,
  type SandboxIdentity,
} from "./agent/honest.js";
export { type AgentRequest, formatRequestStream, parseRequestStream, type StreamRequest } from "./agent/stream.js";
export { type AnnotatedPolicy, annotatedPolicies, policyOfAnnotations, selectAnnotatedPolicy } from "./annotated.js";
export { profileDialect } from "./dialect.js";
export {
  decodePolicyAnnotation,
  encodePolicyAnnotation,
  POLICY_ANNOTATION,
  policyDocument,
  policyHash,
  policyHashOfAnnotation,
} from "./document.js";
export { POLICY_ERROR_CODES } from "./error-codes.js";
export { PolicyError, type PolicyErrorCode } from "./errors.js";
export {
  type GeneratedWorkload,
  type GenerateOptions,
  type GenerateResult,
  generatePolicies,
  type PolicyWarning,
} from "./generate.js";
export {
  decodeInitdataAnnotation,
  encodeInitdataAnnotation,
  INITDATA_ANNOTATION,
  type InitdataDocument,
  initdataLaunchField,
  initdataPolicy,
  initdataPolicyHash,
  initdataToml,
  parseInitdata,
  policyInitdata,
} from "./initdata.js";
export { parseYamlDocuments } from "./kube-input.js";
export type { PolicyData } from "./policy-data/types.js";
export { DEFAULT_POLICY_PLATFORM, policyProfile, policyProfiles } from "./profiles/registry.js";
export type { AnnotationFormat, PolicyProfile } from "./profiles/types.js";
export { DEFAULT_SETTINGS } from "./settings/defaults.js";
export { applyJsonPatch } from "./settings/json-patch.js";
export { loadSettings, settingsToJson } from "./settings/load.js";
export type { Settings } from "./settings/types.js";
export { POLICY_WARNING_CODES } from "./warning-codes.js";
export { writeWorkspaceDefaults } from "./workspace.js";
