import type { JsonValue } from "@contrast/core";
import { describe, expect, it } from "vitest";
import {
  AgentPolicy,
  generatePolicies,
  honestRequestsForYaml,
  type PolicyProfile,
  policyProfile,
  policyProfiles,
} from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

/**
 * The Kata-flavour profiles (Contrast v1.5 on the QEMU platforms, docs/platform-profiles.md): per
 * fact, the requests that platform's runtime sends (built by the honest builder from the pod spec
 * and the profile, never from the policy) are allowed by the policy generated for that profile; a
 * tampered variant is denied; and stock Kata's profile still decides as before.
 */
const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const QEMU = [
  "metal-qemu-snp",
  "metal-qemu-tdx",
  "metal-qemu-snp-gpu",
  "k3s-qemu-snp",
  "k3s-qemu-tdx",
  "k3s-qemu-snp-gpu",
  "rke2-qemu-tdx",
];

type Req = { name: string; input: Record<string, unknown> & { OCI?: Record<string, unknown> } };

interface Built {
  readonly agent: AgentPolicy;
  readonly requests: Req[];
  /** The CreateContainerRequest of the named container. */
  create(name: string): Req;
  sandbox(): Req;
}

/** Generates the pod's policy for `policyFor` and builds the requests `runtimeOf`'s runtime sends. */
async function build(yaml: string, policyFor: PolicyProfile, runtimeOf: PolicyProfile = policyFor): Promise<Built> {
  const images = fixtureImages();
  const generated = await generatePolicies(yaml, { images, profile: policyFor });
  const [built] = await honestRequestsForYaml(yaml, { images, profile: runtimeOf });
  if (built === undefined || generated.workloads[0] === undefined) throw new Error("no workload");
  const requests = built.stream.requests.map((r) => structuredClone(r) as unknown as Req);
  return {
    agent: new AgentPolicy(generated.workloads[0].policy),
    requests,
    create(name) {
      const c = built.stream.containers.find((x) => x.name === name);
      if (c === undefined) throw new Error(`no container ${name}`);
      return structuredClone(requests[c.create]) as Req;
    },
    sandbox() {
      return structuredClone(requests.find((r) => r.name === "CreateSandboxRequest")) as Req;
    },
  };
}

/** Every request of the stream in order, in one agent (its state carries from one to the next). */
function denials(b: Built, requests: readonly Req[] = b.requests): string[] {
  b.agent.reset();
  return b.agent
    .decideAll(requests.map((r) => ({ name: r.name, input: r.input as JsonValue })))
    .filter((d) => !d.allowed)
    .map((d) => `${d.request}: ${(d.reasons ?? []).map((x) => x.message).join("; ")}`);
}

/** The stream with one request replaced: the honest stream up to it, then the tampered one. */
function withRequest(b: Built, replaced: Req): Req[] {
  const cid = replaced.input.container_id;
  const i = b.requests.findIndex(
    (r) => r.name === replaced.name && (replaced.name !== "CreateContainerRequest" || r.input.container_id === cid),
  );
  return [...b.requests.slice(0, i), replaced];
}

function last(b: Built, requests: Req[]): { allowed: boolean; why: string } {
  b.agent.reset();
  const all = b.agent.decideAll(requests.map((r) => ({ name: r.name, input: r.input as JsonValue })));
  const d = all[all.length - 1];
  if (d === undefined) throw new Error("no decision");
  return { allowed: d.allowed, why: (d.reasons ?? []).map((x) => x.message).join("; ") };
}

type Mount = { destination: string; source: string; type_: string; options: string[] };
type Storage = { driver: string; mount_point: string; source: string; options: string[] };
const mounts = (r: Req) => r.input.OCI?.Mounts as Mount[];
const mount = (r: Req, dest: string) => {
  const m = mounts(r).find((x) => x.destination === dest);
  if (m === undefined) throw new Error(`no mount ${dest}`);
  return m;
};
const storages = (r: Req) => r.input.storages as Storage[];
const linux = (r: Req) => r.input.OCI?.Linux as Record<string, unknown>;

const pod = (name: string, body: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  runtimeClassName: contrast-cc\n${body}`;

const metal = () => policyProfile("metal-qemu-snp");
const kata = () => policyProfile("kata");

describe("Kata-flavour profiles: one set of facts for the seven QEMU platforms", () => {
  it("model Contrast v1.5 on Kata 3.13.0, with the same settings on every QEMU platform (as cli/genpolicy/config.go)", () => {
    const first = policyProfile(QEMU[0]);
    for (const id of QEMU) {
      const p = policyProfile(id);
      expect(p.flavour, id).toBe("contrast-kata");
      expect(p.upstream.kata, id).toBe("3.13.0");
      expect(p.upstream.contrast, id).toMatch(/^v1\.5/);
      expect(p.settings, id).toEqual(first.settings);
      expect(p.rules, id).toBe(kata().rules);
      expect(p.facts.map((f) => f.id).slice(0, 9), id).toEqual([
        "emptydir-shared-fs",
        "oci-version-unchecked",
        "guest-hooks",
        "gpu-resource-names",
        "readstream-allowed",
        "emptydir-mount-propagation",
        "rootfs-propagation-unchecked",
        "privileged-sysfs-ro-or-rw",
        "arp-neighbors-denied",
      ]);
      const gpu = id.endsWith("-gpu");
      expect(p.runtime, id).toEqual({
        ociVersion: "1.2.0",
        mountPropagation: true,
        pauseSysfsRwWithPrivileged: false,
        ...(gpu ? { guestHookPath: "/usr/share/oci/hooks", vfioColdPlug: true } : {}),
      });
    }
    // The simulated TEE presents pods as the QEMU runtime does.
    expect(policyProfile("sim").settings).toEqual(first.settings);
    expect(policyProfile("sim").runtime).toEqual(policyProfile("metal-qemu-snp").runtime);
  });

  it("leave stock Kata's profile without any of the switches", () => {
    const s = kata().settings;
    expect(s.cluster_config.emptydir_type).toBe("block-encrypted");
    for (const k of [
      "check_oci_version",
      "check_rootfs_propagation",
      "emptydir_mount_propagation",
      "privileged_sysfs_ro_or_rw",
    ]) {
      expect(Object.hasOwn(s.cluster_config, k), k).toBe(false);
    }
    expect(s.sandbox.allowed_guest_hooks).toBeUndefined();
    expect(s.request_defaults.ReadStreamRequest).toBe(false);
    expect(kata().runtime).toEqual({ ociVersion: "1.1.0" });
  });
});

describe.each(["metal-qemu-snp", "k3s-qemu-tdx", "rke2-qemu-tdx"])("emptyDir on %s (shared-fs directory)", (id) => {
  const yaml = pod(
    "web",
    `  volumes:\n    - {name: contrast-secrets, emptyDir: {}}\n    - {name: scratch, emptyDir: {}}\n  containers:\n    - name: app\n      image: ${IMAGE}\n      volumeMounts:\n        - {name: contrast-secrets, mountPath: /contrast}\n        - {name: scratch, mountPath: /scratch}\n`,
  );

  it("the runtime's local directories are allowed, including contrast-secrets at /contrast", async () => {
    const b = await build(yaml, policyProfile(id));
    expect(denials(b)).toEqual([]);
    const c = b.create("app");
    const sid = c.input.OCI?.Annotations as Record<string, string>;
    const dir = `/run/kata-containers/shared/containers/${sid["io.kubernetes.cri.sandbox-id"]}/rootfs/local/`;
    expect(mount(c, "/contrast")).toMatchObject({ type_: "local", source: `${dir}contrast-secrets` });
    expect(storages(c).filter((s) => s.driver === "local")).toEqual([
      expect.objectContaining({ source: "local", options: ["mode=0777"], mount_point: `${dir}contrast-secrets` }),
      expect.objectContaining({ source: "local", options: ["mode=0777"], mount_point: `${dir}scratch` }),
    ]);
  });

  it("a tampered emptyDir is denied: another volume's directory, a foreign sandbox, an encrypted disk's absence", async () => {
    const b = await build(yaml, policyProfile(id));
    const swapped = b.create("app");
    mount(swapped, "/contrast").source = mount(swapped, "/scratch").source;
    expect(last(b, withRequest(b, swapped)).allowed).toBe(false);
    const foreign = b.create("app");
    const s = storages(foreign).find((x) => x.mount_point.endsWith("/contrast-secrets"));
    if (s === undefined) throw new Error("no storage");
    s.mount_point = s.mount_point.replace(/containers\/[0-9a-f]{64}\//, `containers/${"e".repeat(64)}/`);
    mount(foreign, "/contrast").source = s.mount_point;
    expect(last(b, withRequest(b, foreign)).allowed).toBe(false);
    const mode = b.create("app");
    for (const x of storages(mode)) if (x.driver === "local") x.options = ["mode=0700"];
    expect(last(b, withRequest(b, mode)).allowed).toBe(false);
  });

  it("stock Kata's policy still wants an encrypted block device and denies the directory", async () => {
    expect(denials(await build(yaml, kata()))).toEqual([]);
    const cross = await build(yaml, kata(), policyProfile(id));
    expect(denials(cross).some((d) => d.startsWith("CreateContainerRequest"))).toBe(true);
  });
});

describe("OCI Version (oci-version-unchecked)", () => {
  const yaml = pod("v", `  containers:\n    - name: app\n      image: ${IMAGE}\n`);

  it("the node's containerd 2.x version 1.2.0 is allowed, and so are 1.1.0 and 1.2.1", async () => {
    const b = await build(yaml, metal());
    expect(b.create("app").input.OCI?.Version).toBe("1.2.0");
    expect(denials(b)).toEqual([]);
    for (const v of ["1.1.0", "1.2.1"]) {
      const stream = b.requests.map((r) => {
        const c = structuredClone(r);
        if (c.input.OCI !== undefined) c.input.OCI.Version = v;
        return c;
      });
      expect(denials(b, stream), v).toEqual([]);
    }
  });

  it("without the version check the rest of the spec is still checked", async () => {
    const b = await build(yaml, metal());
    const t = b.create("app");
    (t.input.OCI as Record<string, unknown>).Version = "1.2.1";
    (t.input.OCI?.Root as Record<string, unknown>).Readonly = true;
    expect(last(b, withRequest(b, t)).allowed).toBe(false);
  });

  it("stock Kata's policy denies 1.2.0 where it expects 1.1.0", async () => {
    const cross = await build(yaml, kata(), metal());
    expect(denials(cross)[0]).toMatch(/OCI version: policy "1\.1\.0", request "1\.2\.0"/);
  });
});

describe.each(["metal-qemu-snp-gpu", "k3s-qemu-snp-gpu"])("GPU pod on %s", (id) => {
  const yaml = pod(
    "gpu",
    `  volumes:\n    - {name: contrast-secrets, emptyDir: {}}\n  containers:\n    - name: cuda\n      image: ${IMAGE}\n      env: [{name: NVIDIA_VISIBLE_DEVICES, value: all}]\n      resources:\n        limits: {nvidia.com/GH100_H100_PCIE: 1}\n      volumeMounts: [{name: contrast-secrets, mountPath: /contrast}]\n`,
  );

  it("the guest hook path and the cold-plugged H100 (nvidia.com/GH100_H100_PCIE) are allowed", async () => {
    const b = await build(yaml, policyProfile(id));
    expect(b.sandbox().input.guest_hook_path).toBe("/usr/share/oci/hooks");
    const c = b.create("cuda");
    expect(c.input.devices).toEqual([]);
    expect((c.input.OCI as { Annotations: Record<string, string> }).Annotations["cdi.k8s.io/vfio1"]).toBe(
      "nvidia.com/gpu=0",
    );
    expect(denials(b)).toEqual([]);
  });

  it("a tampered hook path, an extra GPU or a missing one is denied", async () => {
    const b = await build(yaml, policyProfile(id));
    const hook = b.sandbox();
    hook.input.guest_hook_path = "/run/evil/hooks";
    expect(last(b, [hook])).toEqual({
      allowed: false,
      why: 'pause container: guest hook path "/run/evil/hooks" is not allowed',
    });
    const extra = b.create("cuda");
    (extra.input.OCI as { Annotations: Record<string, string> }).Annotations["cdi.k8s.io/vfio2"] = "nvidia.com/gpu=1";
    expect(last(b, withRequest(b, extra)).allowed).toBe(false);
    const none = b.create("cuda");
    delete (none.input.OCI as { Annotations: Record<string, string> }).Annotations["cdi.k8s.io/vfio1"];
    expect(last(b, withRequest(b, none)).allowed).toBe(false);
  });

  it("stock Kata's policy knows neither the hook path nor the H100 resource name", async () => {
    const cross = await build(yaml, kata(), policyProfile(id));
    const d = denials(cross);
    expect(d[0]).toBe('CreateSandboxRequest: pause container: guest hook path "/usr/share/oci/hooks" is not allowed');
    // The GPU alone (no emptyDir, stock Kata's OCI version, no hook): the H100 is unknown to it.
    const gpuOnly = yaml.replace(/ {2}volumes:\n.*\n/, "").replace(/ {6}volumeMounts: .*\n/, "");
    const gpuRuntime = policyProfile(id);
    const isolated = await build(gpuOnly, kata(), {
      ...gpuRuntime,
      runtime: { ...gpuRuntime.runtime, ociVersion: "1.1.0", guestHookPath: "" },
    });
    expect(denials(isolated)).toEqual([
      'CreateContainerRequest: container "cuda": annotation cdi.k8s.io/vfio1="nvidia.com/gpu=0" is not allowed; container "cuda": GPUs: the policy has 0, the request 1 CDI annotation(s)',
    ]);
    expect(
      denials(
        await build(gpuOnly, policyProfile(id), {
          ...gpuRuntime,
          runtime: { ...gpuRuntime.runtime, ociVersion: "1.1.0" },
        }),
      ),
    ).toEqual([]);
    // Stock Kata itself: no hook, and a GH100 limit is no GPU it knows of.
    expect(denials(await build(yaml, kata()))).toEqual([]);
  });

  it("the non-GPU platforms share the settings but their runtime sends no hook path", async () => {
    const b = await build(yaml, policyProfile(id.replace("-gpu", "")));
    expect(b.sandbox().input.guest_hook_path).toBe("");
    expect(denials(b)).toEqual([]);
  });
});

describe("mount propagation and read-only mounts (emptydir-mount-propagation, rootfs-propagation-unchecked)", () => {
  const yaml = pod(
    "prop",
    `  volumes:\n    - {name: shared, emptyDir: {}}\n    - {name: follow, emptyDir: {}}\n    - {name: ro, emptyDir: {}}\n  containers:\n    - name: mesh\n      image: ${IMAGE}\n      securityContext: {privileged: true}\n      volumeMounts:\n        - {name: shared, mountPath: /shared, mountPropagation: Bidirectional}\n    - name: app\n      image: ${IMAGE}\n      volumeMounts:\n        - {name: follow, mountPath: /follow, mountPropagation: HostToContainer}\n        - {name: ro, mountPath: /ro, readOnly: true}\n`,
  );

  it("rshared, rslave and ro reach the agent as containerd writes them, and are allowed", async () => {
    const b = await build(yaml, metal());
    expect(denials(b)).toEqual([]);
    const mesh = b.create("mesh");
    const app = b.create("app");
    expect(mount(mesh, "/shared").options).toEqual(["rbind", "rshared", "rw"]);
    expect(linux(mesh).RootfsPropagation).toBe("rshared");
    expect(mount(app, "/follow").options).toEqual(["rbind", "rslave", "rw"]);
    expect(mount(app, "/ro").options).toEqual(["rbind", "rprivate", "ro"]);
    expect(linux(app).RootfsPropagation).toBe("rslave");
  });

  it("a changed propagation or a writable read-only mount is denied", async () => {
    const b = await build(yaml, metal());
    const widened = b.create("app");
    mount(widened, "/follow").options = ["rbind", "rshared", "rw"];
    expect(last(b, withRequest(b, widened)).allowed).toBe(false);
    const writable = b.create("app");
    mount(writable, "/ro").options = ["rbind", "rprivate", "rw"];
    expect(last(b, withRequest(b, writable))).toMatchObject({ allowed: false, why: expect.stringContaining("/ro") });
  });

  it("stock Kata's policy expects rprivate and no rootfs propagation, and denies them", async () => {
    const cross = await build(yaml, kata(), metal());
    expect(denials(cross).some((d) => d.includes("rootfs propagation"))).toBe(true);
    expect(denials(await build(yaml, kata()))).toEqual([]);
  });
});

describe("a privileged sidecar: the pause container's /sys RO or RW (privileged-sysfs-ro-or-rw)", () => {
  const yaml = pod(
    "mesh",
    `  containers:\n    - name: app\n      image: ${IMAGE}\n    - name: proxy\n      image: ${IMAGE}\n      securityContext: {privileged: true}\n`,
  );
  const newContainerd = (p: PolicyProfile): PolicyProfile => ({
    ...p,
    runtime: { ...p.runtime, pauseSysfsRwWithPrivileged: true },
  });
  const pauseSys = (b: Built) => mount(b.requests.find((r) => r.name === "CreateContainerRequest") as Req, "/sys");

  it("is allowed both as containerd before 2.0.4 (RO) and since (RW) mounts it", async () => {
    const old = await build(yaml, metal());
    expect(pauseSys(old).options).toContain("ro");
    expect(denials(old)).toEqual([]);
    const current = await build(yaml, metal(), newContainerd(metal()));
    expect(pauseSys(current).options).toContain("rw");
    expect(denials(current)).toEqual([]);
  });

  it("without a privileged container, or for the unprivileged app, a writable /sys is denied", async () => {
    const b = await build(yaml, metal());
    const app = b.create("app");
    mount(app, "/sys").options = mount(app, "/sys").options.map((o) => (o === "ro" ? "rw" : o));
    expect(last(b, withRequest(b, app))).toMatchObject({ allowed: false, why: expect.stringContaining("/sys") });
    const plain = pod("plain", `  containers:\n    - name: app\n      image: ${IMAGE}\n`);
    const rw = await build(plain, metal(), newContainerd(metal()));
    expect(pauseSys(rw).options).toContain("ro");
    const p = rw.requests.find((r) => r.name === "CreateContainerRequest") as Req;
    mount(p, "/sys").options = mount(p, "/sys").options.map((o) => (o === "ro" ? "rw" : o));
    expect(last(rw, [rw.requests[0] as Req, p]).allowed).toBe(false);
  });

  it("stock Kata's policy denies the RW pause /sys and keeps allowing RO", async () => {
    const cross = await build(yaml, kata(), newContainerd(metal()));
    expect(denials(cross).some((d) => d.includes("/sys"))).toBe(true);
    const kataRuntime = await build(yaml, kata());
    expect(denials(kataRuntime)).toEqual([]);
  });
});

describe("requests without a pod-specific policy (readstream-allowed, arp-neighbors-denied)", () => {
  const yaml = pod("r", `  containers:\n    - name: app\n      image: ${IMAGE}\n`);
  const read = { container_id: "a".repeat(64), exec_id: "a".repeat(64), len: 4096 };
  const arp = {
    neighbors: {
      ARPNeighbors: [
        {
          device: "eth0",
          flags: 0,
          lladdr: "00:00:5e:00:53:01",
          state: 128,
          toIPAddress: { address: "10.0.0.1", family: 0, mask: "" },
        },
      ],
    },
  };

  it.each(QEMU)("%s: kubectl logs (ReadStreamRequest) is allowed, stdin (WriteStreamRequest) is not", async (id) => {
    const b = await build(yaml, policyProfile(id));
    expect(b.agent.decide("ReadStreamRequest", read).allowed).toBe(true);
    expect(b.agent.decide("WriteStreamRequest", { ...read, data: "aGk=" }).allowed).toBe(false);
    expect(b.agent.decide("AddARPNeighborsRequest", arp).allowed).toBe(false);
  });

  it("stock Kata denies log reads and allows compliant ARP neighbours", async () => {
    const b = await build(yaml, kata());
    expect(b.agent.decide("ReadStreamRequest", read).allowed).toBe(false);
    expect(b.agent.decide("AddARPNeighborsRequest", arp).allowed).toBe(true);
  });
});

describe("every QEMU profile's own runtime passes its own policy on a Contrast-shaped pod", () => {
  const yaml = pod(
    "coordinator",
    `  volumes:\n    - {name: contrast-secrets, emptyDir: {}}\n  initContainers:\n    - name: initializer\n      image: ${IMAGE}\n      volumeMounts: [{name: contrast-secrets, mountPath: /contrast}]\n  containers:\n    - name: app\n      image: ${IMAGE}\n      volumeMounts: [{name: contrast-secrets, mountPath: /contrast, readOnly: true}]\n    - name: service-mesh-proxy\n      image: ${IMAGE}\n      securityContext: {privileged: true}\n`,
  );
  it.each([...QEMU, "sim"])("%s", async (id) => {
    expect(policyProfiles().some((p) => p.id === id)).toBe(true);
    expect(denials(await build(yaml, policyProfile(id)))).toEqual([]);
  });
});
