import { expectCode } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { execCommands } from "../src/exec.js";
import { unknownPodSpecFields } from "../src/fields.js";
import {
  isWorkloadKind,
  podMetadataOf,
  podMetadataPath,
  podTemplates,
  runtimeClassName,
  WORKLOAD_KINDS,
  workloadId,
} from "../src/workloads.js";
import { parseYamlDocuments } from "../src/yaml.js";
import { emojivoto, FILES, read } from "./corpus.js";

const spec = { containers: [{ name: "c", image: "busybox" }] };

describe("pod templates", () => {
  it("finds the pod spec of every workload kind where Kubernetes keeps it", () => {
    const wrap: Record<string, (s: object) => object> = {
      Pod: (s) => ({ spec: s }),
      CronJob: (s) => ({ spec: { jobTemplate: { spec: { template: { spec: s } } } } }),
    };
    for (const kind of WORKLOAD_KINDS) {
      const body = (wrap[kind] ?? ((s: object) => ({ spec: { template: { spec: s } } })))(spec);
      const [t, ...rest] = podTemplates({ apiVersion: "v1", kind, metadata: { name: "w" }, ...body });
      expect(rest).toEqual([]);
      expect(t?.spec).toEqual(spec);
      expect(t?.specPath).toBe(
        kind === "Pod" ? "spec" : kind === "CronJob" ? "spec.jobTemplate.spec.template.spec" : "spec.template.spec",
      );
    }
    expect(isWorkloadKind("Service")).toBe(false);
    expect(podTemplates({ kind: "Service", spec: {} })).toEqual([]);
  });

  it("unwraps Lists, with each item's path", () => {
    const list = {
      kind: "List",
      items: [{ kind: "Service" }, { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec }],
    };
    const [t] = podTemplates(list);
    expect(t?.itemPath).toBe("items[1].");
    expect(workloadId(t as never)).toBe("core/v1/Pod/default/p");
  });

  it("reads emojivoto's Deployments with their identity", () => {
    const docs = parseYamlDocuments(emojivoto("voting.yml")).map((d) => d.value);
    const templates = docs.flatMap((d) => podTemplates(d));
    expect(templates.map((t) => workloadId(t))).toEqual(["apps/v1/Deployment/emojivoto/voting"]);
    expect(runtimeClassName(templates[0]?.spec ?? {})).toBe("");
  });

  it("finds the 116 workloads of the real-world corpus", () => {
    let n = 0;
    for (const f of FILES.filter((p) => p.includes("/testdata/kube/"))) {
      try {
        for (const d of parseYamlDocuments(read(f))) n += podTemplates(d.value).length;
      } catch (e) {
        // Templates whose placeholders are not YAML, and the corpus' deliberate failures.
        expect(["KUBE_YAML_INVALID", "KUBE_OBJECT_INVALID"]).toContain((e as { code?: string }).code);
      }
    }
    expect(n).toBeGreaterThanOrEqual(116);
  });

  it("reports a workload without its pod template as KUBE_OBJECT_INVALID", () => {
    expectCode(() => podTemplates({ kind: "Deployment", spec: {} }), "KUBE_OBJECT_INVALID", "input");
    expectCode(() => podTemplates({ kind: "Pod", metadata: "x", spec }), "KUBE_OBJECT_INVALID", "input");
    expectCode(
      () => podTemplates({ kind: "StatefulSet", spec: { template: { spec }, volumeClaimTemplates: [{}] } }),
      "KUBE_OBJECT_INVALID",
      "input",
    );
  });

  it("names a StatefulSet's claim templates", () => {
    const [t] = podTemplates({
      kind: "StatefulSet",
      metadata: { name: "db" },
      spec: { template: { spec }, volumeClaimTemplates: [{ metadata: { name: "data" } }] },
    });
    expect(t?.claimTemplates).toEqual(["data"]);
  });
});

describe("pod metadata", () => {
  it("sits where podMetadataPath says, and podMetadataOf finds it without the rest of the object", () => {
    const meta = { annotations: { a: "1" } };
    const cron = { kind: "CronJob", spec: { jobTemplate: { spec: { template: { metadata: meta, spec } } } } };
    const [t] = podTemplates(cron);
    expect(podMetadataPath(t as never)).toBe("spec.jobTemplate.spec.template.metadata");
    expect(t?.podMetadata).toBe(cron.spec.jobTemplate.spec.template.metadata);
    expect(podMetadataOf(cron)).toEqual(meta);
    expect(podMetadataOf({ kind: "Deployment", spec: { template: { metadata: meta } } })).toEqual(meta);
    expect(podMetadataOf({ kind: "Pod", metadata: meta })).toEqual(meta);
    expect(podMetadataOf({ kind: "Deployment", spec: { template: "x" } })).toBeUndefined();
    const [p] = podTemplates({ kind: "List", items: [{ kind: "Pod", metadata: {}, spec }] });
    expect(podMetadataPath(p as never)).toBe("items[0].metadata");
  });
});

describe("pod-spec fields", () => {
  it("lists unknown fields with their paths and accepts known ones", () => {
    expect(unknownPodSpecFields({ ...spec, runtimeClassName: "x" }, "spec")).toEqual([]);
    expect(unknownPodSpecFields({ containers: [{ name: "c", bogus: 1 }], hostIPC: true }, "spec")).toEqual([
      { path: "spec.containers[0].bogus", message: "unsupported field spec.containers[0].bogus" },
      { path: "spec.hostIPC", message: "unsupported field spec.hostIPC" },
    ]);
    expect(unknownPodSpecFields({ containers: {} }, "spec")).toEqual([
      { path: "spec.containers", message: "spec.containers must be a list" },
    ]);
  });

  it("takes the exec commands of probes and hooks in the kubelet's order", () => {
    const exec = (c: string) => ({ exec: { command: [c] } });
    expect(
      execCommands({
        readinessProbe: exec("r"),
        livenessProbe: exec("l"),
        lifecycle: { preStop: exec("stop"), postStart: exec("start") },
        startupProbe: { httpGet: { port: 80 } },
      }),
    ).toEqual([["l"], ["r"], ["start"], ["stop"]]);
  });
});
