import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  decodePolicyAnnotation,
  generatePolicies,
  POLICY_ANNOTATION,
  PolicyError,
  policyHash,
  policyHashOfAnnotation,
  writeWorkspaceDefaults,
} from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const images = fixtureImages();

const podSpec = (extra = "") => `
      runtimeClassName: contrast-cc
      containers:
        - name: app
          image: ${IMAGE}${extra}`;

const ALL_KINDS = `
apiVersion: v1
kind: Service
metadata: {name: web}   # kept as written
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec:${podSpec().replace(/^ {4}/gm, "")}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d1, namespace: shop}
spec:
  template:
    spec:${podSpec()}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s1}
spec:
  template:
    spec:${podSpec()}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds1}
spec:
  template:
    spec:${podSpec()}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs1}
spec:
  template:
    spec:${podSpec()}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc1}
spec:
  template:
    spec:${podSpec()}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j1}
spec:
  template:
    spec:${podSpec()}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c1}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:${podSpec().replace(/^ {6}/gm, "          ")}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: in-list}
    spec:
      runtimeClassName: contrast-cc-aks-clh-snp-1234
      containers: [{name: app, image: "${IMAGE}"}]
---
apiVersion: v1
kind: Pod
metadata: {name: not-confidential}
spec:
  containers: [{name: app, image: "${IMAGE}"}]
`;

describe("generatePolicies", () => {
  it("annotates every workload kind and leaves other objects as written", async () => {
    const r = await generatePolicies(ALL_KINDS, { images });
    expect(r.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual([
      "Pod/p1",
      "Deployment/d1",
      "StatefulSet/s1",
      "DaemonSet/ds1",
      "ReplicaSet/rs1",
      "ReplicationController/rc1",
      "Job/j1",
      "CronJob/c1",
      "Pod/in-list",
    ]);
    expect(r.workloads[1]?.workloadId).toBe("apps/v1/Deployment/shop/d1");
    expect(r.workloads[0]?.workloadId).toBe("core/v1/Pod/default/p1");
    // The Service and the non-confidential pod keep their exact text, comments included.
    expect(r.yaml).toContain("metadata: {name: web}   # kept as written");
    expect(r.yaml).toContain("metadata: {name: not-confidential}\nspec:\n  containers: [{name: app,");
    const docs = r.yaml
      .split(/^---\n/m)
      .filter((d) => d !== "")
      // biome-ignore lint/suspicious/noExplicitAny: the test walks parsed YAML of known shape
      .map((d) => load(d) as any);
    const cron = docs[8];
    const value = cron.spec.jobTemplate.spec.template.metadata.annotations[POLICY_ANNOTATION];
    expect(policyHashOfAnnotation(value)).toBe(r.workloads[7]?.policyHash);
    expect(policyHash(decodePolicyAnnotation(value))).toBe(r.workloads[7]?.policyHash);
    expect(docs[10].metadata.annotations).toBeUndefined();
    expect(docs[1].metadata.annotations[POLICY_ANNOTATION]).toBeTypeOf("string");
  });

  it("is deterministic: the same input gives the same policy hashes", async () => {
    const a = await generatePolicies(ALL_KINDS, { images });
    const b = await generatePolicies(ALL_KINDS, { images });
    expect(a.workloads.map((w) => w.policyHash)).toEqual(b.workloads.map((w) => w.policyHash));
    expect(new Set(a.workloads.map((w) => w.policyHash)).size).toBe(a.workloads.length);
  });

  it("rejects unknown pod-spec fields with their path, or warns when not strict", async () => {
    const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  runtimeClassName: contrast-cc\n  containers:\n    - name: a\n      image: ${IMAGE}\n      bogusField: 1\n`;
    const err = await generatePolicies(yaml, { images }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).code).toBe("POLICY_UNSUPPORTED_FIELD");
    expect((err as PolicyError).path).toBe("spec.containers[0].bogusField");
    const r = await generatePolicies(yaml, { images, strict: false });
    expect(r.warnings.map((w) => w.code)).toEqual(["POLICY_UNSUPPORTED_FIELD"]);
    expect(r.workloads).toHaveLength(1);
  });

  it("warns about images that are not pinned by digest", async () => {
    const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  runtimeClassName: contrast-cc\n  containers: [{name: a, image: "quay.io/prometheus/busybox:latest"}]\n`;
    const r = await generatePolicies(yaml, { images });
    expect(r.warnings.map((w) => w.code)).toEqual(["POLICY_IMAGE_UNPINNED"]);
    // The policy pins the digest the image resolved to.
    expect(r.workloads[0]?.policyData.containers[1]?.OCI.Annotations["io.kubernetes.cri.image-name"]).toMatch(
      /^quay\.io\/prometheus\/busybox:latest@sha256:[0-9a-f]{64}$/,
    );
  });

  it("resolves env from ConfigMaps, Secrets and the downward API, and fails on a missing reference", async () => {
    const yaml = `
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {LEVEL: info, other: x}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {TOKEN: c2VjcmV0}
---
apiVersion: v1
kind: Pod
metadata: {name: p, labels: {tier: front}}
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: a
      image: ${IMAGE}
      command: ["/pause", "$(LEVEL)", "$$(LEVEL)"]
      env:
        - {name: LEVEL, valueFrom: {configMapKeyRef: {name: cm, key: LEVEL}}}
        - {name: TOKEN, valueFrom: {secretKeyRef: {name: sec, key: TOKEN}}}
        - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
        - {name: OPT, valueFrom: {configMapKeyRef: {name: nope, key: x, optional: true}}}
      envFrom:
        - {configMapRef: {name: cm}, prefix: CM_}
`;
    const r = await generatePolicies(yaml, { images });
    const p = r.workloads[0]?.policyData.containers[1]?.OCI.Process;
    expect(p?.Env).toEqual(
      expect.arrayContaining([
        "LEVEL=info",
        "TOKEN=secret",
        "NAME=$(sandbox-name)",
        "TIER=front",
        "CM_LEVEL=info",
        "CM_other=x",
      ]),
    );
    expect(p?.Env.some((e) => e.startsWith("OPT="))).toBe(false);
    expect(p?.Args).toEqual(["/pause", "info", "$$(LEVEL)"]);
    const missing = yaml.replace("name: cm, key: LEVEL", "name: gone, key: LEVEL");
    await expect(generatePolicies(missing, { images })).rejects.toMatchObject({ code: "POLICY_CONFIG_REF_MISSING" });
  });

  it("maps users, groups and capabilities from security contexts and the image", async () => {
    const yaml = `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  runtimeClassName: contrast-cc
  securityContext: {runAsUser: 1000, fsGroup: 2000, supplementalGroups: [3000]}
  containers:
    - name: a
      image: ${IMAGE}
      securityContext: {runAsGroup: 10, capabilities: {add: [NET_ADMIN], drop: [KILL]}, allowPrivilegeEscalation: false}
    - name: b
      image: ${IMAGE}
      securityContext: {privileged: true}
`;
    const r = await generatePolicies(yaml, { images });
    const [, a, b] = r.workloads[0]?.policyData.containers ?? [];
    expect(a?.OCI.Process.User).toEqual({ UID: 1000, GID: 10, AdditionalGids: [10, 2000, 3000], Username: "" });
    expect(a?.OCI.Process.Capabilities.Bounding).toContain("CAP_NET_ADMIN");
    expect(a?.OCI.Process.Capabilities.Bounding).not.toContain("CAP_KILL");
    expect(a?.OCI.Process.NoNewPrivileges).toBe(true);
    expect(b?.OCI.Process.Capabilities.Bounding).toEqual(["$(privileged_caps)"]);
    expect(b?.OCI.Linux.MaskedPaths).toEqual([]);
    expect(b?.OCI.Mounts.find((m) => m.destination === "/sys")?.options).toContain("rw");
  });

  it("looks the image user up in /etc/passwd and /etc/group from the layers", async () => {
    const img = {
      digest: `sha256:${"1".repeat(64)}`,
      config: { User: "app", Entrypoint: ["/app"] },
      layers: [
        {
          diffId: `sha256:${"2".repeat(64)}`,
          verityHash: "3".repeat(64),
          passwd: "root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n",
          group: "root:x:0:\napp:x:1002:\naudio:x:29:app,other\n",
        },
      ],
    };
    const ref = `example.com/app@sha256:${"1".repeat(64)}`;
    const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  runtimeClassName: contrast-cc\n  containers: [{name: a, image: "${ref}"}]\n`;
    const r = await generatePolicies(yaml, { images: fixtureImages({ [ref]: img }) });
    expect(r.workloads[0]?.policyData.containers[1]?.OCI.Process.User).toEqual({
      UID: 1001,
      GID: 1002,
      AdditionalGids: [29, 1002],
      Username: "",
    });
  });

  it("reports a pod without a name and a volumeMount without a volume", async () => {
    const noName = `apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  runtimeClassName: contrast-cc\n  containers: [{name: a, image: "${IMAGE}"}]\n`;
    await expect(generatePolicies(noName, { images })).rejects.toMatchObject({ code: "POLICY_POD_NAME_MISSING" });
    const noVolume = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  runtimeClassName: contrast-cc\n  containers: [{name: a, image: "${IMAGE}", volumeMounts: [{name: v, mountPath: /v}]}]\n`;
    await expect(generatePolicies(noVolume, { images })).rejects.toMatchObject({ code: "POLICY_VOLUME_MISSING" });
  });

  it("wraps registry failures in POLICY_IMAGE_METADATA", async () => {
    const yaml = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  runtimeClassName: contrast-cc\n  containers: [{name: a, image: "unknown.example/x:1"}]\n`;
    await expect(generatePolicies(yaml, { images })).rejects.toMatchObject({ code: "POLICY_IMAGE_METADATA" });
  });

  it("reports YAML syntax errors with their line", async () => {
    const err = await generatePolicies("a: 1\n---\nb: [1,\n", { images }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "POLICY_YAML_INVALID" });
    expect((err as Error).message).toContain("input:3");
  });
});

describe("writeWorkspaceDefaults", () => {
  it("creates rules.rego and settings.json once and never overwrites", async () => {
    const files = new Map<string, string>();
    const writer = {
      async createExclusive(name: string, content: string) {
        if (files.has(name)) return false;
        files.set(name, content);
        return true;
      },
    };
    expect(await writeWorkspaceDefaults(writer)).toEqual(["rules.rego", "settings.json"]);
    expect(files.get("rules.rego")).toMatch(/^# Default agent policy rules/);
    expect(JSON.parse(files.get("settings.json") ?? "")).toHaveProperty("cluster_config.pause_container_image");
    expect(await writeWorkspaceDefaults(writer)).toEqual([]);
  });
});

describe("pinning images", () => {
  const yaml = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  runtimeClassName: contrast-cc
  containers: [{name: a, image: "quay.io/prometheus/busybox:latest"}]
`;

  it("warns about a tag, or rewrites it to the digest the policy was made for", async () => {
    const plain = await generatePolicies(yaml, { images: fixtureImages() });
    expect(plain.warnings.map((w) => w.code)).toEqual(["POLICY_IMAGE_UNPINNED"]);
    const pinned = await generatePolicies(yaml, { images: fixtureImages(), pinImages: true });
    expect(pinned.warnings).toEqual([]);
    const image = (await fixtureImages().get("quay.io/prometheus/busybox:latest")).digest;
    expect(pinned.yaml).toContain(`"quay.io/prometheus/busybox:latest@${image}"`);
    expect(plain.yaml).not.toContain("@sha256");
    // Both policies name the resolved digest. The unpinned pod's also keeps the tag, since its
    // runtime may ask the guest to pull by tag; the pinned pod's allows a pull by digest only.
    const name = (r: typeof plain) =>
      r.workloads[0]?.policyData.containers[1]?.OCI.Annotations["io.kubernetes.cri.image-name"];
    expect(name(plain)).toBe(`quay.io/prometheus/busybox:latest@${image}`);
    expect(name(pinned)).toBe(`quay.io/prometheus/busybox@${image}`);
  });
});
