import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Finding, YamlFile } from "../src/findings.js";
import { type LintOptions, lintWorkloads, parseCdiGpuDevices, podVmMemory } from "../src/lints.js";
import { MIB, parseQuantity } from "../src/quantity.js";
import { parseYamlDocuments } from "../src/yaml.js";
import { KINDS, workload, yaml } from "./kinds.js";

const RUNS = fuzzRuns(200);
const DIGEST = `@sha256:${"e".repeat(64)}`;
const METAL: LintOptions = { podOverheadMiB: 512, bareMetal: true };
const file = (...objects: unknown[]): YamlFile => ({
  source: "w.yml",
  documents: parseYamlDocuments(objects.map((o) => `---\n${yaml(o)}`).join(""), "w.yml"),
});
const codes = (findings: readonly Finding[]) => findings.map((f) => `${f.code}:${f.container ?? ""}`);
const container = (
  name: string,
  memory?: { limit?: string; request?: string },
  extra: Record<string, unknown> = {},
) => ({
  name,
  image: `registry.example/${name}${DIGEST}`,
  ...(memory === undefined
    ? {}
    : {
        resources: {
          ...(memory.limit === undefined ? {} : { limits: { memory: memory.limit } }),
          ...(memory.request === undefined ? {} : { requests: { memory: memory.request } }),
        },
      }),
  ...extra,
});
const pod = (containers: unknown[], rest: Record<string, unknown> = {}) => ({
  runtimeClassName: "contrast-cc",
  containers,
  ...rest,
});

describe("parseQuantity", () => {
  it.each([
    ["128Mi", 128 * MIB],
    ["1Gi", 1024 * MIB],
    ["0.5Gi", 512 * MIB],
    ["1G", 1e9],
    ["500M", 5e8],
    ["100k", 1e5],
    ["1e3", 1000],
    ["1E6", 1e6],
    ["123", 123],
    [123, 123],
    ["+1Ki", 1024],
    ["1500m", 1.5],
    [".5Mi", 0.5 * MIB],
  ])("%s = %d bytes", (q, bytes) => {
    expect(parseQuantity(q)).toBe(bytes);
  });

  it.each([["1 Gi"], ["Gi"], ["1GB"], ["-1Mi"], ["1mi"], [""], [null], [{}], [Number.NaN], ["1Ki2"]])(
    "%s is not a quantity",
    (q) => {
      expect(parseQuantity(q)).toBeUndefined();
    },
  );

  it("never throws, and binary suffixes scale by 1024 (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (s) => {
        const v = parseQuantity(s);
        expect(v === undefined || (Number.isFinite(v) && v >= 0)).toBe(true);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (n) => {
        expect(parseQuantity(`${n}Gi`)).toBe((parseQuantity(`${n}Mi`) as number) * 1024);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("podVmMemory", () => {
  it("reproduces upstream's example: 128Mi + 64Mi + 256Mi overhead = 448 MiB, init containers excluded", () => {
    const spec = pod([container("my-container", { limit: "128Mi" }), container("my-sidecar", { limit: "64Mi" })], {
      initContainers: [container("init", { limit: "4Gi" })],
    });
    expect(podVmMemory(spec, 256)).toEqual({ containersMiB: 192, totalMiB: 448, unlimited: [] });
  });

  it("lists containers without a limit", () => {
    expect(podVmMemory(pod([container("a"), container("b", { limit: "1Gi" })]), 512)).toEqual({
      containersMiB: 1024,
      totalMiB: 1536,
      unlimited: ["a"],
    });
  });
});

describe("lintWorkloads: memory", () => {
  for (const kind of KINDS) {
    it(`${kind}: missing limits and requests that differ are warned about, the VM size is shown`, () => {
      const spec = pod([
        container("nolimit"),
        container("mismatch", { limit: "256Mi", request: "128Mi" }),
        container("equal", { limit: "1Gi", request: "1024Mi" }),
        container("limitonly", { limit: "64Mi" }),
        container("bad", { limit: "lots" }),
      ]);
      const findings = lintWorkloads(file(workload(kind, "w", spec)), METAL);
      expect(codes(findings)).toEqual([
        "KUBE_MEMORY_LIMIT_MISSING:nolimit",
        "KUBE_MEMORY_REQUEST_MISMATCH:mismatch",
        "KUBE_MEMORY_LIMIT_MISSING:bad",
        "KUBE_POD_VM_MEMORY:",
      ]);
      expect(findings.map((f) => f.severity)).toEqual(["warning", "warning", "warning", "info"]);
      expect(findings[3]?.message).toBe(
        "pod VM memory 1856 MiB = 1344 MiB container limits + 512 MiB runtime overhead (init containers not counted)",
      );
      expect(findings[2]?.message).toMatch(/"lots" is not a Kubernetes quantity/);
      expect(findings.every((f) => f.resource.kind === kind && f.resource.name === "w")).toBe(true);
    });
  }

  it("warns when an init container needs more memory than the containers give the VM", () => {
    const spec = pod([container("app", { limit: "128Mi", request: "128Mi" })], {
      initContainers: [container("big", { limit: "1Gi" }), container("small", { limit: "64Mi" })],
    });
    const findings = lintWorkloads(file(workload("Job", "j", spec)), METAL);
    expect(codes(findings)).toEqual(["KUBE_POD_VM_MEMORY:", "KUBE_POD_VM_MEMORY:big"]);
    expect(findings[1]?.severity).toBe("warning");
  });

  it("looks only at Contrast pods", () => {
    const spec = { runtimeClassName: "runc", containers: [container("a"), { name: "b", image: "b:latest" }] };
    expect(
      lintWorkloads(
        file(workload("Pod", "p", spec), { apiVersion: "v1", kind: "Service", metadata: { name: "s" } }),
        METAL,
      ),
    ).toEqual([]);
  });
});

describe("lintWorkloads: images", () => {
  it("warns about every unpinned image, containers and init containers alike", () => {
    const spec = pod([container("a", { limit: "1Gi", request: "1Gi" }, { image: "nginx:stable" })], {
      initContainers: [
        { name: "i", image: "busybox" },
        { name: "j", image: `busybox${DIGEST}` },
      ],
    });
    const findings = lintWorkloads(file(workload("Pod", "p", spec)), { podOverheadMiB: 256, bareMetal: false });
    expect(codes(findings).filter((c) => c.startsWith("KUBE_IMAGE"))).toEqual([
      "KUBE_IMAGE_UNPINNED:i",
      "KUBE_IMAGE_UNPINNED:a",
    ]);
    expect(findings.find((f) => f.container === "i")?.entry).toBe("busybox");
    // A tag next to a digest is pinned; a truncated digest is not.
    const mixed = pod([
      container("a", { limit: "1Gi", request: "1Gi" }, { image: `nginx:1.27${DIGEST}` }),
      { name: "b", image: "nginx@sha256:abc" },
    ]);
    expect(
      codes(lintWorkloads(file(workload("Pod", "p", mixed)), METAL)).filter((c) => c.startsWith("KUBE_IMAGE")),
    ).toEqual(["KUBE_IMAGE_UNPINNED:b"]);
  });

  it("applies the 10x compressed-size rule on bare metal only, with the looked-up size", () => {
    // nginx:stable, upstream's example: 67 MiB compressed, so about 670 MiB of limit.
    const sizes = new Map([[`nginx${DIGEST}`, 67 * MIB]]);
    const spec = pod([
      container("small", { limit: "256Mi", request: "256Mi" }, { image: `nginx${DIGEST}` }),
      container("big", { limit: "700Mi", request: "700Mi" }, { image: `nginx${DIGEST}` }),
      container("unknown", { limit: "1Mi", request: "1Mi" }, { image: `other${DIGEST}` }),
    ]);
    const options = { podOverheadMiB: 512, imageSize: (i: string) => sizes.get(i) };
    const metal = lintWorkloads(file(workload("Deployment", "d", spec)), { ...options, bareMetal: true });
    expect(codes(metal).filter((c) => c.startsWith("KUBE_IMAGE_TMPFS"))).toEqual(["KUBE_IMAGE_TMPFS:small"]);
    expect(metal.find((f) => f.code === "KUBE_IMAGE_TMPFS")?.hint).toBe(
      "Raise the container's memory limit to about 670Mi.",
    );
    const aks = lintWorkloads(file(workload("Deployment", "d", spec)), { ...options, bareMetal: false });
    expect(aks.some((f) => f.code === "KUBE_IMAGE_TMPFS")).toBe(false);
  });
});

describe("lintWorkloads: GPU", () => {
  const GPU_ENV = [{ name: "NVIDIA_VISIBLE_DEVICES", value: "all" }];
  const gpuContainer = (count: unknown = 1, env: unknown = GPU_ENV) =>
    container("cuda", undefined, {
      resources: { limits: { memory: "2Gi", "nvidia.com/GH100_H100_PCIE": count }, requests: { memory: "2Gi" } },
      env,
    });
  const gpuPod = (annotations: Record<string, string>, c: unknown = gpuContainer()) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "gpu", annotations },
    spec: pod([c]),
  });
  const COMPLETE = {
    "cdi.k8s.io/gpu": "nvidia.com/pgpu=0",
    "io.katacontainers.config.hypervisor.default_memory": "16384",
  };
  const gpu = (o: unknown) => codes(lintWorkloads(file(o), METAL)).filter((c) => c.startsWith("KUBE_GPU"));

  it("accepts upstream's GPU example as it stands", () => {
    expect(gpu(gpuPod(COMPLETE))).toEqual([]);
  });

  it("reports each missing piece", () => {
    expect(gpu(gpuPod({ "io.katacontainers.config.hypervisor.default_memory": "16384" }))).toEqual([
      "KUBE_GPU_INCOMPLETE:",
    ]);
    expect(gpu(gpuPod({ "cdi.k8s.io/gpu": "nvidia.com/pgpu=0" }))).toEqual(["KUBE_GPU_INCOMPLETE:"]);
    expect(gpu(gpuPod(COMPLETE, gpuContainer(1, [])))).toEqual(["KUBE_GPU_INCOMPLETE:cuda"]);
    expect(gpu(gpuPod(COMPLETE, container("cuda", { limit: "1Gi", request: "1Gi" })))).toEqual([
      "KUBE_GPU_INCOMPLETE:",
    ]);
  });

  it("reports settings that disagree", () => {
    expect(gpu(gpuPod({ ...COMPLETE, "cdi.k8s.io/gpu": "nvidia.com/pgpu=0,nvidia.com/pgpu=1" }))).toEqual([
      "KUBE_GPU_INCONSISTENT:",
    ]);
    expect(gpu(gpuPod(COMPLETE, gpuContainer(2)))).toEqual(["KUBE_GPU_INCONSISTENT:"]);
    expect(gpu(gpuPod({ ...COMPLETE, "cdi.k8s.io/gpu": "nvidia.com/gpu=0" }))).toEqual(["KUBE_GPU_INCONSISTENT:"]);
    expect(gpu(gpuPod({ ...COMPLETE, "cdi.k8s.io/gpu": "nvidia.com/pgpu=0,nvidia.com/pgpu=0" }))).toEqual([
      "KUBE_GPU_INCONSISTENT:",
      "KUBE_GPU_INCONSISTENT:",
    ]);
    expect(gpu(gpuPod({ ...COMPLETE, "io.katacontainers.config.hypervisor.default_memory": "16Gi" }))).toEqual([
      "KUBE_GPU_INCONSISTENT:",
    ]);
    expect(gpu(gpuPod({ ...COMPLETE, "io.katacontainers.config.hypervisor.default_memory": "4096" }))).toEqual([
      "KUBE_GPU_INCONSISTENT:",
    ]);
    expect(gpu(gpuPod(COMPLETE, gpuContainer(1, [{ name: "NVIDIA_VISIBLE_DEVICES", value: "0" }])))).toEqual([
      "KUBE_GPU_INCONSISTENT:cuda",
    ]);
    expect(gpu(gpuPod(COMPLETE, gpuContainer(0)))).toEqual(["KUBE_GPU_INCONSISTENT:cuda", "KUBE_GPU_INCONSISTENT:"]);
  });

  it("two GPUs over two containers match two CDI devices", () => {
    const two = { ...COMPLETE, "cdi.k8s.io/gpu": "nvidia.com/pgpu=0,nvidia.com/pgpu=1" };
    const p = gpuPod(two);
    (p.spec.containers as unknown[]).push({ ...gpuContainer(), name: "cuda2" });
    expect(gpu(p)).toEqual([]);
  });

  it("notices GPU annotations on a Deployment's own metadata instead of its pod template", () => {
    const d = workload("Deployment", "d", pod([gpuContainer()]), COMPLETE);
    const findings = lintWorkloads(file(d), METAL).filter((f) => f.code.startsWith("KUBE_GPU"));
    expect(findings.map((f) => f.code)).toEqual(["KUBE_GPU_INCOMPLETE", "KUBE_GPU_INCOMPLETE"]);
    expect(findings[0]?.message).toMatch(/on the Deployment's metadata, not on its pod template's/);
  });

  it("parses CDI device lists", () => {
    expect(parseCdiGpuDevices("nvidia.com/pgpu=0")).toEqual([0]);
    expect(parseCdiGpuDevices("nvidia.com/pgpu=1, nvidia.com/pgpu=12")).toEqual([1, 12]);
    for (const bad of ["", "nvidia.com/pgpu=", "nvidia.com/pgpu=01", "nvidia.com/pgpu=a", "pgpu=0"])
      expect(parseCdiGpuDevices(bad)).toBeUndefined();
  });
});
