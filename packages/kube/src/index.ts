// @contrast/kube: Kubernetes YAML as Contrast reads and rewrites it. Multi-document streams with
// untouched documents written back byte for byte, workload kinds and their pod templates, the
// pod-spec fields policy generation knows, and pure, idempotent mutations.

export { CONTRAST_ANNOTATIONS, GPU_ANNOTATIONS } from "./annotations.js";
export { type FindingCodeInfo, KUBE_ERROR_CODES, KUBE_FINDING_CODES, type KubeFindingCode } from "./error-codes.js";
export { KubeError, type KubeErrorCode } from "./errors.js";
export { execCommands } from "./exec.js";
export { type FieldProblem, unknownPodSpecFields } from "./fields.js";
export {
  type Finding,
  type FindingSeverity,
  formatFinding,
  type ResourceRef,
  type YamlFile,
} from "./findings.js";
export { applyImageReplacements, type ImageReplacements, parseImageReplacements } from "./image-replacements.js";
export {
  AKS_RUNTIME_CLASS,
  INITIALIZER_NAME,
  type InitializerOptions,
  initializerContainer,
  injectInitializer,
  injectServiceMesh,
  isContrastRuntimeClass,
  type PatchOptions,
  patchWorkload,
  RUNTIME_CLASS_PLACEHOLDER,
  rewriteRuntimeClass,
  SECRETS_MOUNT_PATH,
  SECRETS_VOLUME,
  SERVICE_MESH_DISABLED_ENV,
  SERVICE_MESH_NAME,
  type ServiceMeshOptions,
  serviceMeshContainer,
} from "./injection.js";
export {
  type LintOptions,
  lintWorkloads,
  type PodVmMemory,
  parseCdiGpuDevices,
  podVmMemory,
} from "./lints.js";
export {
  type EgressEntry,
  type EntryProblem,
  type IngressEntry,
  type ParsedEntries,
  parseAdminPort,
  parseEgressConfig,
  parseIngressConfig,
  parsePort,
  validateMeshAnnotations,
} from "./mesh-config.js";
export {
  type AnnotationOptions,
  addInitContainer,
  addSidecar,
  type ContainerSpec,
  type InitContainerOptions,
  type PodSelector,
  removeAnnotation,
  setAnnotation,
  setRuntimeClass,
} from "./mutations.js";
export { parseQuantity } from "./quantity.js";
export { type SourcedObject, sourcedObjects } from "./resources.js";
export {
  isListKind,
  isRecord,
  type JsonRecord,
  type KubeObject,
  kubeObjects,
  type PodTemplate,
  podMetadataOf,
  podMetadataPath,
  podTemplates,
  runtimeClassName,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadId,
} from "./workloads.js";
export {
  parseYamlDocuments,
  pathKeys,
  type SerializedDocument,
  serializeYamlDocuments,
  type YamlDocument,
  type YamlEdit,
} from "./yaml.js";
