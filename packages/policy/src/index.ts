// @contrast/policy: Kata agent policies for confidential pods, the genpolicy equivalent:
// Kubernetes objects to policy data and the policy annotation (src/), image metadata from
// registries, OCI layouts and offline files with dm-verity layer hashes (src/image/).

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
export { IMAGE_ERROR_CODES } from "./image/error-codes.js";
export { ImageError, type ImageErrorCode } from "./image/errors.js";
export {
  type LayerEtcFile,
  mergeEtcFiles,
  WHITEOUT_MARKER,
} from "./image/etc-files.js";
export { type ImageFileSystem, nodeFileSystem } from "./image/fs.js";
export { bodyChunks, type Fetcher, type HttpRequestInit, type HttpResponse } from "./image/http.js";
export {
  GZIP_LAYER_MEDIA_TYPES,
  type LayerDigests,
  type ProcessLayerOptions,
  processLayerBlob,
  processLayerTar,
  tarWithIndex,
} from "./image/layer.js";
export { type CachedLayer, LayersCache, type LayersCacheOptions } from "./image/layers-cache.js";
export {
  DEFAULT_PLATFORM,
  type Descriptor,
  formatPlatform,
  type ImageConfig,
  type ImageConfigDocument,
  MEDIA_TYPE,
  type Platform,
  parsePlatform,
} from "./image/manifest.js";
export type {
  ImageMetadata,
  ImageMetadataSource,
  LayerMetadata,
  LayerProgress,
  ProgressCallback,
} from "./image/metadata.js";
export {
  createOfflineImageSource,
  exportImageMetadata,
  IMAGE_METADATA_SCHEMA,
  type ImageMetadataDocument,
  loadImageMetadataFile,
  parseImageMetadataDocument,
  serializeImageMetadataDocument,
} from "./image/offline.js";
export {
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  findUnpinnedReferences,
  formatImageReference,
  type ImageReference,
  isLoopbackRegistry,
  isPinned,
  normalizeImageReference,
  parseImageReference,
  registryApiHost,
  type UnpinnedReference,
  validateDigest,
  withDigest,
} from "./image/reference.js";
export {
  parseChallenge,
  RegistryClient,
  type RegistryClientOptions,
  type RegistryCredentials,
} from "./image/registry.js";
export { DEFAULT_RETRY, type Random, type RetryPolicy, type Sleep } from "./image/retry.js";
export {
  type BlobStore,
  createImageMetadataSource,
  createOciLayoutSource,
  ImageResolver,
  OciLayoutBlobStore,
  pinReference,
  RegistryBlobStore,
  type RegistrySourceOptions,
  type ResolverOptions,
} from "./image/source.js";
export {
  type BlockHasher,
  hashDataBlocks,
  inlineBlockHasher,
  VERITY_BLOCK_SIZE,
  VERITY_DIGEST_SIZE,
  VERITY_SALT,
  VerityHasher,
  VerityTree,
  verityLevelCount,
  verityRootHash,
} from "./image/verity.js";
export { WorkerBlockHasher } from "./image/verity-workers.js";
export { type ImageLayer, type OciImageConfig, pinnedReference } from "./image.js";
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
  TarfsFlavour,
  UpstreamVersions,
} from "./profiles/types.js";
export { DEFAULT_SETTINGS } from "./settings/defaults.js";
export { applyJsonPatch, type JsonPatchOperation, parseJsonPatch } from "./settings/json-patch.js";
export { loadSettings, type SettingsDropIn, settingsToJson, validateSettings } from "./settings/load.js";
export type { Settings } from "./settings/types.js";
export { POLICY_WARNING_CODES } from "./warning-codes.js";
export {
  WORKSPACE_RULES_FILE,
  WORKSPACE_SETTINGS_FILE,
  type WorkspaceWriter,
  writeWorkspaceDefaults,
} from "./workspace.js";
