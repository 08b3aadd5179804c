// @contrast/kube: Kubernetes YAML as Contrast reads and rewrites it. Multi-document streams with
// untouched documents written back byte for byte, workload kinds and their pod templates, the
// pod-spec fields policy generation knows, and pure, idempotent mutations.

export { KUBE_ERROR_CODES } from "./error-codes.js";
export { KubeError, type KubeErrorCode } from "./errors.js";
export { execCommands } from "./exec.js";
export { type FieldProblem, unknownPodSpecFields } from "./fields.js";
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
export {
  isRecord,
  type JsonRecord,
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
