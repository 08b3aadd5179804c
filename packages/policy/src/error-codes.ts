import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/policy reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const POLICY_ERROR_CODES = [
  {
    code: "POLICY_YAML_INVALID",
    kind: "input",
    meaning: "An input document is not valid YAML.",
    hint: "Fix the YAML syntax of this document.",
  },
  {
    code: "POLICY_OBJECT_INVALID",
    kind: "input",
    meaning: "A Kubernetes object in the input is not of the expected shape.",
    hint: "Check the object against its Kubernetes schema at the path shown.",
  },
  {
    code: "POLICY_UNSUPPORTED_FIELD",
    kind: "input",
    meaning: "A workload uses a field the policy generator does not support.",
    hint: "Remove the field, or pass --allow-unsupported-fields (strict: false) to generate anyway with a warning.",
  },
  {
    code: "POLICY_FIELD_INVALID",
    kind: "input",
    meaning: "A field of a workload has a value the policy cannot allow.",
    hint: "Change the field at the path shown; the message says what is not allowed.",
  },
  {
    code: "POLICY_POD_NAME_MISSING",
    kind: "input",
    meaning: "A bare pod has neither metadata.name nor metadata.generateName.",
    hint: "Set metadata.name (or metadata.generateName) of the pod.",
  },
  {
    code: "POLICY_CONFIG_REF_MISSING",
    kind: "input",
    meaning: "A workload refers to a ConfigMap or Secret that is not among the inputs.",
    hint: "Pass the file that defines it together with the workload, or mark the reference optional.",
  },
  {
    code: "POLICY_ENV_UNSUPPORTED",
    kind: "input",
    meaning: "An environment variable refers to a field or source the generator cannot resolve.",
    hint: "Supported fieldRef paths: metadata.name/namespace/uid/labels['k']/annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP/podIP/podIPs.",
  },
  {
    code: "POLICY_VOLUME_MISSING",
    kind: "input",
    meaning: "A volumeMount names no volume of the pod.",
    hint: "Add the volume to the pod's volumes (or, in a StatefulSet, a volumeClaimTemplate), or fix the volumeMount's name.",
  },
  {
    code: "POLICY_VOLUME_UNSUPPORTED",
    kind: "input",
    meaning: "A volume has a type the generator does not support.",
    hint: "Supported volumes: emptyDir, configMap, secret, projected, downwardAPI, hostPath, persistentVolumeClaim, azureFile, ephemeral, image.",
  },
  {
    code: "POLICY_IMAGE_METADATA",
    kind: "io",
    meaning: "The metadata of an image (config, layers) could not be obtained.",
    hint: "Check the image reference and that its registry is reachable, or provide image metadata.",
  },
  {
    code: "POLICY_IMAGE_REFERENCE_INVALID",
    kind: "input",
    meaning: "A container's image reference cannot be parsed.",
    hint: "Write references as [registry/]repository[:tag][@sha256:<digest>]; substitute placeholders before generating policies.",
  },
  {
    code: "POLICY_SETTINGS_INVALID",
    kind: "input",
    meaning: "The genpolicy settings or a drop-in is not valid JSON of the expected shape.",
    hint: "The settings file and its drop-ins must be JSON documents.",
  },
  {
    code: "POLICY_SETTINGS_PATCH_FAILED",
    kind: "input",
    meaning: "A JSON Patch drop-in does not apply to the settings.",
    hint: "Fix the JSON Patch drop-in (RFC 6902): each operation needs op, path and value/from, and paths must exist.",
  },
  {
    code: "POLICY_RULES_INVALID",
    kind: "input",
    meaning: "The rules file is not usable Rego for the agent policy.",
    hint: "The Kata agent evaluates data.agent_policy.<Request>; start rules.rego with `package agent_policy`.",
  },
  {
    code: "POLICY_REQUEST_INVALID",
    kind: "input",
    meaning: "A request passed for checking is not a known agent request or not of its shape.",
    hint: "Request names are identifiers such as CreateContainerRequest.",
  },
  {
    code: "POLICY_REQUESTS_UNBUILDABLE",
    kind: "input",
    meaning: "The honest requests of a workload cannot be built because image metadata is missing.",
    hint: "Pass the metadata of every image of the pod (and of the settings' pause image).",
  },
  {
    code: "POLICY_ANNOTATION_MISSING",
    kind: "input",
    meaning: "A workload carries no policy annotation.",
    hint: "Run `contrast policy generate` first, or pass the .rego file itself.",
  },
  {
    code: "POLICY_ANNOTATION_INVALID",
    kind: "input",
    meaning: "A policy annotation is not base64 of UTF-8 text.",
    hint: "The annotation holds the policy's Rego text (or initdata) in standard base64; regenerate it.",
  },
  {
    code: "POLICY_NO_WORKLOAD",
    kind: "input",
    meaning: "No workload of the given name carries a policy.",
    hint: "Name one of the workloads with a policy in the file.",
  },
  {
    code: "POLICY_WORKLOAD_AMBIGUOUS",
    kind: "input",
    meaning: "Several workloads carry different policies and none was chosen.",
    hint: "Pass --workload <name>, or --honest to check every workload.",
  },
  {
    code: "POLICY_PLATFORM_UNKNOWN",
    kind: "input",
    meaning: "There is no policy profile for the platform.",
    hint: "Name a platform of docs/platform-profiles.md.",
  },
  {
    code: "POLICY_INITDATA_ENCODING",
    kind: "input",
    meaning: "An initdata document is not UTF-8 text (or its gzip/base64 wrapping is broken).",
    hint: "TOML documents are UTF-8; the agent refuses anything else.",
  },
  {
    code: "POLICY_INITDATA_TOO_LARGE",
    kind: "input",
    meaning: "An initdata document is larger than the limit when unpacked.",
    hint: "An initdata document holds a policy and a few config files; this one is too large to be one.",
  },
  {
    code: "POLICY_INITDATA_SYNTAX",
    kind: "input",
    meaning: "An initdata document is not TOML of the expected form.",
    hint: "An initdata document is TOML with string values only: version, algorithm and a [data] table of strings.",
  },
  {
    code: "POLICY_INITDATA_INVALID",
    kind: "input",
    meaning: "Extra initdata entries are invalid (for example, they include the policy).",
    hint: "The policy goes into policy.rego; pass only the other entries (aa.toml, cdh.toml, ...).",
  },
  {
    code: "POLICY_INITDATA_VERSION",
    kind: "input",
    meaning: "The initdata version is not supported.",
    hint: "Kata and Contrast read initdata version 0.1.0 only.",
  },
  {
    code: "POLICY_INITDATA_ALGORITHM",
    kind: "input",
    meaning: "The initdata digest algorithm is not supported.",
    hint: "Use sha256, sha384 or sha512, spelled exactly so.",
  },
  {
    code: "POLICY_INITDATA_NO_POLICY",
    kind: "input",
    meaning: "An initdata document has no policy.rego entry.",
    hint: 'Put the policy in [data] "policy.rego"; without it the pod runs with the guest\'s default policy.',
  },
  {
    code: "POLICY_ANNOTATION_CONFLICT",
    kind: "input",
    meaning: "A workload carries both the agent-policy and the initdata annotation.",
    hint: "Keep one: regenerate the workload's policy, which writes only the annotation of its platform.",
  },
  {
    code: "POLICY_REGO_DIALECT",
    kind: "policy",
    meaning: "The rules use a built-in or keyword the target platform's agent lacks.",
    hint: 'A call the agent lacks makes it deny the request; rewrite the rule (docs/rego.md, "Dialects").',
  },
] as const satisfies readonly ErrorCodeInfo[];

export type PolicyErrorCode = (typeof POLICY_ERROR_CODES)[number]["code"];
