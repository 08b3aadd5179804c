import { isRecord, podMetadataOf } from "@contrast/kube";
import { decodePolicyAnnotation, POLICY_ANNOTATION } from "./document.js";
import { PolicyError } from "./errors.js";
import { decodeInitdataAnnotation, INITDATA_ANNOTATION, type InitdataDocument, initdataPolicy } from "./initdata.js";
import { parseYamlDocuments } from "./kube-input.js";
import type { AnnotationFormat } from "./profiles/types.js";

/** The policy one workload of a YAML file carries in its pod (template) annotations. */
export interface AnnotatedPolicy {
  /** "Kind/name", as `policy generate` and `policy check --honest` name workloads. */
  readonly workload: string;
  /** The workload's metadata.name ("" when it only has generateName). */
  readonly name: string;
  /** The Rego text. */
  readonly policy: string;
  /** Which annotation carried it. */
  readonly annotation: AnnotationFormat;
  /** The initdata document, when the policy came in initdata. */
  readonly initdata?: InitdataDocument;
}

/**
 * Every workload of a YAML text that carries an agent policy, in document order, from either
 * annotation: the agent-policy one (base64 Rego) or initdata (the policy is its policy.rego). Only the
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
    const workload = `${kind}/${name || generateName || "?"}`;
    const found = policyOfAnnotations(podMetadataOf(doc)?.annotations, `${source}: ${workload}`);
    if (found !== undefined) out.push({ workload, name, ...found });
  };
  for (const doc of parseYamlDocuments(yamlText, source)) visit(doc.value);
  return out;
}

/** The policy a pod's annotations carry, from either annotation; undefined when there is none. */
export function policyOfAnnotations(
  annotations: unknown,
  where: string,
): Pick<AnnotatedPolicy, "policy" | "annotation" | "initdata"> | undefined {
  const value = isRecord(annotations) ? annotations[POLICY_ANNOTATION] : undefined;
  const initdataValue = isRecord(annotations) ? annotations[INITDATA_ANNOTATION] : undefined;
  if (typeof value === "string" && typeof initdataValue === "string") {
    // The agent takes initdata's policy at boot and the shim then sends the other one with
    // SetPolicy; which one holds depends on the first one's SetPolicyRequest rule.
    throw new PolicyError(
      "POLICY_ANNOTATION_CONFLICT",
      `${where}: carries both ${POLICY_ANNOTATION} and ${INITDATA_ANNOTATION}`,
      {
        hint: "Keep one: regenerate the workload's policy, which writes only the annotation of its platform.",
      },
    );
  }
  if (typeof initdataValue === "string") {
    const initdata = decodeInitdataAnnotation(initdataValue, { source: where });
    return { policy: initdataPolicy(initdata, where), annotation: "initdata", initdata };
  }
  if (typeof value !== "string") return undefined;
  try {
    return { policy: decodePolicyAnnotation(value), annotation: "agent-policy" };
  } catch (e) {
    throw new PolicyError("POLICY_ANNOTATION_INVALID", `${where}: the policy annotation is not base64 of UTF-8 text`, {
      cause: e,
      hint: `${POLICY_ANNOTATION} holds the policy's Rego text in standard base64.`,
    });
  }
}

/**
 * The policy that decides a workload's requests. A file whose workloads carry different policies
 * needs `workload` (its metadata.name): guessing would check requests against a policy the user
 * did not mean.
 */
export function selectAnnotatedPolicy(yamlText: string, source: string, workload?: string): AnnotatedPolicy {
  const found = annotatedPolicies(yamlText, source);
  if (found.length === 0) {
    throw new PolicyError(
      "POLICY_ANNOTATION_MISSING",
      `${source}: no ${POLICY_ANNOTATION} or ${INITDATA_ANNOTATION} annotation found`,
      {
        hint: "Run `contrast policy generate` first, or pass the .rego file itself.",
      },
    );
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
