// @contrast/policy: Kata agent policies for confidential pods, the genpolicy equivalent:
// Kubernetes objects to policy data and the policy annotation. Image metadata (registries, OCI
// layouts, offline files, dm-verity layer hashes) comes from @contrast/oci.

export {
  AGENT_POLICY_PACKAGE,
  type AgentDecision,
  type AgentOptions,
  AgentPolicy,
  type AgentState,
  type DecisionOutcome,
} from "./agent/decision.js";
export { withProtobufDefaults } from "./agent/defaults.js";
export { type DenialReason, explainDenial } from "./agent/explain.js";
export {
  type HonestContainer,
  type HonestRequestOptions,
  type HonestStream,
  honestRequests,
  honestRequestsForYaml,
  type ResolvedIdentity,
  resolveIdentity,
  type SandboxIdentity,
} from "./agent/honest.js";
export { type AgentRequest, formatRequestStream, parseRequestStream, type StreamRequest } from "./agent/stream.js";
export { type AnnotatedPolicy, annotatedPolicies, policyOfAnnotations, selectAnnotatedPolicy } from "./annotated.js";
export { DEFAULT_RULES } from "./default-rules.js";
export { policyDialectFindings, profileDialect } from "./dialect.js";
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
  CONFIDENTIAL_RUNTIME_PREFIX,
  type GeneratedWorkload,
  type GenerateOptions,
  type GenerateResult,
  generatePolicies,
  type PolicyWarning,
} from "./generate.js";
export {
  DEFAULT_INITDATA_ALGORITHM,
  type DecodeInitdataOptions,
  decodeInitdataAnnotation,
  encodeInitdataAnnotation,
  INITDATA_ALGORITHMS,
  INITDATA_ANNOTATION,
  INITDATA_FIELD_SIZE,
  INITDATA_POLICY_KEY,
  INITDATA_VERSION,
  type InitdataAlgorithm,
  type InitdataDocument,
  type InitdataOptions,
  type InitdataTee,
  initdataDigest,
  initdataLaunchField,
  initdataPolicy,
  initdataPolicyHash,
  initdataToml,
  parseInitdata,
  policyInitdata,
} from "./initdata.js";
export { type ConfigSources, collectConfigSources } from "./kube/config-sources.js";
export { type FieldProblem, unknownPodSpecFields } from "./kube/fields.js";
export {
  isWorkloadKind,
  type PodTemplate,
  podTemplates,
  runtimeClassName,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadId,
} from "./kube/workloads.js";
export { parseYamlDocuments, serializeYamlDocuments, type YamlDocument } from "./kube/yaml.js";
export { type BuildInputs, buildPolicyData } from "./policy-data/build.js";
export type {
  ContainerPolicy,
  Device,
  KataCapabilities,
  KataLinux,
  KataMount,
  KataProcess,
  KataSpec,
  KataUser,
  PolicyData,
  Storage,
} from "./policy-data/types.js";
export { DEFAULT_POLICY_PLATFORM, policyProfile, policyProfiles } from "./profiles/registry.js";
export type {
  AnnotationFormat,
  PolicyProfile,
  ProfileFact,
  ProfileFlavour,
  RuntimeFacts,
  UpstreamVersions,
} from "./profiles/types.js";
export { DEFAULT_SETTINGS } from "./settings/defaults.js";
export { applyJsonPatch, type JsonPatchOperation, parseJsonPatch } from "./settings/json-patch.js";
export { loadSettings, type SettingsDropIn, settingsToJson, validateSettings } from "./settings/load.js";
export type { Settings } from "./settings/types.js";
export {
  WORKSPACE_RULES_FILE,
  WORKSPACE_SETTINGS_FILE,
  type WorkspaceWriter,
  writeWorkspaceDefaults,
} from "./workspace.js";
