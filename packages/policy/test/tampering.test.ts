import { describe, expect, it } from "vitest";
import { applyJsonPatch, DEFAULT_SETTINGS, type GeneratedWorkload, generatePolicies } from "../src/index.js";
import { createContainerRequest, FakeAgent } from "./fixtures/agent.js";
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
      volumeMounts:
        - name: config
          mountPath: /etc/web
          readOnly: true
`;

// biome-ignore lint/suspicious/noExplicitAny: requests are tampered with field by field
type Req = Record<string, any>;

async function setUp(
  guestPull: boolean,
): Promise<{ w: GeneratedWorkload; agent: () => FakeAgent; request: () => Req }> {
  const settings = applyJsonPatch(DEFAULT_SETTINGS, [
    { op: "replace", path: "/cluster_config/guest_pull", value: guestPull },
  ]);
  const result = await generatePolicies(POD, { images: fixtureImages(), settings });
  const w = result.workloads[0];
  if (w === undefined) throw new Error("no workload");
  const opts = { sandboxName: "web", namespace: "shop" };
  const agent = () => {
    const a = new FakeAgent(w.policy);
    // The sandbox comes first: it records the sandbox name, namespace and network namespace.
    expect(
      a.ask("CreateContainerRequest", createContainerRequest(w.policyData, 0, { ...opts, bundleId: "b".repeat(64) })),
    ).toBe(true);
    return a;
  };
  const request = () => createContainerRequest(w.policyData, 1, { ...opts, bundleId: "c".repeat(64) });
  return { w, agent, request };
}

describe.each([
  ["guest pull", true],
  ["host-pulled layers", false],
])("tampering with a request built from the policy (%s)", (_mode, guestPull) => {
  it("allows the request as generated", async () => {
    const { agent, request } = await setUp(guestPull);
    expect(agent().ask("CreateContainerRequest", request())).toBe(true);
  });

  const tamper: [string, (r: Req) => void][] = [
    ["an env var's value", (r) => (r.OCI.Process.Env[1] = "MODE=debug")],
    ["an added env var", (r) => r.OCI.Process.Env.push("LD_PRELOAD=/usr/lib/x.so")],
    ["an argument", (r) => (r.OCI.Process.Args[1] = "--shell")],
    ["an extra argument", (r) => r.OCI.Process.Args.push("--debug")],
    ["the user", (r) => (r.OCI.Process.User.UID = 0)],
    ["the working directory", (r) => (r.OCI.Process.Cwd = "/tmp")],
    ["a mount made writable", (r) => (r.OCI.Mounts.find((m: Req) => m.destination === "/etc/web").options[2] = "rw")],
    ["a mount moved", (r) => (r.OCI.Mounts.find((m: Req) => m.destination === "/etc/web").destination = "/etc/ssl")],
    [
      "an extra mount",
      (r) => r.OCI.Mounts.push({ destination: "/host", source: "/", type_: "bind", options: ["rbind", "rw"] }),
    ],
    ["an added capability", (r) => r.OCI.Process.Capabilities.Bounding.push("CAP_SYS_ADMIN")],
    [
      "privileged",
      (r) => {
        for (const set of ["Bounding", "Effective", "Permitted"]) {
          r.OCI.Process.Capabilities[set] = [...r.OCI.Process.Capabilities[set], "CAP_SYS_ADMIN", "CAP_SYS_MODULE"];
        }
        r.OCI.Linux.MaskedPaths = [];
        r.OCI.Linux.ReadonlyPaths = [];
      },
    ],
    ["a read-write root", (r) => (r.OCI.Root.Readonly = !r.OCI.Root.Readonly)],
    [
      "a container name the pod does not have",
      (r) => (r.OCI.Annotations["io.kubernetes.cri.container-name"] = "sidecar"),
    ],
    ["another namespace", (r) => (r.OCI.Annotations["io.kubernetes.cri.sandbox-namespace"] = "default")],
    ["a sysctl", (r) => (r.OCI.Linux.Sysctl["kernel.shm_rmid_forced"] = "1")],
    ["an unknown annotation", (r) => (r.OCI.Annotations["io.katacontainers.config.hypervisor.kernel_params"] = "x")],
  ];
  if (guestPull) {
    tamper.push([
      "the image digest",
      (r) => {
        const s = r.storages.find((x: Req) => x.driver === "image_guest_pull");
        s.source = s.source.replace(/@sha256:.*/, `@sha256:${"0".repeat(64)}`);
      },
    ]);
  } else {
    tamper.push([
      "a layer's verity hash",
      (r) => {
        const s = r.storages.find((x: Req) => x.fstype === "tar");
        s.options = s.options.map((o: string) => o.replace(/root-hash=[0-9a-f]+/, `root-hash=${"0".repeat(64)}`));
      },
    ]);
    tamper.push(["a missing layer", (r) => r.storages.splice(0, 1)]);
  }

  it.each(tamper)("denies %s", async (_what, change) => {
    const { agent, request } = await setUp(guestPull);
    const r = request();
    change(r);
    expect(agent().ask("CreateContainerRequest", r)).toBe(false);
  });

  it("denies a second container that the pod does not have", async () => {
    const { agent, request } = await setUp(guestPull);
    const a = agent();
    expect(a.ask("CreateContainerRequest", request())).toBe(true);
    const extra = request();
    extra.container_id = "d".repeat(64);
    extra.OCI.Annotations["io.kubernetes.cri.container-name"] = "extra";
    expect(a.ask("CreateContainerRequest", extra)).toBe(false);
  });

  it("denies exec of commands the pod did not declare, and exec into a removed container", async () => {
    const { agent, request } = await setUp(guestPull);
    const a = agent();
    const r = request();
    expect(a.ask("CreateContainerRequest", r)).toBe(true);
    const exec = {
      container_id: r.container_id,
      exec_id: "e",
      string_user: null,
      process: { ...r.OCI.Process, Args: ["/bin/sh"], Capabilities: null },
    };
    expect(a.ask("ExecProcessRequest", exec)).toBe(false);
    expect(a.ask("RemoveContainerRequest", { container_id: r.container_id })).toBe(true);
  });
});
