import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";
import { CoordinatorError } from "../errors.js";
import { kubeFailure, timeoutOptions } from "./kube-api.js";

/** Upstream's selector for Coordinator pods (the StatefulSet's pod label). */
export const COORDINATOR_POD_SELECTOR = "app.kubernetes.io/name=coordinator";
/** Marks a pod that may act as Coordinator: an annotation in v1.5-era deployments, a label in newer ones. */
export const POD_ROLE_KEY = "contrast.edgeless.systems/pod-role";
export const COORDINATOR_ROLE = "coordinator";

export interface KubernetesPeerSourceOptions {
  readonly api: CoreV1Api;
  readonly namespace: string;
  /** This Coordinator's pod name (the app passes `HOSTNAME`), never listed as its own peer. */
  readonly selfName: string;
  readonly labelSelector?: string;
  readonly requestTimeoutMs?: number;
}

/** A ready peer Coordinator pod. */
export interface KubernetesPeer {
  readonly name: string;
  readonly ip: string;
}

/**
 * Finds the other Coordinators of the deployment as upstream's peer discovery does: pods in the
 * namespace with `app.kubernetes.io/name=coordinator`, whose pod-role (annotation or label) is
 * `coordinator`, that are not this pod, have an IP and have condition Ready=True.
 */
export class KubernetesPeerSource {
  readonly #options: KubernetesPeerSourceOptions;

  constructor(options: KubernetesPeerSourceOptions) {
    this.#options = options;
  }

  async listPeers(): Promise<readonly KubernetesPeer[]> {
    const { api, namespace, selfName } = this.#options;
    let pods: V1Pod[];
    try {
      const list = await api.listNamespacedPod(
        { namespace, labelSelector: this.#options.labelSelector ?? COORDINATOR_POD_SELECTOR },
        await timeoutOptions(this.#options.requestTimeoutMs ?? 10_000),
      );
      pods = list.items;
    } catch (err) {
      const f = kubeFailure(err);
      throw new CoordinatorError(
        "COORDINATOR_PEER_DISCOVERY_FAILED",
        `listing Coordinator pods in ${namespace} failed: ${f === undefined ? String((err as Error)?.message ?? err) : `${f.status} ${f.reason}`.trim()}`,
        { cause: err, details: { namespace, ...(f === undefined ? {} : { status: f.status, reason: f.reason }) } },
      );
    }
    const peers: KubernetesPeer[] = [];
    for (const pod of pods) {
      const name = pod.metadata?.name;
      const ip = pod.status?.podIP;
      if (name === undefined || name === selfName || ip === undefined || ip === "") continue;
      if (!isCoordinatorRole(pod) || !isReady(pod)) continue;
      peers.push({ name, ip });
    }
    return peers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function isCoordinatorRole(pod: V1Pod): boolean {
  return (
    pod.metadata?.annotations?.[POD_ROLE_KEY] === COORDINATOR_ROLE ||
    pod.metadata?.labels?.[POD_ROLE_KEY] === COORDINATOR_ROLE
  );
}

function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}
