import { readFile } from "node:fs/promises";
import {
  ConfigMapStore,
  FileSystemStore,
  type HistoryStore,
  inClusterCoreV1Api,
  KubernetesPeerSource,
  kubeconfigCoreV1Api,
  type PeerSource,
} from "@contrast/coordinator";
import type { Clock, Logger } from "@contrast/core";
import type { CoordinatorConfig } from "./config.js";
import { ServerError } from "./error.js";

export interface OpenedStore {
  readonly store: HistoryStore;
  /** The other Coordinators of the deployment (Kubernetes only): for peer recovery. */
  readonly peers: PeerSource | undefined;
}

/**
 * The history store the configuration names: the state directory (default), or ConfigMaps in
 * the namespace through the pod's in-cluster access (or a kubeconfig), with peer discovery.
 */
export async function openStore(
  config: CoordinatorConfig,
  deps: { readonly clock: Clock; readonly log: Logger; readonly env: Readonly<Record<string, string | undefined>> },
): Promise<OpenedStore> {
  const s = config.store;
  if (s.kind === "fs") {
    return {
      store: await FileSystemStore.open({ stateDir: s.stateDir, clock: deps.clock, log: deps.log }),
      peers: undefined,
    };
  }
  let api: Awaited<ReturnType<typeof inClusterCoreV1Api>>;
  if (s.kubeconfig !== undefined) {
    api = await kubeconfigCoreV1Api(await readFile(s.kubeconfig, "utf8"));
  } else {
    const host = deps.env.KUBERNETES_SERVICE_HOST;
    const port = deps.env.KUBERNETES_SERVICE_PORT;
    if (host === undefined || host === "" || port === undefined || port === "") {
      throw new ServerError(
        "SERVER_CONFIG_INVALID",
        "store configmap outside a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set",
        { hint: "Run in the cluster with a service account, or pass --kubeconfig." },
      );
    }
    api = await inClusterCoreV1Api({ host, port });
  }
  const store = new ConfigMapStore({ api, namespace: s.namespace, log: deps.log });
  const peers =
    s.podName === undefined
      ? undefined
      : new KubernetesPeerSource({ api, namespace: s.namespace, selfName: s.podName });
  if (peers === undefined) deps.log.warn("no pod name (--pod-name or HOSTNAME): peer recovery is off");
  return { store, peers };
}
