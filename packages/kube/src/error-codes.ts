import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/kube reports. @contrast/policy reports the same failures under its
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
] as const satisfies readonly ErrorCodeInfo[];

export type KubeErrorCode = (typeof KUBE_ERROR_CODES)[number]["code"];
