import { expectCodeAsync, KubeApiDouble, type PodSpecForDouble } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COORDINATOR_POD_SELECTOR, KubernetesPeerSource, kubeconfigCoreV1Api } from "../src/index.js";

let kube: KubeApiDouble;
beforeAll(async () => {
  kube = await KubeApiDouble.start();
});
afterAll(async () => {
  await kube.close();
});

let nsCounter = 0;
const self = "coordinator-0";

/** A Coordinator pod as upstream's StatefulSet makes it: the name label and the pod-role annotation. */
const coordinatorPod = (name: string, ip: string, extra: Partial<PodSpecForDouble> = {}): PodSpecForDouble => ({
  name,
  ip,
  labels: { "app.kubernetes.io/name": "coordinator" },
  annotations: { "contrast.edgeless.systems/pod-role": "coordinator" },
  ...extra,
});

async function peersIn(pods: PodSpecForDouble[]): Promise<{ source: KubernetesPeerSource; namespace: string }> {
  const namespace = `peers-${++nsCounter}`;
  for (const p of pods) kube.putPod(namespace, p);
  const source = new KubernetesPeerSource({
    api: await kubeconfigCoreV1Api(kube.kubeconfig(namespace)),
    namespace,
    selfName: self,
  });
  return { source, namespace };
}

describe("KubernetesPeerSource", () => {
  // The cases of upstream's peer discovery test, plus the ones its filter implies.
  it("finds nothing without pods, and nothing when only itself runs", async () => {
    expect(await (await peersIn([])).source.listPeers()).toEqual([]);
    expect(await (await peersIn([coordinatorPod(self, "1.2.3.4")])).source.listPeers()).toEqual([]);
  });

  it("lists the other ready Coordinators by name and pod IP, asking the API server with upstream's selector", async () => {
    const { source, namespace } = await peersIn([
      coordinatorPod(self, "1.2.3.4"),
      coordinatorPod("coordinator-2", "9.10.11.12"),
      coordinatorPod("coordinator-1", "5.6.7.8"),
    ]);
    expect(await source.listPeers()).toEqual([
      { name: "coordinator-1", ip: "5.6.7.8" },
      { name: "coordinator-2", ip: "9.10.11.12" },
    ]);
    expect(kube.requests).toContain(
      `GET /api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(COORDINATOR_POD_SELECTOR)}`,
    );
  });

  it("skips peers that are not ready, have no IP yet, lack the coordinator role or are other apps", async () => {
    const { source } = await peersIn([
      coordinatorPod(self, "1.2.3.4"),
      coordinatorPod("coordinator-1", "5.6.7.8", { ready: false }),
      coordinatorPod("coordinator-2", "5.6.7.9", { ip: undefined }),
      coordinatorPod("coordinator-3", "5.6.7.10", { annotations: { "contrast.edgeless.systems/pod-role": "worker" } }),
      coordinatorPod("coordinator-4", "5.6.7.11", { annotations: {} }),
      {
        name: "web-0",
        ip: "5.6.7.12",
        labels: { "app.kubernetes.io/name": "web" },
        annotations: { "contrast.edgeless.systems/pod-role": "coordinator" },
      },
    ]);
    expect(await source.listPeers()).toEqual([]);
  });

  it("accepts the role as a label (newer upstream deployments)", async () => {
    const { source } = await peersIn([
      coordinatorPod("coordinator-1", "5.6.7.8", {
        annotations: {},
        labels: { "app.kubernetes.io/name": "coordinator", "contrast.edgeless.systems/pod-role": "coordinator" },
      }),
    ]);
    expect(await source.listPeers()).toEqual([{ name: "coordinator-1", ip: "5.6.7.8" }]);
  });

  it("reports a refused listing as COORDINATOR_PEER_DISCOVERY_FAILED", async () => {
    const { source, namespace } = await peersIn([coordinatorPod("coordinator-1", "5.6.7.8")]);
    kube.failNext("GET", `/api/v1/namespaces/${namespace}/pods`, 403, "Forbidden");
    await expectCodeAsync(() => source.listPeers(), "COORDINATOR_PEER_DISCOVERY_FAILED", "io");
    expect(await source.listPeers()).toHaveLength(1);
  });
});
