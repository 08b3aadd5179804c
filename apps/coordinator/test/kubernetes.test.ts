import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeApiDouble } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ecKey, loadSim, setManifestRequest, userClient } from "../bench/client.mjs";
import { type RunningCoordinator, startCoordinator } from "../bench/process.mjs";

// No Kubernetes API server runs here: the ConfigMap store and peer discovery talk to the in-repo
// double (real REST paths and JSON over HTTPS), through a real kubeconfig.
const tmp = mkdtempSync(join(tmpdir(), "coordinator-kube-"));
let api: KubeApiDouble;
const running: RunningCoordinator[] = [];
beforeAll(async () => {
  api = await KubeApiDouble.start();
  writeFileSync(join(tmp, "kubeconfig"), api.kubeconfig("contrast"));
});
afterAll(async () => {
  for (const c of running) c.proc.kill("SIGKILL");
  await api?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("two Coordinator pods on ConfigMaps", () => {
  it("keep the history in ConfigMaps, and the second recovers from the first as its peer", async () => {
    // Each pod has its own loopback address; the mesh API port is the same for both, as in a StatefulSet.
    const meshPort = String(20_000 + Math.floor(Math.random() * 20_000));
    const labels = { "app.kubernetes.io/name": "coordinator", "contrast.edgeless.systems/pod-role": "coordinator" };
    api.putPod("contrast", { name: "coordinator-0", ip: "127.0.0.2", labels });
    api.putPod("contrast", { name: "coordinator-1", ip: "127.0.0.3", labels });
    const common = (ip: string, pod: string) => [
      "--platform",
      "sim",
      "--sim-dir",
      join(tmp, "sim"),
      "--store",
      "configmap",
      "--namespace",
      "contrast",
      "--kubeconfig",
      join(tmp, "kubeconfig"),
      "--pod-name",
      pod,
      "--host",
      ip,
      "--mesh-api-port",
      meshPort,
      "--peer-recovery-interval",
      "0.5",
    ];
    const a = await startCoordinator(common("127.0.0.2", "coordinator-0"));
    running.push(a);
    const b = await startCoordinator(common("127.0.0.3", "coordinator-1"));
    running.push(b);
    const authority = await loadSim(join(tmp, "sim"));
    const owner = ecKey("P-384");
    const ua = userClient(a.userApiPort, authority, owner, "127.0.0.2");
    const ub = userClient(b.userApiPort, authority, owner, "127.0.0.3");
    try {
      await ua.setManifest(setManifestRequest({ authority, workloads: { web: {} }, owners: [owner] }));
      expect(api.configMapNames("contrast").some((n) => n.startsWith("contrast-store-"))).toBe(true);
      // B finds the history, finds A as a ready peer, attests to it and gets the seed and mesh CA key.
      await b.waitForLog("recovered from a peer", 30_000);
      expect((await b.probe("/probe/readiness")).status).toBe(200);
      const [fromA, fromB] = await Promise.all([ua.getManifests({}), ub.getManifests({})]);
      // Peer recovery keeps the mesh CA key, so certificates A issued stay valid under B.
      const key = (pem: Uint8Array) =>
        new X509Certificate(Buffer.from(pem)).publicKey.export({ type: "spki", format: "der" });
      expect(key(fromB.MeshCA)).toEqual(key(fromA.MeshCA));
      expect(key(fromB.RootCA)).toEqual(key(fromA.RootCA));
      expect(fromB.Manifests.map((m) => Buffer.from(m))).toEqual(fromA.Manifests.map((m) => Buffer.from(m)));
    } finally {
      ua.close();
      ub.close();
    }
  }, 120_000);
});
