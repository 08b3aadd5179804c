import { bytesEqual, type Logger, noopLogger } from "@contrast/core";
import type { CoreV1Api, V1ConfigMap, V1OwnerReference } from "@kubernetes/client-node";
import { CoordinatorError } from "../errors.js";
import { kubeFailure, timeoutOptions } from "../peers/kube-api.js";
import { checkKey } from "./memory-store.js";
import type { HistoryStore } from "./store.js";

export interface ConfigMapStoreOptions {
  /** A core/v1 client (`await inClusterCoreV1Api(...)`). */
  readonly api: CoreV1Api;
  /** The namespace the Coordinator runs in; its service account needs get/create/update on ConfigMaps there. */
  readonly namespace: string;
  /** Per API call; default 10 s as upstream. */
  readonly requestTimeoutMs?: number;
  /** Set on created ConfigMaps, e.g. the Coordinator's StatefulSet, so they are deleted with it. Default none. */
  readonly ownerReferences?: readonly V1OwnerReference[];
  readonly log?: Logger;
}

/** Labels upstream's ConfigMap store puts on its objects (name/component from `ContrastLabels("kvstore", "coordinator")`). */
export const CONFIGMAP_STORE_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "kvstore",
  "app.kubernetes.io/component": "coordinator",
  "app.kubernetes.io/managed-by": "contrast.edgeless.systems",
};

const DEFAULT_TIMEOUT_MS = 10_000;
/** `set` retries a lost race this often before giving up; every retry means another writer progressed. */
const SET_ATTEMPTS = 10;

/**
 * The owner references for the store's ConfigMaps as newer upstream sets them: the StatefulSet
 * that owns the Coordinator's own pod (`podName` is `HOSTNAME`), so deleting the deployment
 * deletes its history. Empty when the pod has no StatefulSet owner (a bare pod, a test).
 */
export async function statefulSetOwnerOf(
  api: CoreV1Api,
  namespace: string,
  podName: string,
  requestTimeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<V1OwnerReference[]> {
  try {
    const pod = await api.readNamespacedPod({ name: podName, namespace }, await timeoutOptions(requestTimeoutMs));
    return (pod.metadata?.ownerReferences ?? [])
      .filter((o) => o.kind === "StatefulSet")
      .map((o) => ({ apiVersion: o.apiVersion || "apps/v1", kind: o.kind, name: o.name, uid: o.uid }));
  } catch (err) {
    const f = kubeFailure(err);
    throw new CoordinatorError(
      "HISTORY_STORE_KUBE_API",
      `reading the Coordinator's own pod ${podName} failed${f === undefined ? "" : `: ${f.status} ${f.reason}`.trimEnd()}`,
      { cause: err, details: { namespace, pod: podName } },
    );
  }
}

/** `contrast-store-<key with "/" replaced by "-">`, as upstream's ConfigMap store names its objects. */
export function configMapName(key: string): string {
  return `contrast-store-${key.replace("/", "-")}`;
}

/**
 * A HistoryStore on Kubernetes ConfigMaps, in the layout of upstream's (newer, HA) ConfigMap
 * store: key `<kind>/<name>` lives in ConfigMap `contrast-store-<kind>-<name>` as
 * `binaryData[<name>]`. Atomicity comes from the API server: compareAndSwap updates with the
 * resourceVersion it read (a concurrent writer makes the update fail with 409 Conflict) and
 * creates with POST (a concurrent creator gets 409 AlreadyExists), so any number of Coordinators
 * in the namespace get one winner per swap.
 */
export class ConfigMapStore implements HistoryStore {
  readonly #api: CoreV1Api;
  readonly #namespace: string;
  readonly #timeoutMs: number;
  readonly #owners: readonly V1OwnerReference[] | undefined;
  readonly #log: Logger;

  constructor(options: ConfigMapStoreOptions) {
    this.#api = options.api;
    this.#namespace = options.namespace;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#owners = options.ownerReferences;
    this.#log = options.log ?? noopLogger;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const { name, entry } = this.#names(key);
    const cm = await this.#read(name, key);
    const b64 = cm?.binaryData?.[entry];
    return b64 === undefined ? undefined : new Uint8Array(Buffer.from(b64, "base64"));
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const { name, entry } = this.#names(key);
    for (let attempt = 0; attempt < SET_ATTEMPTS; attempt++) {
      const cm = await this.#read(name, key);
      const done =
        cm === undefined ? await this.#create(name, entry, value, key) : await this.#replace(cm, entry, value, key);
      if (done) return;
      this.#log.debug("history set lost a race, retrying", { key, attempt });
    }
    throw new CoordinatorError("HISTORY_STORE_KUBE_API", `writing history entry ${key} kept conflicting`, {
      hint: "Other writers update this ConfigMap continuously; check for a runaway Coordinator.",
      details: { configMap: name },
    });
  }

  async compareAndSwap(key: string, expected: Uint8Array | undefined, next: Uint8Array): Promise<boolean> {
    const { name, entry } = this.#names(key);
    const cm = await this.#read(name, key);
    if (cm === undefined) {
      return expected === undefined ? this.#create(name, entry, next, key) : false;
    }
    const b64 = cm.binaryData?.[entry];
    const current = b64 === undefined ? undefined : new Uint8Array(Buffer.from(b64, "base64"));
    const same =
      current === undefined ? expected === undefined : expected !== undefined && bytesEqual(current, expected);
    if (!same) return false;
    return this.#replace(cm, entry, next, key);
  }

  #names(key: string): { name: string; entry: string } {
    checkKey(key);
    // ConfigMap names are lower-case DNS subdomains; the store grammar allows upper case.
    if (key !== key.toLowerCase()) {
      throw new CoordinatorError("HISTORY_KEY_INVALID", `history key ${JSON.stringify(key)} is not lower case`, {
        hint: "The ConfigMap store needs lower-case keys (ConfigMap names are DNS subdomains).",
      });
    }
    return { name: configMapName(key), entry: key.split("/")[1] as string };
  }

  async #read(name: string, key: string): Promise<V1ConfigMap | undefined> {
    try {
      return await this.#api.readNamespacedConfigMap({ name, namespace: this.#namespace }, await this.#opts());
    } catch (err) {
      if (kubeFailure(err)?.status === 404) return undefined;
      throw this.#failure("reading", key, name, err);
    }
  }

  /** POST: false when the object exists (another writer created it first). */
  async #create(name: string, entry: string, value: Uint8Array, key: string): Promise<boolean> {
    const body: V1ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: this.#namespace,
        labels: { ...CONFIGMAP_STORE_LABELS },
        ...(this.#owners === undefined ? {} : { ownerReferences: [...this.#owners] }),
      },
      binaryData: { [entry]: Buffer.from(value).toString("base64") },
    };
    try {
      await this.#api.createNamespacedConfigMap({ namespace: this.#namespace, body }, await this.#opts());
      return true;
    } catch (err) {
      if (kubeFailure(err)?.status === 409) return false;
      throw this.#failure("creating", key, name, err);
    }
  }

  /** PUT with the resourceVersion read: false when another writer changed or deleted the object since. */
  async #replace(cm: V1ConfigMap, entry: string, value: Uint8Array, key: string): Promise<boolean> {
    const name = cm.metadata?.name ?? "";
    if (cm.metadata?.resourceVersion === undefined) {
      // Without it the update would be unconditional and could overwrite a concurrent swap.
      throw new CoordinatorError("HISTORY_STORE_KUBE_API", `ConfigMap ${name} came back without a resourceVersion`);
    }
    const body: V1ConfigMap = {
      ...cm,
      binaryData: { ...cm.binaryData, [entry]: Buffer.from(value).toString("base64") },
    };
    try {
      await this.#api.replaceNamespacedConfigMap({ name, namespace: this.#namespace, body }, await this.#opts());
      return true;
    } catch (err) {
      const status = kubeFailure(err)?.status;
      if (status === 409 || status === 404) return false;
      throw this.#failure("updating", key, name, err);
    }
  }

  #opts() {
    return timeoutOptions(this.#timeoutMs);
  }

  #failure(what: string, key: string, name: string, err: unknown): CoordinatorError {
    const f = kubeFailure(err);
    const why = f === undefined ? String((err as Error)?.message ?? err) : `${f.status} ${f.reason}`.trim();
    return new CoordinatorError("HISTORY_STORE_KUBE_API", `${what} ConfigMap ${name} for ${key} failed: ${why}`, {
      cause: err,
      details: {
        configMap: name,
        namespace: this.#namespace,
        ...(f === undefined ? {} : { status: f.status, reason: f.reason, message: f.message }),
      },
      ...(f?.status === 422 ? { hint: "The value is too large for a ConfigMap (1 MiB) or the name is invalid." } : {}),
    });
  }
}
