import type { JsonValue } from "@contrast/core";
import { describe, expect, it } from "vitest";
import {
  type AgentDecision,
  AgentPolicy,
  applyJsonPatch,
  DEFAULT_SETTINGS,
  type GeneratedWorkload,
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

/** The agent of one sandbox; `ask` decides a request as the agent does and keeps its answer. */
class Agent {
  last: AgentDecision | undefined;
  constructor(readonly policy: AgentPolicy) {}
  ask(kind: string, input: unknown): boolean {
    this.last = this.policy.decide(kind, input as JsonValue);
    return this.last.allowed;
  }
  /** The reasons of the last denial, in words. */
  why(): string[] {
    return (this.last?.reasons ?? []).map((r) => r.message);
  }
}

async function setUp(guestPull: boolean): Promise<{ w: GeneratedWorkload; agent: () => Agent; request: () => Req }> {
  const settings = applyJsonPatch(DEFAULT_SETTINGS, [
    { op: "replace", path: "/cluster_config/guest_pull", value: guestPull },
  ]);
  const images = fixtureImages();
  const result = await generatePolicies(POD, { images, settings });
  const w = result.workloads[0];
  if (w === undefined) throw new Error("no workload");
  // What the runtime sends, built from the pod, the images and the settings (not the policy).
  const [built] = await honestRequestsForYaml(POD, { images, settings });
  if (built === undefined) throw new Error("no pod template");
  const { requests, containers } = built.stream;
  const app = requests[containers[1]?.create ?? -1]?.input as Req;
  const agent = () => {
    const a = new Agent(new AgentPolicy(w.policy));
    // The sandbox comes first: it records the sandbox name, namespace and network namespace.
    for (const r of requests.slice(0, containers[1]?.create))
      expect(a.ask(r.name, r.input), a.why().join("; ")).toBe(true);
    return a;
  };
  const request = () => structuredClone(app);
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

  const tamper: [string, (r: Req) => void, string][] = [
    [
      "an env var's value",
      (r) => (r.OCI.Process.Env[r.OCI.Process.Env.indexOf("MODE=production")] = "MODE=debug"),
      'env MODE: policy "production", request "debug"',
    ],
    [
      "an added env var",
      (r) => r.OCI.Process.Env.push("LD_PRELOAD=/usr/lib/x.so"),
      "env LD_PRELOAD=/usr/lib/x.so is not allowed",
    ],
    [
      "an argument",
      (r) => (r.OCI.Process.Args[1] = "--shell"),
      'args differ at index 1: policy "--serve", request "--shell"',
    ],
    ["an extra argument", (r) => r.OCI.Process.Args.push("--debug"), 'extra arg at index 2: "--debug"'],
    ["the user", (r) => (r.OCI.Process.User.UID = 0), "UID 0, policy 1000"],
    ["the working directory", (r) => (r.OCI.Process.Cwd = "/tmp"), 'working directory "/tmp", policy "/"'],
    [
      "a mount made writable",
      (r) => (r.OCI.Mounts.find((m: Req) => m.destination === "/etc/web").options[2] = "rw"),
      'mount /etc/web is writable ("rw")',
    ],
    [
      "a mount moved",
      (r) => (r.OCI.Mounts.find((m: Req) => m.destination === "/etc/web").destination = "/etc/ssl"),
      "extra mount /etc/ssl",
    ],
    [
      "an extra mount",
      (r) => r.OCI.Mounts.push({ destination: "/host", source: "/", type_: "bind", options: ["rbind", "rw"] }),
      'extra mount /host (bind from "/") is not allowed',
    ],
    [
      "an added capability",
      (r) => r.OCI.Process.Capabilities.Bounding.push("CAP_SYS_ADMIN"),
      "capabilities (Bounding): CAP_SYS_ADMIN not allowed",
    ],
    [
      "privileged",
      (r) => {
        for (const set of ["Bounding", "Effective", "Permitted"]) {
          r.OCI.Process.Capabilities[set] = [...r.OCI.Process.Capabilities[set], "CAP_SYS_ADMIN", "CAP_SYS_MODULE"];
        }
        r.OCI.Linux.MaskedPaths = [];
        r.OCI.Linux.ReadonlyPaths = [];
      },
      "/proc/kcore is not masked",
    ],
    [
      "a read-write root",
      (r) => (r.OCI.Root.Readonly = !r.OCI.Root.Readonly),
      "root filesystem is read-only, the policy has it writable",
    ],
    [
      "a container name the pod does not have",
      (r) => (r.OCI.Annotations["io.kubernetes.cri.container-name"] = "sidecar"),
      'container "sidecar" is not in the policy (its containers: "app")',
    ],
    [
      "another namespace",
      (r) => (r.OCI.Annotations["io.kubernetes.cri.sandbox-namespace"] = "default"),
      'namespace "default" differs from the policy\'s "shop"',
    ],
    [
      "a sysctl",
      (r) => (r.OCI.Linux.Sysctl["kernel.shm_rmid_forced"] = "1"),
      "sysctl kernel.shm_rmid_forced=1 is not allowed",
    ],
    [
      "an unknown annotation",
      (r) => (r.OCI.Annotations["io.katacontainers.config.hypervisor.kernel_params"] = "x"),
      'annotation io.katacontainers.config.hypervisor.kernel_params="x" is not allowed',
    ],
  ];
  if (guestPull) {
    tamper.push([
      "the image digest",
      (r) => {
        const s = r.storages.find((x: Req) => x.driver === "image_guest_pull");
        s.source = s.source.replace(/@sha256:.*/, `@sha256:${"0".repeat(64)}`);
      },
      `image digest differs: policy ${DIGEST}, request sha256:${"0".repeat(64)}`,
    ]);
  } else {
    tamper.push([
      "a layer's verity hash",
      (r) => {
        const s = r.storages.find((x: Req) => x.fstype === "tar");
        s.options = s.options.map((o: string) => o.replace(/root-hash=[0-9a-f]+/, `root-hash=${"0".repeat(64)}`));
      },
      "image layers differ: 1 layer root hash(es) not in the policy",
    ]);
    tamper.push([
      "a missing layer",
      (r) => r.storages.splice(0, 1),
      "image layers differ: 0 layer root hash(es) not in the policy",
    ]);
  }

  it.each(tamper)("denies %s, saying why", async (_what, change, reason) => {
    const { agent, request } = await setUp(guestPull);
    const r = request();
    change(r);
    const a = agent();
    expect(a.ask("CreateContainerRequest", r)).toBe(false);
    expect(
      a.why().some((m) => m.includes(reason)),
      a.why().join("\n"),
    ).toBe(true);
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
    expect(a.why()).toContain('container "app": exec of "/bin/sh" is not allowed (declared commands: none)');
    expect(a.ask("RemoveContainerRequest", { container_id: r.container_id })).toBe(true);
    expect(a.ask("ExecProcessRequest", { ...exec, process: { ...exec.process, Args: ["/pause", "--serve"] } })).toBe(
      false,
    );
    expect(a.why()[0]).toMatch(/^exec into container [0-9a-f]{12}… which this sandbox did not create/);
  });
});
