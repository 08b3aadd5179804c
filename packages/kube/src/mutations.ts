import { KubeError } from "./errors.js";
import {
  isRecord,
  type JsonRecord,
  type KubeObject,
  kubeObjects,
  type PodTemplate,
  podMetadataPath,
  podTemplates,
} from "./workloads.js";
import { pathKeys, type YamlDocument, type YamlEdit } from "./yaml.js";

/**
 * Mutations are pure: each takes a document and returns a document; the input is never changed.
 * A mutation records its edits next to the new value, so that `serializeYamlDocuments` rewrites
 * only the nodes it touched and keeps the document's comments and formatting. A mutation that
 * finds its change already made returns the document it was given, so applying it twice gives the
 * same bytes as applying it once, and a document that needs no change is written back verbatim.
 */

/** Which pod templates of a document a mutation applies to. */
export interface PodSelector {
  /** Only the workload with this metadata.name (or generateName); default: every workload. */
  readonly workload?: string;
}

export interface AnnotationOptions extends PodSelector {
  /**
   * "pod" (default): the pods' annotations (a Pod's own, a template's); "object": the object's own
   * metadata, for any kind (a Deployment's, a ConfigMap's).
   */
  readonly scope?: "pod" | "object";
}

export interface InitContainerOptions extends PodSelector {
  /**
   * Where a container that is not there yet goes: "first" (default; it runs before the pod's own
   * init containers) or "last".
   */
  readonly position?: "first" | "last";
}

/** A container as Kubernetes takes it; `name` identifies it within the pod. */
export type ContainerSpec = { readonly name: string } & Readonly<Record<string, unknown>>;

/** Sets one annotation (metadata.annotations[key] = value) on the selected pods or objects. */
export function setAnnotation(
  doc: YamlDocument,
  key: string,
  value: string,
  options: AnnotationOptions = {},
): YamlDocument {
  if (key === "") throw invalid("an annotation key must not be empty", "metadata.annotations");
  if (options.scope === "object") {
    return mutate(doc, (root) =>
      objectTargets(root, options).map(({ object, path }) => {
        const annotations = at(object, ["metadata", "annotations"]);
        return annotations !== undefined && annotations[key] === value
          ? []
          : [{ path: [...path, "metadata", "annotations", key], value }];
      }),
    );
  }
  return mutate(doc, (root) =>
    podTargets(root, options).map((t) => {
      const annotations = isRecord(t.podMetadata.annotations) ? t.podMetadata.annotations : undefined;
      return annotations !== undefined && annotations[key] === value
        ? []
        : [{ path: [...pathKeys(podMetadataPath(t)), "annotations", key], value }];
    }),
  );
}

/** Removes one annotation from the selected pods or objects; absent already: unchanged. */
export function removeAnnotation(doc: YamlDocument, key: string, options: AnnotationOptions = {}): YamlDocument {
  if (options.scope === "object") {
    return mutate(doc, (root) =>
      objectTargets(root, options).map(({ object, path }) => {
        const annotations = at(object, ["metadata", "annotations"]);
        return annotations !== undefined && Object.hasOwn(annotations, key)
          ? [{ path: [...path, "metadata", "annotations", key], value: "", remove: true }]
          : [];
      }),
    );
  }
  return mutate(doc, (root) =>
    podTargets(root, options).map((t) =>
      isRecord(t.podMetadata.annotations) && Object.hasOwn(t.podMetadata.annotations, key)
        ? [{ path: [...pathKeys(podMetadataPath(t)), "annotations", key], value: "", remove: true }]
        : [],
    ),
  );
}

/** Sets spec.runtimeClassName of the selected pod templates. */
export function setRuntimeClass(doc: YamlDocument, name: string, options: PodSelector = {}): YamlDocument {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw invalid(`runtime class ${JSON.stringify(name)} is not a valid object name`, "spec.runtimeClassName");
  }
  return mutate(doc, (root) =>
    podTargets(root, options).map((t) =>
      t.spec.runtimeClassName === name
        ? []
        : [{ path: [...pathKeys(`${t.itemPath}${t.specPath}`), "runtimeClassName"], value: name }],
    ),
  );
}

/**
 * Adds an init container to the selected pod templates. A container of the same name is replaced
 * in place when it differs (a newer initializer, say) and left alone when it is the same.
 */
export function addInitContainer(
  doc: YamlDocument,
  container: ContainerSpec,
  options: InitContainerOptions = {},
): YamlDocument {
  checkContainer(container);
  const value = structuredClone(container);
  return mutate(doc, (root) =>
    podTargets(root, options).map((t) => {
      const listPath = [...pathKeys(`${t.itemPath}${t.specPath}`), "initContainers"];
      const list = t.spec.initContainers;
      if (list !== undefined && list !== null && !Array.isArray(list)) {
        throw invalid(`${listPath.join(".")} is not a list`, listPath.join("."));
      }
      const existing = (list ?? []).findIndex((c) => isRecord(c) && c.name === container.name);
      if (existing >= 0) {
        return sameJson((list ?? [])[existing], value) ? [] : [{ path: [...listPath, existing], value }];
      }
      const index = options.position === "last" ? (list ?? []).length : 0;
      return [{ path: [...listPath, index], value, insert: true }];
    }),
  );
}

/**
 * Adds a native sidecar (Kubernetes 1.29+): an init container with `restartPolicy: Always`, which
 * the kubelet starts before the pod's containers and keeps running beside them.
 */
export function addSidecar(
  doc: YamlDocument,
  container: ContainerSpec,
  options: InitContainerOptions = {},
): YamlDocument {
  return addInitContainer(doc, { ...container, restartPolicy: "Always" }, options);
}

/**
 * Runs `plan` on a copy of the document's value to find the edits, then applies them to another
 * copy, so that the new value holds exactly what the edits write (podTemplates fills in missing
 * metadata on the copy it reads, which the text would not have).
 */
export function mutate(doc: YamlDocument, plan: (root: unknown) => YamlEdit[][]): YamlDocument {
  if (doc.preamble === true || !isRecord(doc.value)) return doc;
  const edits = plan(structuredClone(doc.value)).flat();
  if (edits.length === 0) return doc;
  const value = structuredClone(doc.value);
  for (const e of edits) applyToValue(value, e);
  return { ...doc, value, edits: [...(doc.edits ?? []), ...edits] };
}

function applyToValue(root: JsonRecord, e: YamlEdit): void {
  const parentPath = e.path.slice(0, -1);
  const last = e.path[e.path.length - 1] as string | number;
  if (e.insert === true) {
    const list = getIn(root, parentPath);
    if (Array.isArray(list)) list.splice(last as number, 0, structuredClone(e.value));
    else setIn(root, parentPath, [structuredClone(e.value)]);
    return;
  }
  if (e.remove === true) {
    const parent = getIn(root, parentPath);
    if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
    else if (isRecord(parent)) delete parent[last as string];
    return;
  }
  setIn(root, e.path, structuredClone(e.value));
}

function getIn(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const k of path) {
    if (Array.isArray(node) && typeof k === "number") node = node[k];
    else if (isRecord(node) && typeof k === "string") node = node[k];
    else return undefined;
  }
  return node;
}

/** Sets the value at `path`, creating maps on the way as the `yaml` package's setIn does. */
function setIn(root: JsonRecord, path: readonly (string | number)[], value: unknown): void {
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const k = path[i] as string | number;
    // A key goes into a map, an index into a list; anything else is not the shape Kubernetes has.
    if (typeof k === "number" ? !Array.isArray(node) : !isRecord(node)) {
      const at = path.slice(0, i).join(".") || "(document)";
      throw new KubeError("KUBE_OBJECT_INVALID", `${at} must be ${typeof k === "number" ? "a list" : "an object"}`, {
        path: at,
        hint: "Check the object against its Kubernetes schema at the path shown.",
      });
    }
    const container = node as Record<string | number, unknown>;
    if (i === path.length - 1) {
      container[k] = value;
      return;
    }
    if (container[k] === undefined || container[k] === null) container[k] = {};
    node = container[k];
  }
}

export function podTargets(root: unknown, selector: PodSelector): PodTemplate[] {
  return podTemplates(root).filter(
    (t) => selector.workload === undefined || (t.name || t.generateName || "") === selector.workload,
  );
}

/** Every object of the document (the items of a List) with its key path. */
function objectTargets(root: unknown, selector: PodSelector): KubeObject[] {
  return kubeObjects(root).filter(({ object }) => {
    if (selector.workload === undefined) return true;
    const meta = isRecord(object.metadata) ? object.metadata : {};
    return (meta.name || meta.generateName || "") === selector.workload;
  });
}

function at(object: JsonRecord, keys: readonly string[]): JsonRecord | undefined {
  const v = getIn(object, keys);
  return isRecord(v) ? v : undefined;
}

function checkContainer(container: ContainerSpec): void {
  if (!isRecord(container) || typeof container.name !== "string" || container.name === "") {
    throw invalid("a container needs a name", "spec.initContainers");
  }
  // The value is written into YAML: only what JSON can hold round-trips.
  if (!isJson(container)) {
    throw invalid(`container ${container.name} holds values that are not JSON`, "spec.initContainers");
  }
}

function isJson(v: unknown): boolean {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJson);
  if (!isRecord(v) || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v).every(isJson);
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isRecord(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x,
  );
}

function invalid(message: string, path: string): KubeError {
  return new KubeError("KUBE_MUTATION_INVALID", message, {
    path,
    hint: "Pass a non-empty annotation key, a valid runtime class name, and containers with a name and JSON values.",
  });
}
