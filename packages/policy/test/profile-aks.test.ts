import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fromBase64, fromUtf8, toBase64, utf8 } from "@contrast/core";
import type { ImageMetadataSource } from "@contrast/oci";
import { Policy } from "@contrast/rego";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AgentPolicy,
  generatePolicies,
  type HonestStream,
  honestRequestsForYaml,
  type PolicyProfile,
  policyProfile,
  settingsToJson,
} from "../src/index.js";
import { AKS_GENPOLICY_TAG, AKS_LAYER_SRC_PREFIX_REGEX, AKS_SETTINGS_PATCH } from "../src/profiles/microsoft.js";
import { fixtureImages } from "./fixtures/images.js";

/**
 * The AKS-CLH-SNP profile (Contrast v1.5 on AKS: Microsoft's Kata fork, host-pulled images
 * through the tardev snapshotter). Golden requests are what the fork's runtime sends, built by
 * the honest-request builder from the pod spec, the images and the profile (never from the
 * policy); each is checked against a policy generated under the same profile. The shape of those
 * requests is compared with real requests the fork's agent saw on AKS (microsoft/regorus' Kata
 * test data, testdata/rego/regorus-kata/).
 */

// biome-ignore lint/suspicious/noExplicitAny: requests are tampered with field by field
type Req = Record<string, any>;

const DIGEST = "sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const IMAGE = `registry.k8s.io/pause:3.6@${DIGEST}`;
const APP = "ghcr.io/contrast-ts/fixtures/app@sha256:9e1c7c46b4f86a8f2a56ae1b32cdfb7dbc2c8e3ccda8a7b0a1d5a1b0c9d8e7f6";

function layer(name: string) {
  // Real-looking values; the known answer of the issue's burgerdev/example-container layer 2.
  const verity = name === "top" ? "3e180656327e86fa7aa220ff278695f1df2a2679e1aa80e8a454ccf0460c7d39" : undefined;
  return {
    diffId: `sha256:${Buffer.from(`diff:${name}`).toString("hex").padEnd(64, "0").slice(0, 64)}`,
    verityHash: verity ?? Buffer.from(`verity:${name}`).toString("hex").padEnd(64, "0").slice(0, 64),
  };
}

/** A three-layer application image, as the registry and the tardev snapshotter would describe it. */
function images(): ImageMetadataSource {
  return fixtureImages({
    [APP]: {
      digest: APP.split("@")[1] as string,
      config: { Entrypoint: ["/bin/app"], Env: ["PATH=/usr/bin:/bin"], WorkingDir: "/srv", User: "1000:1000" },
      layers: [layer("base"), layer("libs"), layer("top")],
    },
  });
}

/** A Contrast workload: the initializer-style init container, the contrast-secrets emptyDir, a probe. */
const POD = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      volumes:
        - name: contrast-secrets
          emptyDir: {}
      initContainers:
        - name: contrast-initializer
          image: ${IMAGE}
          command: ["/pause", "--init"]
          volumeMounts:
            - name: contrast-secrets
              mountPath: /contrast
      containers:
        - name: app
          image: ${APP}
          args: ["--listen", ":8080"]
          env:
            - name: MODE
              value: production
          readinessProbe:
            exec:
              command: ["/bin/app", "--ready"]
          volumeMounts:
            - name: contrast-secrets
              mountPath: /contrast
              readOnly: true
`;

async function golden(profile: PolicyProfile): Promise<{ policy: string; stream: HonestStream }> {
  const src = images();
  const generated = await generatePolicies(POD, { images: src, profile });
  const [built] = await honestRequestsForYaml(POD, { images: src, profile });
  const policy = generated.workloads[0]?.policy;
  if (policy === undefined || built === undefined) throw new Error("no workload");
  return { policy, stream: built.stream };
}

function denied(policy: string, requests: readonly { name: string; input: unknown }[]) {
  const agent = new AgentPolicy(policy);
  return agent
    .decideAll(requests as { name: string; input: never }[])
    .filter((d) => !d.allowed)
    .map((d) => `${d.request}: ${(d.reasons ?? []).map((r) => r.message).join("; ")}`);
}

const aks = () => policyProfile("aks-clh-snp");

function lastCreate(stream: HonestStream): Req {
  const creates = stream.requests.filter((r) => r.name === "CreateContainerRequest");
  return structuredClone(creates[creates.length - 1]?.input) as Req;
}

/** The stream up to (not including) the last CreateContainerRequest, with that one replaced. */
function withLast(stream: HonestStream, input: Req) {
  const reqs = stream.requests;
  let last = -1;
  for (const [i, r] of reqs.entries()) if (r.name === "CreateContainerRequest") last = i;
  return [...reqs.slice(0, last), { name: "CreateContainerRequest", input }];
}

const PREFIX_OPTION = "io.katacontainers.fs-opt.layer-src-prefix=";

describe("AKS-CLH-SNP profile: golden requests of the fork's runtime", () => {
  it("are allowed by the policy generated under the same profile", async () => {
    const { policy, stream } = await golden(aks());
    expect(denied(policy, stream.requests)).toEqual([]);
    const names = stream.requests.map((r) => r.name);
    expect(names.filter((n) => n === "CreateContainerRequest").length).toBe(3);
    expect(names).toContain("ExecProcessRequest");
    // No shared filesystem: the runtime copies /etc/hosts, resolv.conf, the token volume, ….
    expect(names.filter((n) => n === "CopyFileRequest").length).toBeGreaterThan(10);
  });

  it("carry the tardev layers with Contrast's snapshotter directory, the shared-fs emptyDir and OCI 1.1.0-rc.1", async () => {
    const { stream } = await golden(aks());
    const app = lastCreate(stream);
    expect(app.OCI.Version).toBe("1.1.0-rc.1");
    expect(app.OCI.Root.Path).toBe(`/run/kata-containers/shared/containers/${app.container_id}`);
    const overlay = app.storages.find((s: Req) => s.driver === "overlayfs");
    expect(overlay.fstype).toBe("fuse3.kata-overlay");
    expect(overlay.options[0]).toMatch(
      /^io\.katacontainers\.fs-opt\.layer-src-prefix=\/var\/lib\/containerd\/io\.containerd\.snapshotter\.v1\.tardev-contrast-cc-aks-clh-snp-[0-9a-f]{8}\/layers$/,
    );
    // The top layer first; its option is base64 of the snapshotter's layer description.
    const top = fromUtf8(fromBase64(overlay.options[1].replace("io.katacontainers.fs-opt.layer=", "")));
    expect(top).toMatch(
      /^[0-9a-f]{64},tar,ro,io\.katacontainers\.fs-opt\.block_device=file,io\.katacontainers\.fs-opt\.is-layer,io\.katacontainers\.fs-opt\.root-hash=3e180656327e86fa7aa220ff278695f1df2a2679e1aa80e8a454ccf0460c7d39$/,
    );
    const local = app.storages.find((s: Req) => s.driver === "local");
    const sandbox = app.OCI.Annotations["io.kubernetes.cri.sandbox-id"];
    expect(local.mount_point).toBe(`/run/kata-containers/shared/containers/${sandbox}/local/contrast-secrets`);
    expect(app.OCI.Mounts.find((m: Req) => m.destination === "/contrast")).toEqual({
      destination: "/contrast",
      source: local.mount_point,
      type_: "local",
      options: ["rbind", "rprivate", "ro"],
    });
    expect(app.OCI.Linux.Sysctl).toEqual({});
  });

  it("have the shape of real requests the fork's agent saw on AKS (microsoft/regorus test data)", async () => {
    const real = realCreates("pod-persistent-volumes").filter(
      (r) => r.OCI.Annotations["io.kubernetes.cri.container-type"] === "container",
    )[0] as Req;
    const { stream } = await golden(aks());
    const ours = lastCreate(stream);
    // The real pod's storages: its layers, the overlay, a Memory emptyDir and a shared-fs emptyDir.
    const realImage = real.storages.filter((s: Req) => s.driver === "blk" || s.driver === "overlayfs");
    const oursImage = ours.storages.filter((s: Req) => s.driver === "blk" || s.driver === "overlayfs");
    expect(oursImage.map(shape)).toEqual([
      ...Array(oursImage.length - 1).fill(shape(realImage[0])),
      shape(realImage.at(-1)),
    ]);
    const realLocal = real.storages.find((s: Req) => s.driver === "local");
    expect(shape(ours.storages.find((s: Req) => s.driver === "local"))).toEqual(shape(realLocal));
    expect(ours.OCI.Version).toBe(real.OCI.Version);
    expect(shapeOf(ours.OCI.Root.Path, ours)).toBe(shapeOf(real.OCI.Root.Path, real));
    expect(ours.OCI.Linux.Sysctl).toEqual(real.OCI.Linux.Sysctl);
  });
});

describe("AKS-CLH-SNP profile: the pause and app containers as the fork's runtime presents them", () => {
  const WEB = `apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: default}
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: ${IMAGE}
`;
  const mounts = (r: Req) => (r.OCI.Mounts as Req[]).map((m) => [m.destination, m.type_, m.options]);

  it("copy the shared files before each container as the real AKS stream does (microsoft/regorus 'web')", async () => {
    const [built] = await honestRequestsForYaml(WEB, { images: images(), profile: aks() });
    const form = (kind: string, input: Req) =>
      kind === "CopyFileRequest"
        ? `copy ${String(input.path)
            .replace(/^\/run\/kata-containers\/shared\/containers\/[0-9a-f]{64}-[0-9a-f]{16}-/, "")
            .replace(/\.\.\d{4}(_\d\d){5}\.\d+/g, "<stamp>")} ${(input.file_mode as number).toString(8)} ${String(
            input.symlink_src,
          ).replace(/\.\.\d{4}(_\d\d){5}\.\d+/g, "<stamp>")}`
        : kind;
    const sequence = (reqs: [string, Req][]) =>
      reqs
        .filter(([k]) => k === "CopyFileRequest" || k === "CreateContainerRequest")
        .map(([k, i]) => form(k, i))
        // The real pod mounts a volume more (/usr/share/nginx/html, with its lost+found).
        .filter((x) => !x.includes("html"));
    const ours = (built?.stream.requests ?? []).map((r) => [r.name, r.input as Req] as [string, Req]);
    expect(sequence(ours)).toEqual(sequence(realRequests("web")));
  });

  it("match a real AKS stream (microsoft/regorus 'web') in mounts, process and Linux fields", async () => {
    const [realPause, realApp] = realCreates("web") as [Req, Req];
    const [built] = await honestRequestsForYaml(WEB, { images: images(), profile: aks() });
    const creates = (built?.stream.requests ?? []).filter((r) => r.name === "CreateContainerRequest");
    const pause = creates[0]?.input as Req;
    const app = creates[1]?.input as Req;
    expect(mounts(pause)).toEqual(mounts(realPause));
    // The real pod mounts one volume more (/usr/share/nginx/html); everything else is the runtime's.
    expect(mounts(app)).toEqual(mounts(realApp).filter((m) => m[0] !== "/usr/share/nginx/html"));
    const { Capabilities: _p, ...pauseProcess } = pause.OCI.Process;
    const { Capabilities: _r, ...realPauseProcess } = realPause.OCI.Process;
    expect(pauseProcess).toEqual(realPauseProcess);
    for (const [ours, real] of [
      [pause, realPause],
      [app, realApp],
    ] as const) {
      expect(ours.OCI.Version).toBe(real.OCI.Version);
      expect(ours.OCI.Linux.Namespaces).toEqual(real.OCI.Linux.Namespaces);
      expect(ours.OCI.Linux.Sysctl).toEqual(real.OCI.Linux.Sysctl);
      expect([...ours.OCI.Linux.MaskedPaths].sort()).toEqual([...real.OCI.Linux.MaskedPaths].sort());
      expect(ours.OCI.Linux.ReadonlyPaths).toEqual(real.OCI.Linux.ReadonlyPaths);
      expect(ours.OCI.Root.Path.replace(ours.container_id, "<id>")).toBe(
        real.OCI.Root.Path.replace(real.container_id, "<id>"),
      );
      expect(ours.OCI.Root.Readonly).toBe(real.OCI.Root.Readonly);
    }
  });
});

/** A storage with its values replaced by their form (ids, hashes, addresses, base64). */
function shape(s: Req): Req {
  return {
    driver: s.driver,
    driver_options: s.driver_options,
    source: String(s.source).replace(/^[0-9a-f]{4}:00:[0-9a-f]{2}\.0$/, "<pci>"),
    fstype: s.fstype,
    options: (s.options as string[])
      .map((o) =>
        o
          .replace(/^(io\.katacontainers\.fs-opt\.layer=).*$/, (_m, k: string) => {
            const decoded = fromUtf8(fromBase64(o.slice(k.length)));
            return `${k}base64(${decoded.replace(/[0-9a-f]{64}/g, "<h>")})`;
          })
          .replace(/^(lowerdir=).*$/, "$1<names>")
          .replace(/layer-src-prefix=.*$/, "layer-src-prefix=<dir>")
          .replace(/[0-9a-f]{64}/g, "<h>"),
      )
      // One entry per layer: the number of layers is the image's, not part of the shape.
      .filter((o, i, all) => i === 0 || o !== all[i - 1]),
    mount_point: String(s.mount_point)
      .replace(/[0-9a-f]{64}/g, "<h>")
      .replace(/\/[a-z0-9-]+$/, "/<name>"),
    fs_group: s.fs_group ?? null,
  };
}

function shapeOf(path: string, req: Req): string {
  return path.replace(req.container_id, "<cid>");
}

/** CreateContainerRequest inputs of a regorus Kata case ("["ep":"<Name>",{json}]," per line). */
function realCreates(name: string): Req[] {
  const text = readFileSync(new URL(`../../../testdata/rego/regorus-kata/${name}/inputs.txt`, import.meta.url), "utf8");
  return text
    .split("\n")
    .map((l) => l.trim().replace(/,$/, ""))
    .filter((l) => l.startsWith('["ep":"CreateContainerRequest"'))
    .map((l) => (JSON.parse(l.replace('["ep":', '["ep",')) as [string, string, Req])[2]);
}

describe("AKS-CLH-SNP profile: tampered requests are denied", () => {
  const cases: [string, (r: Req) => void][] = [
    [
      "stock Kata's snapshotter directory",
      (r) => {
        overlayOf(r).options[0] = `${PREFIX_OPTION}/var/lib/containerd/io.containerd.snapshotter.v1.tardev/layers`;
      },
    ],
    [
      "a directory with more after Contrast's (upstream's regex is unanchored, ours is not)",
      (r) => {
        overlayOf(r).options[0] += "/../../../evil/layers";
      },
    ],
    [
      "a runtime handler whose hash is not 8 hex digits",
      (r) => {
        overlayOf(r).options[0] = overlayOf(r).options[0].replace(/-[0-9a-f]{8}\/layers$/, "-evil0000/layers");
      },
    ],
    [
      "a layer option naming another root hash",
      (r) => {
        const o = overlayOf(r);
        const decoded = fromUtf8(fromBase64(o.options[1].replace("io.katacontainers.fs-opt.layer=", "")));
        o.options[1] = `io.katacontainers.fs-opt.layer=${toBase64(utf8(decoded.replace(/root-hash=[0-9a-f]{4}/, "root-hash=0000")))}`;
      },
    ],
    [
      "a layer option in plain text (stock Kata's encoding)",
      (r) => {
        const o = overlayOf(r);
        o.options[1] = `io.katacontainers.fs-opt.layer=${fromUtf8(fromBase64(o.options[1].replace("io.katacontainers.fs-opt.layer=", "")))}`;
      },
    ],
    [
      "a layer device with another root hash",
      (r) => {
        const blk = r.storages.find((s: Req) => s.driver === "blk");
        blk.options[3] = blk.options[3].replace(/=[0-9a-f]{4}/, "=0000");
      },
    ],
    [
      "the overlay as stock Kata's tar-overlay",
      (r) => {
        overlayOf(r).fstype = "tar-overlay";
      },
    ],
    ["OCI version 1.2.0", (r) => (r.OCI.Version = "1.2.0")],
    ["OCI version 1.1.0", (r) => (r.OCI.Version = "1.1.0")],
    [
      "the root at stock Kata's guest-pull path",
      (r) => {
        r.OCI.Root.Path = `/run/kata-containers/${r.container_id}/rootfs`;
        overlayOf(r).mount_point = r.OCI.Root.Path;
      },
    ],
    [
      "the emptyDir below rootfs/ (stock Kata's shared-fs path)",
      (r) => {
        const local = r.storages.find((s: Req) => s.driver === "local");
        const moved = local.mount_point.replace("/local/", "/rootfs/local/");
        for (const m of r.OCI.Mounts) if (m.source === local.mount_point) m.source = moved;
        local.mount_point = moved;
      },
    ],
    ["a sysctl", (r) => (r.OCI.Linux.Sysctl = { "net.ipv4.ip_unprivileged_port_start": "0" })],
    [
      "a cgroup mount with an option a newer kernel adds (stock Kata accepts it)",
      (r) => r.OCI.Mounts.find((m: Req) => m.type_ === "cgroup").options.push("nsdelegate"),
    ],
    [
      "a UDP service variable (the fork allows TCP ones only)",
      (r) => r.OCI.Process.Env.push("DNS_PORT_53_UDP_PROTO=udp"),
    ],
  ];

  for (const [what, change] of cases) {
    it(what, async () => {
      const { policy, stream } = await golden(aks());
      const input = lastCreate(stream);
      expect(denied(policy, withLast(stream, input))).toEqual([]);
      change(input);
      const out = denied(policy, withLast(stream, input));
      expect(out.length, what).toBe(1);
      expect(out[0]).toMatch(/^CreateContainerRequest: container "app": /);
      expect(out[0]).toContain(REASONS[what]);
    });
  }

  it("accepts another Contrast runtime's snapshotter directory (patch 0004 matches any platform spelling it lists)", async () => {
    const { policy, stream } = await golden(aks());
    const input = lastCreate(stream);
    overlayOf(input).options[0] =
      `${PREFIX_OPTION}/var/lib/containerd/io.containerd.snapshotter.v1.tardev-contrast-cc-k3s-qemu-snp-0123abcd/layers`;
    expect(denied(policy, withLast(stream, input))).toEqual([]);
  });

  it("accepts TCP service variables named as the fork's $(svc_name) allows", async () => {
    const { policy, stream } = await golden(aks());
    const input = lastCreate(stream);
    input.OCI.Process.Env.push("KUBERNETES_SERVICE_HOST=10.0.0.1", "KUBERNETES_PORT_443_TCP_PROTO=tcp");
    expect(denied(policy, withLast(stream, input))).toEqual([]);
  });
});

/** What `policy check` says for each tamper, in the user's words. */
const REASONS: Record<string, string> = {
  "stock Kata's snapshotter directory":
    'snapshotter directory "/var/lib/containerd/io.containerd.snapshotter.v1.tardev/layers" does not match',
  "a directory with more after Contrast's (upstream's regex is unanchored, ours is not)":
    '/layers/../../../evil/layers" does not match',
  "a runtime handler whose hash is not 8 hex digits": '-evil0000/layers" does not match',
  "a layer option naming another root hash": "root-hash=0000",
  "a layer option in plain text (stock Kata's encoding)": "layer overlay: option 1",
  "a layer device with another root hash": "image layers differ",
  "the overlay as stock Kata's tar-overlay": 'layer overlay: fstype "tar-overlay", policy "fuse3.kata-overlay"',
  "OCI version 1.2.0": 'OCI version: policy "1.1.0-rc.1", request "1.2.0"',
  "OCI version 1.1.0": 'OCI version: policy "1.1.0-rc.1", request "1.1.0"',
  "the root at stock Kata's guest-pull path":
    'is not the policy\'s "/run/kata-containers/shared/containers/$(bundle-id)"',
  "the emptyDir below rootfs/ (stock Kata's shared-fs path)":
    '/rootfs/local/contrast-secrets", policy "^$(cpath)/$(sandbox-id)/local/contrast-secrets$"',
  "a sysctl": "sysctl net.ipv4.ip_unprivileged_port_start=0 is not allowed",
  "a cgroup mount with an option a newer kernel adds (stock Kata accepts it)": "mount /sys/fs/cgroup",
  "a UDP service variable (the fork allows TCP ones only)": "env DNS_PORT_53_UDP_PROTO=udp is not allowed",
};

function overlayOf(r: Req): Req {
  return r.storages.find((s: Req) => s.driver === "overlayfs");
}

describe("AKS-CLH-SNP profile: mount propagation (Contrast's patches 0005, 0006, 0010 to the fork)", () => {
  const SIDECAR = POD.replace(
    "              mountPath: /contrast\n              readOnly: true\n",
    "              mountPath: /contrast\n              mountPropagation: HostToContainer\n",
  );

  it("an emptyDir mounted HostToContainer arrives rslave with the spec's RootfsPropagation, and is allowed", async () => {
    expect(SIDECAR).not.toBe(POD);
    const src = images();
    const generated = await generatePolicies(SIDECAR, { images: src, profile: aks() });
    const [built] = await honestRequestsForYaml(SIDECAR, { images: src, profile: aks() });
    const policy = generated.workloads[0]?.policy ?? "";
    const stream = built?.stream as HonestStream;
    expect(denied(policy, stream.requests)).toEqual([]);
    const app = lastCreate(stream);
    expect(app.OCI.Mounts.find((m: Req) => m.destination === "/contrast").options).toEqual(["rbind", "rslave", "rw"]);
    expect(app.OCI.Linux.RootfsPropagation).not.toBe("");
    // The same request with the mount private is not what the policy says.
    const priv = structuredClone(app);
    priv.OCI.Mounts.find((m: Req) => m.destination === "/contrast").options[1] = "rprivate";
    expect(denied(policy, withLast(stream, priv)).length).toBe(1);
  });
});

describe("AKS-CLH-SNP profile against the other platforms", () => {
  it("reads logs (ReadStreamRequest) where stock Kata and the QEMU platforms do not", async () => {
    const read = { name: "ReadStreamRequest", input: { container_id: "c", exec_id: "c", len: 4096 } };
    const a = await golden(aks());
    expect(denied(a.policy, [read])).toEqual([]);
    const k = await golden(policyProfile("kata"));
    expect(denied(k.policy, [read]).length).toBe(1);
  });

  it("a QEMU platform's runtime is denied by an AKS policy, and AKS's by stock Kata's", async () => {
    const a = await golden(aks());
    const k = await golden(policyProfile("kata"));
    expect(denied(a.policy, k.stream.requests).length).toBeGreaterThan(0);
    expect(denied(k.policy, a.stream.requests).length).toBeGreaterThan(0);
  });

  it("pins the modelled fork version, the facts and the settings: changing any fails here", () => {
    const p = aks();
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    expect({
      tag: AKS_GENPOLICY_TAG,
      genpolicy: p.upstream.genpolicy,
      facts: p.facts.map((f) => f.id),
      patch: sha(JSON.stringify(AKS_SETTINGS_PATCH)),
      settings: sha(settingsToJson(p.settings)),
    }).toEqual({
      tag: "3.2.0.azl4",
      genpolicy: "microsoft/kata-containers@3.2.0.azl4 + Contrast patches 0001-0010",
      facts: AKS_PINNED_FACTS,
      patch: "825638cd9b8e90cec57c9364ea0f73970f051c44c3b809a5c16e970998dad75e",
      settings: "16492d644dffa513b29da7bf20a3327e6061ef09f024e02fd86a1d6105a4406f",
    });
  });

  it("the profile's settings say what the facts say", () => {
    const p = aks();
    expect(p.flavour).toBe("microsoft");
    expect(p.upstream.genpolicy).toContain("microsoft/kata-containers@3.2.0.azl4");
    expect(p.settings.kata_config.oci_version).toBe("1.1.0-rc.1");
    expect(p.settings.cluster_config.guest_pull).toBe(false);
    expect(p.settings.cluster_config.emptydir_type).toBe("shared-fs");
    expect(p.runtime.ociVersion).toBe("1.1.0-rc.1");
    // Contrast's patches 0005, 0006 and 0010 to the fork, through the QEMU profiles' switches.
    expect(p.settings.cluster_config.emptydir_mount_propagation).toBe(true);
    expect(p.settings.cluster_config.check_rootfs_propagation).toBe(false);
    expect(p.facts.map((f) => f.id)).toEqual(AKS_PINNED_FACTS);
  });
});

const AKS_PINNED_FACTS = [
  "oci-version-1-1-0-rc1",
  "host-pull-tardev",
  "tardev-overlay-format",
  "contrast-layer-src-prefix",
  "root-under-shared-dir",
  "cpath-without-passthrough",
  "emptydir-shared-local",
  "mount-propagation",
  "no-default-sysctls",
  "cgroup-options-exact",
  "copyfile-mode-form",
  "read-stream-allowed",
  "env-regex-fork",
  "tarfs-long-symlinks",
];

const FUZZ_RUNS = fuzzRuns(100);

describe("AKS-CLH-SNP profile: the snapshotter directory check (property)", () => {
  const hex8 = fc.stringMatching(/^[0-9a-f]{8}$/);
  const contrastDir = fc
    .tuple(fc.constantFrom("aks", "k3s", "rke2"), fc.constantFrom("qemu", "clh"), fc.constantFrom("snp", "tdx"), hex8)
    .map(
      ([k, v, t, h]) =>
        `/var/lib/containerd/io.containerd.snapshotter.v1.tardev-contrast-cc-${k}-${v}-${t}-${h}/layers`,
    );
  const mutated = fc
    .tuple(contrastDir, fc.nat(), fc.string({ minLength: 1, maxLength: 8 }))
    .map(([d, at, ins]) => d.slice(0, at % (d.length + 1)) + ins + d.slice(at % (d.length + 1)));
  const dirs = fc.oneof(contrastDir, mutated, fc.string({ maxLength: 120 }));

  it("allows exactly the directories the anchored regex accepts, and explains every denial", async () => {
    const { policy, stream } = await golden(aks());
    const compiled = Policy.compile({ file: "policy.rego", source: policy });
    const honest = lastCreate(stream);
    const oracle = new RegExp(AKS_LAYER_SRC_PREFIX_REGEX);
    await fc.assert(
      fc.asyncProperty(dirs, async (dir) => {
        const input = structuredClone(honest);
        overlayOf(input).options[0] = `${PREFIX_OPTION}${dir}`;
        const d = new AgentPolicy(compiled).decide("CreateContainerRequest", input);
        expect(d.allowed).toBe(oracle.test(dir));
        if (!d.allowed) expect((d.reasons ?? []).some((r) => r.message.includes("snapshotter directory"))).toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  }, 120_000);

  it("denies any other layer option text, and explains it without failing on undecodable bytes", async () => {
    const { policy, stream } = await golden(aks());
    const compiled = Policy.compile({ file: "policy.rego", source: policy });
    const honest = lastCreate(stream);
    const texts = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.base64String({ maxLength: 200 }),
      fc.uint8Array().map((b) => toBase64(b)),
    );
    await fc.assert(
      fc.asyncProperty(texts, async (text) => {
        const input = structuredClone(honest);
        const before = overlayOf(input).options[1];
        const option = `io.katacontainers.fs-opt.layer=${text}`;
        fc.pre(option !== before);
        overlayOf(input).options[1] = option;
        const d = new AgentPolicy(compiled).decide("CreateContainerRequest", input);
        expect(d.allowed).toBe(false);
        expect((d.reasons ?? []).some((r) => r.message.includes("layer overlay: option 1"))).toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  }, 120_000);
});

describe("AKS-CLH-SNP profile: real requests of the fork's runtime that name no container", () => {
  const KINDS = [
    "CopyFileRequest",
    "UpdateInterfaceRequest",
    "UpdateRoutesRequest",
    "UpdateEphemeralMountsRequest",
    "GuestDetailsRequest",
    "OnlineCPUMemRequest",
    "GetOOMEventRequest",
  ];
  const CASES = [
    "pod-cm1",
    "pod-cm2",
    "pod-exec",
    "pod-lifecycle",
    "pod-many-layers",
    "pod-persistent-volumes",
    "pod-same-containers",
    "web",
    "web2",
  ];

  it("are decided as the fork's policy decided them (microsoft/regorus streams and decisions)", async () => {
    const { policy } = await golden(aks());
    const compiled = Policy.compile({ file: "policy.rego", source: policy });
    const got: string[] = [];
    const want: string[] = [];
    for (const name of CASES) {
      const requests = realRequests(name);
      const decisions = JSON.parse(
        readFileSync(new URL(`../../../testdata/rego/regorus-kata/${name}/outputs.json`, import.meta.url), "utf8"),
      ) as boolean[];
      requests.forEach(([kind, input], i) => {
        if (!KINDS.includes(kind)) return;
        const d = new AgentPolicy(compiled).decide(kind, input as never);
        got.push(`${name} #${i} ${kind}: ${d.allowed}`);
        want.push(`${name} #${i} ${kind}: ${decisions[i]}`);
      });
    }
    expect(got.filter((g) => g.includes("CopyFileRequest")).length).toBe(228);
    expect(got).toEqual(want);
  });
});

describe("AKS-CLH-SNP profile: copies in the fork's request form, tampered", () => {
  const DIR =
    "/run/kata-containers/shared/containers/e0735049b06564545e5d65b9cb5ef0504ed9b5591b4c3ab224f650347745fdc8-f6e224b8e9e0262c-serviceaccount";
  const copy = (path: string, mode: number, symlinkSrc = "") => ({
    path,
    file_size: 0,
    file_mode: mode,
    dir_mode: 2147484136,
    uid: 0,
    gid: 0,
    offset: 0,
    symlink_src: symlinkSrc,
  });
  const cases: [string, Req, boolean][] = [
    ["a regular file in a shared directory", copy(`${DIR}/token`, 0o100600), true],
    ["a relative symlink below it", copy(`${DIR}/ca.crt`, 0o120777, "..data/ca.crt"), true],
    ["a symlink to an absolute target", copy(`${DIR}/ca.crt`, 0o120777, "/etc/shadow"), false],
    ["a symlink leaving the directory", copy(`${DIR}/ca.crt`, 0o120777, "../../../../etc/shadow"), false],
    ["a symlink as the top-level shared file", copy(DIR, 0o120777, "..data"), false],
    ["a character device", copy(`${DIR}/tty`, 0o020666), false],
    ["a file outside the shared directory", copy("/etc/ld.so.preload", 0o100644), false],
    ["a path with ..", copy(`${DIR}/../../../../etc/ld.so.preload`, 0o100644), false],
  ];

  for (const [what, input, allowed] of cases) {
    it(`${what}: ${allowed ? "allowed" : "denied"}`, async () => {
      const { policy } = await golden(aks());
      expect(new AgentPolicy(policy).decide("CopyFileRequest", input as never).allowed).toBe(allowed);
    });
  }
});

/** Every request of a regorus Kata case as [name, input]. */
function realRequests(name: string): [string, Req][] {
  const text = readFileSync(new URL(`../../../testdata/rego/regorus-kata/${name}/inputs.txt`, import.meta.url), "utf8");
  return text
    .split("\n")
    .map((l) => l.trim().replace(/,$/, ""))
    .filter((l) => l.startsWith('["ep":'))
    .map((l) => {
      const [, kind, input] = JSON.parse(l.replace('["ep":', '["ep",')) as [string, string, Req];
      return [kind, input];
    });
}
