// @contrast/policy: Kata agent policies for confidential pods, the genpolicy equivalent.

export { DEFAULT_RULES } from "./default-rules.js";
export {
  decodePolicyAnnotation,
  encodePolicyAnnotation,
  POLICY_ANNOTATION,
  policyDocument,
  policyHash,
  policyHashOfAnnotation,
} from "./document.js";
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
  type ImageLayer,
  type ImageMetadata,
  type ImageMetadataSource,
  type ImageReference,
  isPinned,
  type OciImageConfig,
  parseImageReference,
  pinnedReference,
} from "./image.js";
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
