import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/kube throws (its findings: KUBE_FINDING_CODES). @contrast/policy reports the same failures under its
 * historical codes (POLICY_YAML_INVALID, POLICY_OBJECT_INVALID), which users of the CLI see.
 */
export const KUBE_ERROR_CODES = [
  {
    code: "KUBE_YAML_INVALID",
    kind: "input",
    meaning: "A document of a Kubernetes YAML stream is not valid YAML.",
    hint: "Fix the YAML syntax of this document.",
  },
  {
    code: "KUBE_OBJECT_INVALID",
    kind: "input",
    meaning: "A Kubernetes object is not of the shape its kind needs (a workload without its pod template, say).",
    hint: "Check the object against its Kubernetes schema at the path shown.",
  },
  {
    code: "KUBE_MUTATION_INVALID",
    kind: "input",
    meaning: "A mutation cannot be applied: its target is not where the document says, or its argument is not valid.",
    hint: "Check that the document holds the workload and that the container or annotation is well formed.",
  },
  {
    code: "KUBE_SECRETS_VOLUME_CONFLICT",
    kind: "input",
    meaning:
      "A pod already has a volume named contrast-secrets that is not an emptyDir, so the initializer cannot share its files through it.",
    hint: "Rename your volume: contrast-secrets is the emptyDir the initializer and the service mesh write to.",
  },
  {
    code: "KUBE_IMAGE_REPLACEMENTS_INVALID",
    kind: "input",
    meaning: "A line of an image replacements file is not of the form `<image> = <replacement>`.",
    hint: "Write one `<image> = <replacement>` per line; blank lines and lines starting with # are ignored.",
  },
  {
    code: "KUBE_MESH_ADMIN_PORT_INVALID",
    kind: "input",
    meaning: "A contrast.edgeless.systems/servicemesh-admin-interface-port annotation is not a port number.",
    hint: "Set the annotation to a decimal port between 1 and 65535, as a quoted string.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type KubeErrorCode = (typeof KUBE_ERROR_CODES)[number]["code"];

/** One kind of finding (`validateMeshAnnotations`, `lintWorkloads`): reported, not thrown. */
export interface FindingCodeInfo {
  readonly code: string;
  readonly severities: readonly ("error" | "warning" | "info")[];
  readonly meaning: string;
  readonly hint: string;
}

/**
 * Every code the checks report without throwing, at the severities listed. `contrast generate`
 * prints warnings and fails on errors (on warnings too with `--strict`). KUBE_MESH_ADMIN_PORT_INVALID
 * is also thrown, by injectServiceMesh, when it was not checked first.
 */
export const KUBE_FINDING_CODES = [
  {
    code: "KUBE_MESH_INGRESS_INVALID",
    severities: ["error"],
    meaning:
      "A contrast.edgeless.systems/servicemesh-ingress annotation does not follow the grammar name#port#disableTLS[##...].",
    hint: "Write entries as name#port#true|false joined by ##, e.g. web#8080#false##metrics#9090#true.",
  },
  {
    code: "KUBE_MESH_EGRESS_INVALID",
    severities: ["error"],
    meaning:
      "A contrast.edgeless.systems/servicemesh-egress annotation does not follow the grammar name#127.x.y.z:port#host:port[##...].",
    hint: "Write entries as name#<loopback IPv4>:port#<host>:port joined by ##, e.g. emoji#127.137.0.1:8081#emoji-svc:8080.",
  },
  {
    code: "KUBE_MESH_ADMIN_PORT_INVALID",
    severities: ["error"],
    meaning: "A contrast.edgeless.systems/servicemesh-admin-interface-port annotation is not a port number.",
    hint: "Set the annotation to a decimal port between 1 and 65535, as a quoted string.",
  },
  {
    code: "KUBE_MESH_ADMIN_PORT_UNREACHABLE",
    severities: ["warning"],
    meaning:
      "A service-mesh admin port that the ingress annotation does not exclude from TLS: only mesh peers with a client certificate reach it.",
    hint: "Add ##admin#<port>#true to the contrast.edgeless.systems/servicemesh-ingress annotation.",
  },
  {
    code: "KUBE_MESH_ANNOTATION_MISPLACED",
    severities: ["warning"],
    meaning:
      "A service-mesh annotation stands on a workload's pod template, where generate does not read it: no sidecar is injected for it.",
    hint: "Move the contrast.edgeless.systems/servicemesh-* annotations to the workload's own metadata.annotations.",
  },
  {
    code: "KUBE_MEMORY_LIMIT_MISSING",
    severities: ["warning"],
    meaning:
      "A container of a Contrast pod has no memory limit: the pod VM's memory is sized from the containers' limits.",
    hint: "Set resources.limits.memory (and the same resources.requests.memory) on every container.",
  },
  {
    code: "KUBE_MEMORY_REQUEST_MISMATCH",
    severities: ["warning"],
    meaning:
      "A container's memory request differs from its limit, so the scheduler accounts less memory than the pod VM takes.",
    hint: "Set resources.requests.memory equal to resources.limits.memory.",
  },
  {
    code: "KUBE_POD_VM_MEMORY",
    severities: ["info", "warning"],
    meaning: "The memory the pod VM gets: the sum of the containers' memory limits plus the runtime class overhead.",
    hint: "Raise a container's memory limit if the pod needs more; init containers do not count.",
  },
  {
    code: "KUBE_IMAGE_TMPFS",
    severities: ["warning"],
    meaning:
      "On bare metal the pod VM pulls and unpacks images into its encrypted memory: the memory limits are below about 10 times the compressed image size.",
    hint: "Raise the container's memory limit to about 10 times its image's compressed size.",
  },
  {
    code: "KUBE_IMAGE_UNPINNED",
    severities: ["warning"],
    meaning:
      "A container image is referenced by tag, not by digest: the policy pins the layers it saw, and a moved tag no longer starts.",
    hint: "Reference the image by digest (name@sha256:...).",
  },
  {
    code: "KUBE_GPU_INCOMPLETE",
    severities: ["warning"],
    meaning:
      "A GPU pod lacks one of the settings a confidential GPU needs: the cdi.k8s.io/gpu annotation, the default_memory annotation, an nvidia.com/ resource limit or NVIDIA_VISIBLE_DEVICES=all.",
    hint: "Add cdi.k8s.io/gpu: nvidia.com/pgpu=<index>, io.katacontainers.config.hypervisor.default_memory, the nvidia.com/<GPU> limit and NVIDIA_VISIBLE_DEVICES=all.",
  },
  {
    code: "KUBE_GPU_INCONSISTENT",
    severities: ["warning"],
    meaning:
      "A GPU pod's settings disagree: the number of devices in cdi.k8s.io/gpu and the nvidia.com/ limits differ, or a value is malformed.",
    hint: "Name as many nvidia.com/pgpu=<index> devices as the containers' nvidia.com/ limits add up to.",
  },
] as const satisfies readonly FindingCodeInfo[];

export type KubeFindingCode = (typeof KUBE_FINDING_CODES)[number]["code"];
