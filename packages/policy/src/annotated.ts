import { decodePolicyAnnotation, POLICY_ANNOTATION } from "./document.js";
import { PolicyError } from "./errors.js";
import { isRecord } from "./kube/workloads.js";
import { parseYamlDocuments } from "./kube/yaml.js";

/** The policy one workload of a YAML file carries in its pod (template) annotations. */
export interface AnnotatedPolicy {
  /** "Kind/name", as `policy generate` and `policy check --honest` name workloads. */
  readonly workload: string;
  /** The workload's metadata.name ("" when it only has generateName). */
  readonly name: string;
  /** The Rego text. */
  readonly policy: string;
}

/**
 * Every workload of a YAML text that carries an agent policy, in document order. Only the
 * annotation's place is read (a Pod's metadata, a template's, a CronJob's job template's), so a
 * trimmed-down YAML that keeps just the annotation still works.
 */
export function annotatedPolicies(yamlText: string, source = "input"): AnnotatedPolicy[] {
  const out: AnnotatedPolicy[] = [];
  const visit = (doc: unknown) => {
    if (!isRecord(doc)) return;
    if (doc.kind === "List" && Array.isArray(doc.items)) {
      for (const item of doc.items) visit(item);
      return;
    }
    const kind = typeof doc.kind === "string" ? doc.kind : "?";
    const meta = isRecord(doc.metadata) ? doc.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : "";
    const generateName = typeof meta.generateName === "string" ? meta.generateName : "";
    const annotations = podMetadataOf(doc)?.annotations;
    const value = isRecord(annotations) ? annotations[POLICY_ANNOTATION] : undefined;
    if (typeof value !== "string") return;
    const workload = `${kind}/${name || generateName || "?"}`;
    let policy: string;
    try {
      policy = decodePolicyAnnotation(value);
    } catch (e) {
      throw new PolicyError(
        "POLICY_ANNOTATION_INVALID",
        `${source}: ${workload}: the policy annotation is not base64 of UTF-8 text`,
        { cause: e, hint: `${POLICY_ANNOTATION} holds the policy's Rego text in standard base64.` },
      );
    }
    out.push({ workload, name, policy });
  };
  for (const doc of parseYamlDocuments(yamlText, source)) visit(doc.value);
  return out;
}

/** Where a workload's pods get their annotations from. */
function podMetadataOf(doc: Record<string, unknown>): Record<string, unknown> | undefined {
  const at = (v: unknown, ...keys: string[]): unknown =>
    keys.reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), v);
  const meta =
    doc.kind === "Pod"
      ? doc.metadata
      : doc.kind === "CronJob"
        ? at(doc, "spec", "jobTemplate", "spec", "template", "metadata")
        : at(doc, "spec", "template", "metadata");
  return isRecord(meta) ? meta : undefined;
}

/**
 * The policy that decides a workload's requests. A file whose workloads carry different policies
 * needs `workload` (its metadata.name): guessing would check requests against a policy the user
 * did not mean.
 */
export function selectAnnotatedPolicy(yamlText: string, source: string, workload?: string): AnnotatedPolicy {
  const found = annotatedPolicies(yamlText, source);
  if (found.length === 0) {
    throw new PolicyError("POLICY_ANNOTATION_MISSING", `${source}: no ${POLICY_ANNOTATION} annotation found`, {
      hint: "Run `contrast generate` first, or pass the .rego file itself.",
    });
  }
  const names = found.map((f) => f.name || f.workload).join(", ");
  if (workload !== undefined) {
    const chosen = found.find((f) => f.name === workload);
    if (chosen === undefined) {
      throw new PolicyError("POLICY_NO_WORKLOAD", `${source}: no workload named ${workload} has a policy`, {
        hint: `Workloads with a policy in this file: ${names}.`,
      });
    }
    return chosen;
  }
  if (new Set(found.map((f) => f.policy)).size > 1) {
    throw new PolicyError(
      "POLICY_WORKLOAD_AMBIGUOUS",
      `${source}: ${found.length} workloads carry different policies; which one should decide?`,
      { hint: `Pass --workload <name> (one of: ${names}), or --honest to check every workload.` },
    );
  }
  return found[0] as AnnotatedPolicy;
}
