import { describe, expect, it } from "vitest";
import {
  AgentPolicy,
  applyJsonPatch,
  DEFAULT_SETTINGS,
  generatePolicies,
  honestRequestsForYaml,
} from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const DIGEST = "sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const POD = `
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  runtimeClassName: contrast-cc
  securityContext:
    runAsUser: 1000
    runAsGroup: 1000
  volumes:
    - name: config
      configMap:
        name: web-config
    - name: scratch
      emptyDir: {}
  containers:
    - name: app
      image: registry.k8s.io/pause:3.6@${DIGEST}
      command: ["/pause", "--serve"]
      env:
        - name: MODE
          value: production
        - name: POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
      livenessProbe:
        exec:
          command: ["/pause", "--check"]
      volumeMounts:
        - name: config
          mountPath: /etc/web
          readOnly: true
        - name: scratch
          mountPath: /scratch
`;

describe.each([
  ["guest pull", true],
  ["host-pulled layers", false],
])("honest requests (%s)", (_mode, guestPull) => {
  it("are allowed by the generated policy", async () => {
    const settings = applyJsonPatch(DEFAULT_SETTINGS, [
      { op: "replace", path: "/cluster_config/guest_pull", value: guestPull },
    ]);
    const images = fixtureImages();
    const generated = await generatePolicies(POD, { images, settings });
    const [w] = generated.workloads;
    const [built] = await honestRequestsForYaml(POD, { images, settings });
    const agent = new AgentPolicy(w?.policy ?? "");
    const decisions = agent.decideAll(built?.stream.requests ?? []);
    const denied = decisions
      .filter((d) => !d.allowed)
      .map((d) => ({ r: d.request, why: d.reasons?.map((x) => x.message) }));
    expect(denied).toEqual([]);
    expect(decisions.map((d) => d.request)).toEqual([
      "CreateSandboxRequest",
      "CreateContainerRequest",
      "StartContainerRequest",
      "CreateContainerRequest",
      "StartContainerRequest",
      "ExecProcessRequest",
    ]);
  });
});

const IMAGE = `registry.k8s.io/pause:3.6@${DIGEST}`;
const spec = (indent: string) =>
  ["runtimeClassName: contrast-cc", "containers:", "  - name: app", `    image: ${IMAGE}`]
    .map((l) => `${indent}${l}`)
    .join("\n");
const template = (kind: string, apiVersion: string, name: string) =>
  `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  template:\n    spec:\n${spec("      ")}\n`;
/** Every workload kind, as in generate.test.ts: each gets the sandbox name its controller would give. */
const ALL_KINDS = [
  `apiVersion: v1\nkind: Pod\nmetadata: {name: p1}\nspec:\n${spec("  ")}\n`,
  template("Deployment", "apps/v1", "d1"),
  template("StatefulSet", "apps/v1", "s1"),
  template("DaemonSet", "apps/v1", "ds1"),
  template("ReplicaSet", "apps/v1", "rs1"),
  template("ReplicationController", "v1", "rc1"),
  template("Job", "batch/v1", "j1"),
  `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c1}\nspec:\n  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n${spec("          ")}\n`,
  `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: in-list}\n    spec:\n${spec("      ")}\n`,
].join("---\n");

describe("honest requests of every workload kind", () => {
  it("are allowed by each workload's policy, with the pod names controllers give", async () => {
    const images = fixtureImages();
    const generated = await generatePolicies(ALL_KINDS, { images });
    const built = await honestRequestsForYaml(ALL_KINDS, { images });
    expect(built.map((b) => b.stream.identity.sandboxName)).toEqual([
      "p1",
      "d1-5d8f9c7b6d-x7k2p",
      "s1-0",
      "ds1-x7k2p",
      "rs1-x7k2p",
      "rc1-x7k2p",
      "j1-x7k2p",
      "c1-28934400-x7k2p",
      "in-list",
    ]);
    expect(generated.workloads.length).toBe(built.length);
    for (const [i, b] of built.entries()) {
      const agent = new AgentPolicy(generated.workloads[i]?.policy ?? "");
      const denied = agent.decideAll(b.stream.requests).filter((d) => !d.allowed);
      expect(denied.map((d) => d.reasons?.map((r) => r.message))).toEqual([]);
    }
  });
});

describe("honest requests of a StatefulSet with volumeClaimTemplates", () => {
  it("mount each claim like a persistentVolumeClaim volume", async () => {
    const yaml = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: db
          image: registry.k8s.io/pause:3.6@${DIGEST}
          volumeMounts: [{name: data, mountPath: /var/lib/db}]
`;
    const [built] = await honestRequestsForYaml(yaml, { images: fixtureImages() });
    const create = built?.stream.requests[built.stream.containers[1]?.create ?? -1]?.input as {
      OCI: { Mounts: { destination: string; source: string; type_: string; options: string[] }[] };
    };
    const mount = create.OCI.Mounts.find((m) => m.destination === "/var/lib/db");
    expect(mount).toMatchObject({ type_: "bind", options: ["rbind", "rprivate", "rw"] });
    expect(mount?.source).toMatch(/^\/run\/kata-containers\/shared\/containers\/[0-9a-f]{64}-[0-9a-f]{16}-db$/);
    expect(built?.stream.identity.sandboxName).toBe("db-0");
  });
});

describe("honest request inputs", () => {
  it("take image metadata from a source or a map alike, and the identity as parameters", async () => {
    const source = fixtureImages();
    const refs = [`registry.k8s.io/pause:3.6@${DIGEST}`, "mcr.microsoft.com/oss/kubernetes/pause:3.6"];
    const map = new Map(await Promise.all(refs.map(async (r) => [r, await source.get(r)] as const)));
    const identity = { sandboxName: "web", namespace: "shop", podIp: "10.1.2.3", sandboxId: "e".repeat(64) };
    const [a] = await honestRequestsForYaml(POD, { images: source, identity });
    const [b] = await honestRequestsForYaml(POD, { images: map, identity });
    expect(b?.stream).toEqual(a?.stream);
    expect(a?.stream.identity).toMatchObject(identity);
    expect(JSON.stringify(a?.stream.requests)).toContain('"POD_IP=10.1.2.3"');
    expect(a?.stream.containers[0]?.containerId).toBe("e".repeat(64));
    await expect(honestRequestsForYaml(POD, { images: new Map(), identity })).rejects.toMatchObject({
      code: "POLICY_REQUESTS_UNBUILDABLE",
    });
  });
});

type MountReq = { destination: string; source: string; type_: string; options: string[] };
/** The honest app container's create request of a one-container pod, and its policy's verdict. */
async function appCreate(podSpec: string) {
  const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: host, namespace: shop}\nspec:\n  runtimeClassName: contrast-cc\n${podSpec}`;
  const images = fixtureImages();
  const generated = await generatePolicies(yaml, { images });
  const [built] = await honestRequestsForYaml(yaml, { images });
  const requests = built?.stream.requests ?? [];
  const create = requests[built?.stream.containers[1]?.create ?? -1]?.input as { OCI: { Mounts: MountReq[] } };
  const agent = new AgentPolicy(generated.workloads[0]?.policy ?? "");
  const denied = agent
    .decideAll(requests)
    .filter((d) => !d.allowed)
    .map((d) => d.reasons?.map((r) => r.message));
  const data = (generated.workloads[0]?.policyData ?? { containers: [] }) as unknown as {
    containers: { OCI: { Mounts: MountReq[] } }[];
  };
  const policyMounts = data.containers[1]?.OCI.Mounts;
  return { mounts: create.OCI.Mounts, denied, policyMounts };
}
const at = (mounts: readonly MountReq[] | undefined, dest: string) =>
  (mounts ?? []).filter((m) => m.destination === dest);

describe("honest requests: what containerd and the Kata runtime send for special mounts", () => {
  it("mount hostname and resolv.conf read-only in a container with a read-only root, /etc/hosts writable", async () => {
    const { mounts, denied } = await appCreate(
      `  containers:\n    - name: app\n      image: ${IMAGE}\n      securityContext: {readOnlyRootFilesystem: true}\n`,
    );
    expect(denied).toEqual([]);
    expect(at(mounts, "/etc/hostname")[0]?.options).toEqual(["rbind", "rprivate", "ro"]);
    expect(at(mounts, "/etc/resolv.conf")[0]?.options).toEqual(["rbind", "rprivate", "ro"]);
    expect(at(mounts, "/etc/hosts")[0]?.options).toEqual(["rbind", "rprivate", "rw"]);
    const writable = await appCreate(`  containers:\n    - name: app\n      image: ${IMAGE}\n`);
    expect(at(writable.mounts, "/etc/hostname")[0]?.options).toEqual(["rbind", "rprivate", "rw"]);
  });

  it("pass device host paths through as themselves, not as shared files", async () => {
    const { mounts, denied, policyMounts } = await appCreate(
      [
        "  volumes: [{name: kmsg, hostPath: {path: /dev/kmsg}}, {name: tun, hostPath: {path: /dev/net/tun, type: CharDevice}}]",
        "  containers:",
        "    - name: app",
        `      image: ${IMAGE}`,
        "      volumeMounts: [{name: kmsg, mountPath: /dev/kmsg}, {name: tun, mountPath: /dev/net/tun}]",
        "",
      ].join("\n"),
    );
    expect(denied).toEqual([]);
    expect(at(mounts, "/dev/kmsg")).toEqual([
      { destination: "/dev/kmsg", source: "/dev/kmsg", type_: "bind", options: ["rbind", "rprivate", "rw"] },
    ]);
    expect(at(mounts, "/dev/net/tun")[0]?.source).toBe("/dev/net/tun");
    expect(at(policyMounts, "/dev/kmsg")[0]?.source).toBe("/dev/kmsg");
  });

  it("replace containerd's /dev (and the default mounts under it) with a hostPath /dev", async () => {
    const { mounts, denied, policyMounts } = await appCreate(
      [
        "  volumes: [{name: dev, hostPath: {path: /dev}}]",
        "  containers:",
        "    - name: app",
        `      image: ${IMAGE}`,
        "      volumeMounts: [{name: dev, mountPath: /dev}]",
        "",
      ].join("\n"),
    );
    expect(denied).toEqual([]);
    expect(at(mounts, "/dev")).toEqual([
      { destination: "/dev", source: "/dev", type_: "bind", options: ["rbind", "rprivate", "rw"] },
    ]);
    expect(at(mounts, "/dev/pts")).toEqual([]);
    expect(at(mounts, "/dev/mqueue")).toEqual([]);
    // The sandbox's /dev/shm is a mount the kubelet supplies, not a default: it stays.
    expect(at(mounts, "/dev/shm")).toHaveLength(1);
    // genpolicy's Path::starts_with("/dev/") holds for /dev itself: the policy binds the guest's /dev.
    expect(at(policyMounts, "/dev")).toEqual([
      { destination: "/dev", source: "/dev", type_: "bind", options: ["rbind", "rprivate", "rw"] },
    ]);
  });

  it("replace the cgroup mount with a hostPath /sys/fs/cgroup, once", async () => {
    const { mounts, denied, policyMounts } = await appCreate(
      [
        "  volumes: [{name: cg, hostPath: {path: /sys/fs/cgroup}}]",
        "  containers:",
        "    - name: app",
        `      image: ${IMAGE}`,
        "      volumeMounts: [{name: cg, mountPath: /sys/fs/cgroup, readOnly: true}]",
        "",
      ].join("\n"),
    );
    expect(denied).toEqual([]);
    const want = [
      { destination: "/sys/fs/cgroup", source: "/sys/fs/cgroup", type_: "bind", options: ["rbind", "rprivate", "ro"] },
    ];
    expect(at(mounts, "/sys/fs/cgroup")).toEqual(want);
    expect(at(policyMounts, "/sys/fs/cgroup")).toEqual(want);
  });
});
