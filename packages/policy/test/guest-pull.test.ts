import type { JsonValue } from "@contrast/core";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AgentDecision,
  AgentPolicy,
  applyJsonPatch,
  DEFAULT_SETTINGS,
  explainDenial,
  generatePolicies,
  honestRequestsForYaml,
  policyProfile,
  type Settings,
} from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

/**
 * Guest pull (docs/platform-profiles.md, "Guest-pull storages"): the storage the Kata runtime
 * builds for an image the guest pulls, checked the way Kata's and Contrast's rules check it. Each
 * check has an honest request that passes and a tampered one that is denied, with the reason.
 */

const DIGEST = "sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const ZERO = `sha256:${"0".repeat(64)}`;
const POD = `
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: registry.k8s.io/pause:3.6@${DIGEST}
      command: ["/pause"]
    - name: shell
      image: quay.io/prometheus/busybox:latest
      command: ["sleep", "3600"]
`;
const DRIVER = "image_guest_pull";
const C_TYPE = "io.kubernetes.cri.container-type";
const IMAGE = "io.kubernetes.cri.image-name";

// biome-ignore lint/suspicious/noExplicitAny: requests are tampered with field by field
type Req = Record<string, any>;

function settingsWith(required: boolean | undefined): Settings {
  const patch: { op: "add"; path: string; value: JsonValue }[] = [
    { op: "add", path: "/cluster_config/guest_pull", value: true },
  ];
  if (required !== undefined) patch.push({ op: "add", path: "/cluster_config/guest_pull_required", value: required });
  return applyJsonPatch(DEFAULT_SETTINGS, patch);
}

interface Setup {
  /** The honest stream: CreateSandbox, then create (and start) per container. */
  readonly requests: { name: string; input: Req }[];
  readonly pause: Req;
  readonly app: Req;
  readonly shell: Req;
  readonly policy: () => AgentPolicy;
}

async function setUp(required?: boolean): Promise<Setup> {
  const settings = settingsWith(required);
  const images = fixtureImages();
  const w = (await generatePolicies(POD, { images, settings })).workloads[0];
  if (w === undefined) throw new Error("no workload");
  // What the runtime sends, built from the pod, the images and the settings, not the policy.
  const [built] = await honestRequestsForYaml(POD, { images, settings });
  if (built === undefined) throw new Error("no pod template");
  const { requests, containers } = built.stream;
  const create = (i: number) => requests[containers[i]?.create ?? -1]?.input as Req;
  return {
    requests: requests as { name: string; input: Req }[],
    pause: create(0),
    app: create(1),
    shell: create(2),
    policy: () => new AgentPolicy(w.policy),
  };
}

/** Decides the honest stream up to (not including) the request that creates `target`, then `tampered`. */
function decide(s: Setup, target: Req, tampered: Req): AgentDecision {
  const agent = s.policy();
  for (const r of s.requests) {
    if (r.input === target) break;
    const d = agent.decide(r.name, r.input as JsonValue);
    expect(d.allowed, `${r.name}: ${d.reasons?.map((x) => x.message).join("; ")}`).toBe(true);
  }
  return agent.decide("CreateContainerRequest", tampered as JsonValue);
}

function pullOf(r: Req): Req {
  return r.storages.find((s: Req) => s.driver === DRIVER);
}
function metadataOf(r: Req): Record<string, string> {
  return JSON.parse(pullOf(r).driver_options[0].slice(DRIVER.length + 1)).metadata;
}
function setMetadata(r: Req, change: (m: Record<string, string>) => void): void {
  const m = metadataOf(r);
  change(m);
  pullOf(r).driver_options[0] = `${DRIVER}=${JSON.stringify({ metadata: m })}`;
}
function messages(d: AgentDecision): string {
  return (d.reasons ?? []).map((r) => r.message).join("; ");
}

describe("guest-pull storages the honest runtime sends", () => {
  it("are one per container, as Kata's runtime builds them", async () => {
    const s = await setUp();
    for (const r of [s.pause, s.app, s.shell]) {
      const pulls = r.storages.filter((x: Req) => x.driver === DRIVER);
      expect(pulls).toHaveLength(1);
      const pull = pulls[0] as Req;
      expect(pull).toMatchObject({ fstype: "overlay", options: [], fs_group: null, shared: false });
      // The container's root, where the agent mounts the pulled image.
      expect(pull.mount_point).toBe(r.OCI.Root.Path);
      expect(pull.mount_point).toBe(`/run/kata-containers/${r.container_id}/rootfs`);
      expect(pull.driver_options).toHaveLength(1);
      // The metadata are the container's annotations, keys sorted as Go's encoder writes a map.
      const metadata = metadataOf(r);
      expect(metadata).toEqual(r.OCI.Annotations);
      expect(Object.keys(metadata)).toEqual(Object.keys(metadata).sort());
    }
    expect(pullOf(s.pause).source).toBe("pause");
    expect(metadataOf(s.pause)[IMAGE]).toBeUndefined();
    // containerd names a pinned image without its tag, an unpinned one fully qualified.
    expect(pullOf(s.app).source).toBe(`registry.k8s.io/pause@${DIGEST}`);
    expect(s.app.OCI.Annotations[IMAGE]).toBe(`registry.k8s.io/pause@${DIGEST}`);
    expect(pullOf(s.shell).source).toBe("quay.io/prometheus/busybox:latest");
  });

  it.each([
    ["Kata's default (guest_pull_required absent)", undefined],
    ["guest_pull_required: true", true],
  ])("are allowed, every request of the stream: %s", async (_what, required) => {
    const s = await setUp(required);
    const agent = s.policy();
    for (const r of s.requests) {
      const d = agent.decide(r.name, r.input as JsonValue);
      expect(d.allowed, `${r.name}: ${messages(d)}`).toBe(true);
    }
  });
});

const containerTampers: [string, (r: Req) => void, string][] = [
  [
    "a mount point other than the container's root",
    (r) => {
      pullOf(r).mount_point = `/run/kata-containers/shared/containers/${r.container_id}/rootfs`;
    },
    "mount point",
  ],
  ["a second driver option", (r) => pullOf(r).driver_options.push(`${DRIVER}={"metadata":{}}`), "expected exactly one"],
  [
    "another option in front of the image_guest_pull one",
    (r) => pullOf(r).driver_options.unshift("io.katacontainers.volume=e30="),
    "expected exactly one",
  ],
  [
    "a driver option under another name",
    (r) => {
      const p = pullOf(r);
      p.driver_options[0] = p.driver_options[0].replace(`${DRIVER}=`, "image_pull=");
    },
    "expected exactly one",
  ],
  ["a driver option that is not JSON", (r) => (pullOf(r).driver_options[0] = `${DRIVER}={`), "no JSON object"],
  [
    "the metadata's container type set to sandbox (the agent would unpack the pause image)",
    (r) => setMetadata(r, (m) => (m[C_TYPE] = "sandbox")),
    'container type "sandbox", the policy\'s is "container"',
  ],
  ["the metadata's container type missing", (r) => setMetadata(r, (m) => delete m[C_TYPE]), "container type null"],
  [
    "CRI-O's container-type key saying sandbox",
    (r) => setMetadata(r, (m) => (m["io.kubernetes.cri-o.ContainerType"] = "sandbox")),
    "io.kubernetes.cri-o.ContainerType",
  ],
  [
    "another image's digest in the metadata",
    (r) => setMetadata(r, (m) => (m[IMAGE] = `registry.k8s.io/pause@${ZERO}`)),
    `metadata: image digest differs: policy ${DIGEST}, request ${ZERO}`,
  ],
  ["no image name in the metadata", (r) => setMetadata(r, (m) => delete m[IMAGE]), "metadata: no image name"],
  [
    "another image's digest as the source",
    (r) => (pullOf(r).source = `registry.k8s.io/pause@${ZERO}`),
    `image digest differs: policy ${DIGEST}, request ${ZERO}`,
  ],
  [
    "an unpinned source for a pinned image",
    (r) => (pullOf(r).source = "registry.k8s.io/pause:3.6"),
    `image "registry.k8s.io/pause:3.6" is not pinned; the policy pins ${DIGEST}`,
  ],
  [
    "a bare name (latest) as the source for a pinned image",
    (r) => (pullOf(r).source = "registry.k8s.io/pause"),
    `image "registry.k8s.io/pause" is not pinned; the policy pins ${DIGEST}`,
  ],
  ["a shared storage", (r) => (pullOf(r).shared = true), "shared true"],
  ["an fsGroup", (r) => (pullOf(r).fs_group = { group_id: 0, group_change_policy: 0 }), "fs_group"],
  ["mount options", (r) => pullOf(r).options.push("rw"), 'options ["rw"]'],
  ["another fstype", (r) => (pullOf(r).fstype = "bind"), 'fstype "bind"'],
  [
    "a second guest-pull storage",
    (r) => r.storages.push({ ...structuredClone(pullOf(r)), mount_point: "/run/kata-containers/x/rootfs" }),
    `2 ${DRIVER} storages`,
  ],
];

describe.each([
  ["Kata's default", undefined],
  ["guest_pull_required", true],
])("a tampered guest-pull storage of an application container is denied (%s)", (_what, required) => {
  it.each(containerTampers)("%s", async (_name, change, reason) => {
    const s = await setUp(required);
    const tampered = structuredClone(s.app);
    change(tampered);
    const d = decide(s, s.app, tampered);
    expect(d.allowed).toBe(false);
    expect(messages(d)).toContain('container "app": ');
    expect(messages(d)).toContain(reason);
  });
});

describe("the unpinned container's guest pull", () => {
  it("must name the policy's reference as written, fully qualified", async () => {
    const s = await setUp();
    const tampered = structuredClone(s.shell);
    pullOf(tampered).source = "quay.io/prometheus/busybox:evil";
    setMetadata(tampered, (m) => (m[IMAGE] = "quay.io/prometheus/busybox:evil"));
    const d = decide(s, s.shell, tampered);
    expect(d.allowed).toBe(false);
    expect(messages(d)).toContain('image "quay.io/prometheus/busybox:evil" differs from the policy\'s');
  });
});

describe("the sandbox's guest pull", () => {
  const sandboxTampers: [string, (r: Req) => void, string][] = [
    [
      "a source other than the built-in pause image",
      (r) => (pullOf(r).source = `registry.k8s.io/pause@${DIGEST}`),
      `the sandbox's source is "registry.k8s.io/pause@${DIGEST}", expected "pause"`,
    ],
    [
      "metadata that say container (the agent would pull the source)",
      (r) => setMetadata(r, (m) => (m[C_TYPE] = "container")),
      'container type "container", the policy\'s is "sandbox"',
    ],
    [
      "an image name in the metadata",
      (r) => setMetadata(r, (m) => (m[IMAGE] = `registry.k8s.io/pause@${DIGEST}`)),
      "the sandbox has an image name",
    ],
    [
      "a mount point other than its root",
      (r) => (pullOf(r).mount_point = "/run/kata-containers/shared/containers/x/rootfs"),
      "mount point",
    ],
  ];
  it.each(sandboxTampers)("is denied with %s", async (_name, change, reason) => {
    const s = await setUp(true);
    const tampered = structuredClone(s.pause);
    change(tampered);
    const d = decide(s, s.pause, tampered);
    expect(d.allowed).toBe(false);
    expect(messages(d)).toContain("pause container: ");
    expect(messages(d)).toContain(reason);
  });
});

describe("a container without a guest-pull storage", () => {
  const strip = (r: Req): Req => {
    const t = structuredClone(r);
    t.storages = t.storages.filter((x: Req) => x.driver !== DRIVER);
    return t;
  };

  it("is allowed when the policy does not require guest pull (Kata's rules)", async () => {
    const s = await setUp();
    expect(decide(s, s.app, strip(s.app)).allowed).toBe(true);
    expect(decide(s, s.pause, strip(s.pause)).allowed).toBe(true);
  });

  it.each([
    ["an application container", "app"],
    ["the sandbox", "pause"],
  ] as const)("is denied when the policy requires guest pull: %s", async (_what, which) => {
    const s = await setUp(true);
    const d = decide(s, s[which], strip(s[which]));
    expect(d.allowed).toBe(false);
    expect(messages(d)).toContain(
      `no ${DRIVER} storage: the policy requires the guest to pull every container's image`,
    );
  });
});

describe("guest pull switched off", () => {
  it("denies a guest-pull storage", async () => {
    const s = await setUp();
    const off = (
      await generatePolicies(POD, {
        images: fixtureImages(),
        settings: applyJsonPatch(settingsWith(undefined), [
          { op: "replace", path: "/cluster_config/guest_pull", value: false },
        ]),
      })
    ).workloads[0];
    if (off === undefined) throw new Error("no workload");
    const agent = new AgentPolicy(off.policy);
    const d = agent.decide("CreateContainerRequest", s.pause as JsonValue);
    expect(d.allowed).toBe(false);
    expect(messages(d)).toContain("the policy does not allow pulling images in the guest");
  });
});

describe("the guest-pull driver option (property)", () => {
  // The agent reads the metadata from the one "image_guest_pull=<JSON>" option and treats the
  // container as the sandbox when either container-type key says so: the rules must allow a
  // metadata object only when its type keys agree with the policy and its image is the policy's.
  const typeValue = fc.constantFrom(undefined, "container", "sandbox", "", "Container");
  const imageValue = fc.constantFrom(
    undefined,
    `registry.k8s.io/pause@${DIGEST}`,
    `registry.k8s.io/pause:3.6@${DIGEST}`,
    `evil.example/pause@${DIGEST}`,
    `registry.k8s.io/pause@${ZERO}`,
    "registry.k8s.io/pause:3.6",
    `a@b@${DIGEST}`,
  );
  const extra = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });

  it("allows exactly the metadata that name the policy's container type and image", async () => {
    const s = await setUp();
    await fc.assert(
      fc.asyncProperty(typeValue, typeValue, imageValue, extra, async (criType, crioType, image, more) => {
        const metadata: Record<string, string> = { ...metadataOf(s.app) };
        for (const [k, v] of Object.entries(more)) if (!(k in metadata)) metadata[k] = v;
        const set = (k: string, v: string | undefined) => {
          if (v === undefined) delete metadata[k];
          else metadata[k] = v;
        };
        set(C_TYPE, criType);
        set("io.kubernetes.cri-o.ContainerType", crioType);
        set(IMAGE, image);
        const tampered = structuredClone(s.app);
        pullOf(tampered).driver_options = [`${DRIVER}=${JSON.stringify({ metadata })}`];
        const d = decide(s, s.app, tampered);
        const digestOk = image !== undefined && image.split("@").length === 2 && image.endsWith(`@${DIGEST}`);
        const expected = criType === "container" && (crioType === undefined || crioType === "container") && digestOk;
        expect(d.allowed, messages(d)).toBe(expected);
        if (!d.allowed) {
          // Why, from the policy's data alone (what `policy check` prints).
          const reasons = explainDenial(s.policy().policyData(), "CreateContainerRequest", tampered, {});
          expect(reasons.some((r) => r.message.includes(DRIVER))).toBe(true);
        }
      }),
      { numRuns: fuzzRuns(60) },
    );
  });
});

describe("platform profiles", () => {
  /** The honest stream of POD under a profile, and the same with the app's guest-pull storage gone. */
  async function underProfile(id: string): Promise<{ honest: AgentDecision[]; stripped: AgentDecision }> {
    const profile = policyProfile(id);
    const images = fixtureImages();
    const w = (await generatePolicies(POD, { images, profile })).workloads[0];
    const [built] = await honestRequestsForYaml(POD, { images, profile });
    if (w === undefined || built === undefined) throw new Error("no workload");
    const agent = new AgentPolicy(w.policy);
    const { requests, containers } = built.stream;
    const appIndex = containers[1]?.create ?? -1;
    const honest = requests.map((r) => agent.decide(r.name, r.input as JsonValue));
    const stripped = structuredClone(requests[appIndex]?.input) as Req;
    stripped.storages = stripped.storages.filter((x: Req) => x.driver !== DRIVER);
    return { honest, stripped: new AgentPolicy(w.policy).decide("CreateContainerRequest", stripped as JsonValue) };
  }

  it.each(["metal-qemu-snp", "metal-qemu-tdx", "k3s-qemu-snp", "rke2-qemu-tdx", "metal-qemu-snp-gpu", "sim"])(
    "%s: Contrast's rules — the honest stream is allowed, a container without its guest pull is denied",
    async (id) => {
      expect(policyProfile(id).settings.cluster_config.guest_pull_required).toBe(true);
      const { honest, stripped } = await underProfile(id);
      expect(honest.filter((d) => !d.allowed).map(messages)).toEqual([]);
      expect(stripped.allowed).toBe(false);
      expect(messages(stripped)).toContain(`no ${DRIVER} storage`);
    },
  );

  it("kata: stock Kata's rules let a container without its guest pull through", async () => {
    expect(policyProfile("kata").settings.cluster_config.guest_pull_required).toBeUndefined();
    const { honest, stripped } = await underProfile("kata");
    expect(honest.every((d) => d.allowed)).toBe(true);
    expect(stripped.allowed).toBe(true);
  });
});
