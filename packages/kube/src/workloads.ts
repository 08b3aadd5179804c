import { KubeError } from "./errors.js";

export type JsonRecord = Record<string, unknown>;

/** Kinds whose objects carry a pod spec, and so get a policy. */
export const WORKLOAD_KINDS = [
  "Pod",
  "Deployment",
  "ReplicaSet",
  "ReplicationController",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** A pod (or pod template) found in an object, with live references into the parsed value. */
export interface PodTemplate {
  readonly kind: WorkloadKind;
  readonly apiVersion: string;
  /** The workload's own name ("" when it only has generateName). */
  readonly name: string;
  readonly generateName: string | undefined;
  /** metadata.namespace of the workload, or undefined. */
  readonly namespace: string | undefined;
  /** The workload object's own metadata (annotations of a Deployment, not of its pods). */
  readonly objectMetadata: JsonRecord;
  /** The pod's metadata: the Pod's own, or the template's. Annotations are written here. */
  readonly podMetadata: JsonRecord;
  readonly spec: JsonRecord;
  /** Where the pod spec sits, for messages: e.g. "spec.template.spec". */
  readonly specPath: string;
  /** Index of the object inside a List ("items[3]."), or "" at top level. */
  readonly itemPath: string;
  /** A StatefulSet's volumeClaimTemplates names: each becomes a pod volume backed by a claim. */
  readonly claimTemplates: readonly string[];
}

export function isRecord(v: unknown): v is JsonRecord {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
  return typeof kind === "string" && (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/**
 * `v1/List` and the typed lists (`DeploymentList`, `PodList`, ...) that `kubectl get -o yaml`
 * writes: their items are objects of their own. An edited item stays inside its List.
 */
export function isListKind(kind: unknown): boolean {
  return typeof kind === "string" && /^(?:[A-Z][A-Za-z0-9]*)?List$/.test(kind);
}

/** One object of a document: the document itself, or an item of a List, with its key path. */
export interface KubeObject {
  readonly object: JsonRecord;
  /** Keys from the document's root to the object: [] at top level, ["items", 3] in a List. */
  readonly path: readonly (string | number)[];
}

/** The objects of one parsed document, Lists (nested ones too) unwrapped, in document order. */
export function kubeObjects(doc: unknown, path: readonly (string | number)[] = []): KubeObject[] {
  if (!isRecord(doc)) return [];
  if (isListKind(doc.kind) && Array.isArray(doc.items)) {
    return doc.items.flatMap((item, i) => kubeObjects(item, [...path, "items", i]));
  }
  return [{ object: doc, path }];
}

/** The pod templates of one parsed document (a List yields the templates of its items). */
export function podTemplates(doc: unknown, itemPath = ""): PodTemplate[] {
  if (!isRecord(doc)) return [];
  if (isListKind(doc.kind) && Array.isArray(doc.items)) {
    return doc.items.flatMap((item, i) => podTemplates(item, `${itemPath}items[${i}].`));
  }
  if (!isWorkloadKind(doc.kind)) return [];
  const kind = doc.kind;
  const where = `${kind}${itemPath === "" ? "" : ` (${itemPath.slice(0, -1)})`}`;
  const objectMetadata = ensureRecord(doc, "metadata", where);
  let template: JsonRecord;
  let specPath: string;
  if (kind === "Pod") {
    template = doc;
    specPath = "spec";
  } else if (kind === "CronJob") {
    const spec = required(doc, "spec", where);
    const jobTemplate = required(spec, "jobTemplate", where, "spec");
    const jobSpec = required(jobTemplate, "spec", where, "spec.jobTemplate");
    template = required(jobSpec, "template", where, "spec.jobTemplate.spec");
    specPath = "spec.jobTemplate.spec.template.spec";
  } else {
    template = required(required(doc, "spec", where), "template", where, "spec");
    specPath = "spec.template.spec";
  }
  const podMetadata = kind === "Pod" ? objectMetadata : ensureRecord(template, "metadata", where);
  const spec = required(template, "spec", where, specPath.replace(/\.?spec$/, ""));
  const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  return [
    {
      kind,
      apiVersion: str(doc.apiVersion) ?? "",
      name: str(objectMetadata.name) ?? "",
      generateName: str(objectMetadata.generateName),
      namespace: str(objectMetadata.namespace),
      objectMetadata,
      podMetadata,
      spec,
      specPath,
      itemPath,
      claimTemplates: kind === "StatefulSet" ? claimTemplateNames(doc, where) : [],
    },
  ];
}

function claimTemplateNames(doc: JsonRecord, where: string): string[] {
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const templates = spec.volumeClaimTemplates;
  if (templates === undefined || templates === null) return [];
  if (!Array.isArray(templates)) {
    throw new KubeError("KUBE_OBJECT_INVALID", `${where}: spec.volumeClaimTemplates must be a list`, {
      path: "spec.volumeClaimTemplates",
      hint: "Check the StatefulSet against the Kubernetes API.",
    });
  }
  return templates.map((t, i) => {
    const name = isRecord(t) && isRecord(t.metadata) ? t.metadata.name : undefined;
    if (typeof name !== "string" || name === "") {
      throw new KubeError("KUBE_OBJECT_INVALID", `${where}: spec.volumeClaimTemplates[${i}].metadata.name is missing`, {
        path: `spec.volumeClaimTemplates[${i}].metadata.name`,
        hint: "Every volumeClaimTemplate needs a name: pods mount it by that name.",
      });
    }
    return name;
  });
}

function required(obj: JsonRecord, key: string, where: string, parent?: string): JsonRecord {
  const v = obj[key];
  if (!isRecord(v)) {
    const path = parent === undefined || parent === "" ? key : `${parent}.${key}`;
    throw new KubeError("KUBE_OBJECT_INVALID", `${where}: ${path} is missing or not an object`, {
      path,
      hint: "Check the object against the Kubernetes API: a workload needs its pod template.",
    });
  }
  return v;
}

/** The object at obj[key], created when absent, so annotations can be written into it. */
function ensureRecord(obj: JsonRecord, key: string, where: string): JsonRecord {
  const v = obj[key];
  if (v === undefined || v === null) {
    const created: JsonRecord = {};
    obj[key] = created;
    return created;
  }
  if (!isRecord(v)) {
    throw new KubeError("KUBE_OBJECT_INVALID", `${where}: ${key} must be an object`, {
      path: key,
      hint: "Check the object against the Kubernetes API.",
    });
  }
  return v;
}

/** Where a template's pod metadata sits in its document, e.g. "items[0].spec.template.metadata". */
export function podMetadataPath(t: Pick<PodTemplate, "kind" | "itemPath" | "specPath">): string {
  return t.kind === "Pod" ? `${t.itemPath}metadata` : `${t.itemPath}${t.specPath.replace(/spec$/, "metadata")}`;
}

/**
 * The pod metadata of one object (a Pod's own, a template's, a CronJob's job template's), or
 * undefined. Unlike podTemplates it never throws: it looks only at the metadata's place, so a
 * trimmed-down object that keeps just its annotations is read too.
 */
export function podMetadataOf(object: JsonRecord): JsonRecord | undefined {
  const at = (v: unknown, ...keys: string[]): unknown =>
    keys.reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), v);
  const meta =
    object.kind === "Pod"
      ? object.metadata
      : object.kind === "CronJob"
        ? at(object, "spec", "jobTemplate", "spec", "template", "metadata")
        : at(object, "spec", "template", "metadata");
  return isRecord(meta) ? meta : undefined;
}

/** The runtime class of a pod spec, or "". */
export function runtimeClassName(spec: JsonRecord): string {
  return typeof spec.runtimeClassName === "string" ? spec.runtimeClassName : "";
}

/**
 * The qualified name that identifies a workload in the manifest, as Contrast writes it:
 * `<group or "core">/<version>/<Kind>/<namespace or "default">/<name>`.
 */
export function workloadId(t: Pick<PodTemplate, "apiVersion" | "kind" | "namespace" | "name">): string {
  const [group, version] = t.apiVersion.includes("/") ? t.apiVersion.split("/", 2) : ["core", t.apiVersion];
  return `${group}/${version}/${t.kind}/${t.namespace ?? "default"}/${t.name}`;
}
