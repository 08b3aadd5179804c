import type { FieldProblem } from "@contrast/kube";
import {
  KubeError,
  podTemplates as kubePodTemplates,
  type PodTemplate,
  parseYamlDocuments as parseKubeYaml,
  type YamlDocument,
} from "@contrast/kube";
import { PolicyError } from "./errors.js";

/**
 * @contrast/kube reads the YAML; policy reports its failures under the codes users of
 * `contrast policy` have always matched on: KUBE_YAML_INVALID is POLICY_YAML_INVALID here and
 * KUBE_OBJECT_INVALID is POLICY_OBJECT_INVALID, with the same message, hint and path.
 */
function asPolicyError(e: unknown): unknown {
  if (!(e instanceof KubeError)) return e;
  const code = e.code === "KUBE_YAML_INVALID" ? "POLICY_YAML_INVALID" : "POLICY_OBJECT_INVALID";
  return new PolicyError(code, e.message, {
    hint: e.hint ?? "",
    ...(e.cause === undefined ? {} : { cause: e.cause }),
    ...(e.path === undefined ? {} : { path: e.path }),
  });
}

/** The documents of a multi-document YAML stream (see @contrast/kube), with policy's codes. */
export function parseYamlDocuments(text: string, source = "input"): YamlDocument[] {
  try {
    return parseKubeYaml(text, source);
  } catch (e) {
    throw asPolicyError(e);
  }
}

/** The pod templates of one parsed document (see @contrast/kube), with policy's codes. */
export function podTemplates(doc: unknown): PodTemplate[] {
  try {
    return kubePodTemplates(doc);
  } catch (e) {
    throw asPolicyError(e);
  }
}

/** The error strict mode raises for the first unknown field. */
export function unsupportedFieldError(where: string, problem: FieldProblem, file?: string): PolicyError {
  return new PolicyError("POLICY_UNSUPPORTED_FIELD", `${where}: ${problem.message}`, {
    path: problem.path,
    ...(file === undefined ? {} : { file }),
    hint: "Remove the field, or pass --allow-unsupported-fields (strict: false) to generate anyway with a warning.",
  });
}
