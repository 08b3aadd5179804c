import { CONTRAST_ANNOTATIONS } from "./annotations.js";
import { KubeError } from "./errors.js";
import { applyImageReplacements } from "./image-replacements.js";
import { parseAdminPort } from "./mesh-config.js";
import { mutate, podTargets, sameJson } from "./mutations.js";
import { isContrastRuntimeClass } from "./runtime-class.js";
import { isRecord, type JsonRecord, type PodTemplate, runtimeClassName } from "./workloads.js";
import { pathKeys, type YamlDocument, type YamlEdit } from "./yaml.js";

/**
 * What `contrast generate` adds to a workload (reference §2.2.1-2.2.3), as pure mutations on one
 * document. Each is idempotent: its second application finds nothing to change and returns the
 * document it was given, so running generate twice gives the same bytes.
 */

export const INITIALIZER_NAME = "contrast-initializer";
export const SERVICE_MESH_NAME = "contrast-service-mesh";
export const SECRETS_VOLUME = "contrast-secrets";
export const SECRETS_MOUNT_PATH = "/contrast";

export { AKS_RUNTIME_CLASS, isContrastRuntimeClass, RUNTIME_CLASS_PLACEHOLDER } from "./runtime-class.js";

export interface InitializerOptions {
  /** The initializer image, e.g. ghcr.io/edgelesssys/contrast/initializer:v1.5.1@sha256:... */
  readonly image: string;
  /** The Coordinator's service name, given to the initializer as COORDINATOR_HOST. */
  readonly coordinatorHost?: string;
  /**
   * True when no pod gets the service-mesh sidecar (generate's --skip-service-mesh). Otherwise a
   * pod gets it exactly when its object carries a mesh annotation, as in `injectServiceMesh`.
   */
  readonly withoutServiceMesh?: boolean;
}

/**
 * Tells the initializer that no sidecar will lift the pod VM's default-deny rule, so it must
 * (upstream sets it on every pod without a mesh annotation). Any non-empty value counts.
 */
export const SERVICE_MESH_DISABLED_ENV = "CONTRAST_SERVICE_MESH_DISABLED";

export interface ServiceMeshOptions {
  /** The service-mesh proxy image. */
  readonly image: string;
}

const SECRETS_MOUNT = { name: SECRETS_VOLUME, mountPath: SECRETS_MOUNT_PATH } as const;

/** The initializer container, as injected. */
export function initializerContainer(options: InitializerOptions, serviceMesh = true): JsonRecord {
  checkImage(options.image, "initializer");
  const env: JsonRecord[] = [{ name: "COORDINATOR_HOST", value: options.coordinatorHost ?? "coordinator" }];
  if (!serviceMesh) env.push({ name: SERVICE_MESH_DISABLED_ENV, value: "true" });
  return {
    name: INITIALIZER_NAME,
    image: options.image,
    env,
    resources: { requests: { memory: "50Mi" } },
    volumeMounts: [{ ...SECRETS_MOUNT }],
  };
}

/**
 * The service-mesh sidecar for a workload with these annotations (each undefined when absent).
 * Throws KUBE_MESH_ADMIN_PORT_INVALID for an admin port that is not a port number.
 */
export function serviceMeshContainer(
  options: ServiceMeshOptions,
  annotations: { readonly ingress?: string; readonly egress?: string; readonly adminPort?: string },
): JsonRecord {
  checkImage(options.image, "service mesh");
  const env: JsonRecord[] = [];
  const ports: JsonRecord[] = [];
  const admin = annotations.adminPort ?? "";
  if (admin !== "") {
    const port = parseAdminPort(admin);
    if (port === undefined) {
      throw new KubeError(
        "KUBE_MESH_ADMIN_PORT_INVALID",
        `${CONTRAST_ANNOTATIONS.meshAdminPort}: ${JSON.stringify(admin)} is not a port number (1-65535)`,
        {
          path: `metadata.annotations.${CONTRAST_ANNOTATIONS.meshAdminPort}`,
          hint: "Set the annotation to a decimal port between 1 and 65535, as a quoted string.",
        },
      );
    }
    // The proxy reads the admin port from its environment; the named port lets a Service or a
    // Prometheus scrape config refer to it.
    env.push({ name: "CONTRAST_ADMIN_PORT", value: admin });
    ports.push({ name: "contrast-admin", containerPort: port });
  }
  if ((annotations.ingress ?? "") !== "")
    env.push({ name: "CONTRAST_INGRESS_PROXY_CONFIG", value: annotations.ingress });
  if ((annotations.egress ?? "") !== "") env.push({ name: "CONTRAST_EGRESS_PROXY_CONFIG", value: annotations.egress });
  return {
    name: SERVICE_MESH_NAME,
    image: options.image,
    args: ["-l", "debug"],
    ...(env.length > 0 ? { env } : {}),
    ...(ports.length > 0 ? { ports } : {}),
    restartPolicy: "Always",
    securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } },
    startupProbe: {
      exec: { command: ["test", "-f", "/ready"] },
      initialDelaySeconds: 1,
      periodSeconds: 5,
      failureThreshold: 5,
    },
    volumeMounts: [{ ...SECRETS_MOUNT }],
  };
}

/**
 * Injects the initializer (§2.2.1) into every Contrast pod of the document: the first init
 * container `contrast-initializer`, the `contrast-secrets` emptyDir, and its mount at /contrast in
 * every (regular) container. Skipped for objects annotated
 * `contrast.edgeless.systems/skip-initializer: "true"` and for the Coordinator (pod-role
 * coordinator), which gets its secrets itself. Throws KUBE_SECRETS_VOLUME_CONFLICT when a
 * `contrast-secrets` volume of another type exists.
 */
export function injectInitializer(doc: YamlDocument, options: InitializerOptions): YamlDocument {
  const withMesh = initializerContainer(options, true);
  const withoutMesh = initializerContainer(options, false);
  return mutate(doc, (root) =>
    podTargets(root, {}).map((t) => {
      if (!isContrastPod(t)) return [];
      if (annotation(t.objectMetadata, CONTRAST_ANNOTATIONS.skipInitializer) === "true") return [];
      if (isCoordinator(t)) return [];
      const container = options.withoutServiceMesh !== true && hasMeshAnnotation(t) ? withMesh : withoutMesh;
      const base = specKeys(t);
      return [
        ...placeInitContainer(t, base, container, "first"),
        ...ensureSecretsVolume(t, base),
        ...mountSecretsInContainers(t, base),
      ];
    }),
  );
}

/**
 * Injects the service-mesh sidecar (§2.2.2) into every Contrast pod whose object carries at least
 * one of the `servicemesh-ingress`, `servicemesh-egress`, `servicemesh-admin-interface-port`
 * annotations (present counts, even empty): the last init container `contrast-service-mesh`,
 * a native sidecar configured from those annotations. The Coordinator (pod-role coordinator) is
 * skipped. The ingress and egress values are passed through as they are: check them first with
 * `validateMeshAnnotations`.
 */
export function injectServiceMesh(doc: YamlDocument, options: ServiceMeshOptions): YamlDocument {
  checkImage(options.image, "service mesh");
  return mutate(doc, (root) =>
    podTargets(root, {}).map((t) => {
      if (!isContrastPod(t) || isCoordinator(t)) return [];
      if (!hasMeshAnnotation(t)) return [];
      const meta = t.objectMetadata;
      const ingress = annotation(meta, CONTRAST_ANNOTATIONS.meshIngress);
      const egress = annotation(meta, CONTRAST_ANNOTATIONS.meshEgress);
      const adminPort = annotation(meta, CONTRAST_ANNOTATIONS.meshAdminPort);
      const container = serviceMeshContainer(options, {
        ...(ingress === undefined ? {} : { ingress }),
        ...(egress === undefined ? {} : { egress }),
        ...(adminPort === undefined ? {} : { adminPort }),
      });
      const base = specKeys(t);
      return [...placeInitContainer(t, base, container, "last"), ...ensureSecretsVolume(t, base)];
    }),
  );
}

/**
 * Sets the runtime class of every pod spec whose class is `contrast-cc*` or `kata-cc-isolation`
 * to the platform's versioned handler (`runtimeHandler` of @contrast/manifest; taken as a
 * parameter, because kube does not depend on manifest).
 */
export function rewriteRuntimeClass(doc: YamlDocument, handler: string): YamlDocument {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(handler) || handler.length > 253) {
    throw new KubeError(
      "KUBE_MUTATION_INVALID",
      `runtime handler ${JSON.stringify(handler)} is not a valid object name`,
      {
        path: "spec.runtimeClassName",
        hint: "Pass the platform's runtime handler, e.g. contrast-cc-metal-qemu-snp-1a2b3c4d.",
      },
    );
  }
  return mutate(doc, (root) =>
    podTargets(root, {}).map((t) => {
      const current = runtimeClassName(t.spec);
      if (current === "" || current === handler || !isContrastRuntimeClass(current)) return [];
      return [{ path: [...specKeys(t), "runtimeClassName"], value: handler }];
    }),
  );
}

/** Presence counts, even empty (reference §2.2.2). */
function hasMeshAnnotation(t: PodTemplate): boolean {
  const meta = t.objectMetadata;
  return (
    annotation(meta, CONTRAST_ANNOTATIONS.meshIngress) !== undefined ||
    annotation(meta, CONTRAST_ANNOTATIONS.meshEgress) !== undefined ||
    annotation(meta, CONTRAST_ANNOTATIONS.meshAdminPort) !== undefined
  );
}

function isContrastPod(t: PodTemplate): boolean {
  return isContrastRuntimeClass(runtimeClassName(t.spec));
}

function isCoordinator(t: PodTemplate): boolean {
  return (
    annotation(t.podMetadata, CONTRAST_ANNOTATIONS.podRole) === "coordinator" ||
    annotation(t.objectMetadata, CONTRAST_ANNOTATIONS.podRole) === "coordinator"
  );
}

function annotation(meta: JsonRecord, key: string): string | undefined {
  const annotations = meta.annotations;
  if (!isRecord(annotations) || !Object.hasOwn(annotations, key)) return undefined;
  const v = annotations[key];
  if (typeof v !== "string") {
    throw new KubeError(
      "KUBE_OBJECT_INVALID",
      `annotation ${key} must be a string, not ${v === null ? "null" : typeof v}`,
      {
        path: `metadata.annotations.${key}`,
        hint: "Quote the annotation's value: Kubernetes annotations are strings.",
      },
    );
  }
  return v;
}

function specKeys(t: PodTemplate): (string | number)[] {
  return pathKeys(`${t.itemPath}${t.specPath}`);
}

function listAt(spec: JsonRecord, key: string, where: readonly (string | number)[]): unknown[] {
  const v = spec[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    throw new KubeError("KUBE_OBJECT_INVALID", `${[...where, key].join(".")} must be a list`, {
      path: [...where, key].join("."),
      hint: "Check the object against its Kubernetes schema at the path shown.",
    });
  }
  return v;
}

/**
 * Puts `container` first or last among the init containers. Others of that name are removed first,
 * as upstream does; a single one already in place is replaced only when it differs.
 */
function placeInitContainer(
  t: PodTemplate,
  base: (string | number)[],
  container: JsonRecord,
  position: "first" | "last",
): YamlEdit[] {
  const list = listAt(t.spec, "initContainers", base);
  const listPath = [...base, "initContainers"];
  const existing = indexesNamed(list, container.name);
  const target = position === "first" ? 0 : list.length - 1;
  if (existing.length === 1 && existing[0] === target) {
    return sameJson(list[target], container) ? [] : [{ path: [...listPath, target], value: container }];
  }
  return [
    ...removals(listPath, existing),
    { path: [...listPath, position === "first" ? 0 : list.length - existing.length], value: container, insert: true },
  ];
}

function indexesNamed(list: readonly unknown[], name: unknown): number[] {
  return list.flatMap((c, i) => (isRecord(c) && c.name === name ? [i] : []));
}

/** Removal edits for these indexes, last first, so that each index is still right when applied. */
function removals(listPath: readonly (string | number)[], indexes: readonly number[]): YamlEdit[] {
  return [...indexes].reverse().map((i) => ({ path: [...listPath, i], value: "", remove: true }));
}

function ensureSecretsVolume(t: PodTemplate, base: (string | number)[]): YamlEdit[] {
  const volumes = listAt(t.spec, "volumes", base);
  const existing = volumes.find((v) => isRecord(v) && v.name === SECRETS_VOLUME);
  if (existing !== undefined) {
    if (!isRecord(existing) || !isRecord(existing.emptyDir)) {
      throw new KubeError(
        "KUBE_SECRETS_VOLUME_CONFLICT",
        `${t.kind} ${t.name || t.generateName || ""}: volume ${SECRETS_VOLUME} has to be of type emptyDir`,
        {
          path: [...base, "volumes"].join("."),
          hint: "Rename your volume: contrast-secrets is the emptyDir the initializer and the service mesh write to.",
        },
      );
    }
    return [];
  }
  return [{ path: [...base, "volumes", volumes.length], value: { name: SECRETS_VOLUME, emptyDir: {} }, insert: true }];
}

function mountSecretsInContainers(t: PodTemplate, base: (string | number)[]): YamlEdit[] {
  const containers = listAt(t.spec, "containers", base);
  return containers.flatMap((c, i) => {
    if (!isRecord(c)) return [];
    const where = [...base, "containers", i];
    const mounts = listAt(c, "volumeMounts", where);
    const existing = mounts.findIndex((m) => isRecord(m) && m.name === SECRETS_VOLUME);
    if (existing >= 0) {
      return sameJson(mounts[existing], SECRETS_MOUNT)
        ? []
        : [{ path: [...where, "volumeMounts", existing], value: { ...SECRETS_MOUNT } }];
    }
    return [{ path: [...where, "volumeMounts", mounts.length], value: { ...SECRETS_MOUNT }, insert: true }];
  });
}

function checkImage(image: string, what: string): void {
  if (typeof image !== "string" || image === "" || /\s/.test(image)) {
    throw new KubeError(
      "KUBE_MUTATION_INVALID",
      `the ${what} image ${JSON.stringify(image)} is not an image reference`,
      {
        path: "image",
        hint: "Pass an image reference such as ghcr.io/edgelesssys/contrast/initializer:v1.5.1@sha256:....",
      },
    );
  }
}

export interface PatchOptions {
  /** Inject the initializer with these options; undefined: skip (`--skip-initializer`). */
  readonly initializer?: InitializerOptions;
  /** Inject the service mesh with these options; undefined: skip (`--skip-service-mesh`). */
  readonly serviceMesh?: ServiceMeshOptions;
  readonly imageReplacements?: ReadonlyMap<string, string>;
  /** The platform's versioned runtime handler; undefined: keep runtime classes as they are. */
  readonly runtimeHandler?: string;
}

/**
 * Everything generate does to one document, in upstream's order (§2.2 step 6): initializer,
 * service mesh, image replacements (which therefore reach the injected containers too), runtime
 * class. Idempotent like each of its steps.
 */
export function patchWorkload(doc: YamlDocument, options: PatchOptions): YamlDocument {
  let d = doc;
  if (options.initializer !== undefined) {
    d = injectInitializer(d, {
      ...options.initializer,
      ...(options.serviceMesh === undefined ? { withoutServiceMesh: true } : {}),
    });
  }
  if (options.serviceMesh !== undefined) d = injectServiceMesh(d, options.serviceMesh);
  if (options.imageReplacements !== undefined) d = applyImageReplacements(d, options.imageReplacements);
  if (options.runtimeHandler !== undefined) d = rewriteRuntimeClass(d, options.runtimeHandler);
  return d;
}
