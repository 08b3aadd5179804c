import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { CONTRAST_ANNOTATIONS } from "../src/annotations.js";
import { parseImageReplacements } from "../src/image-replacements.js";
import {
  injectInitializer,
  injectServiceMesh,
  type PatchOptions,
  patchWorkload,
  rewriteRuntimeClass,
} from "../src/injection.js";
import { type JsonRecord, podTemplates } from "../src/workloads.js";
import { parseYamlDocuments, serializeYamlDocuments, type YamlDocument } from "../src/yaml.js";
import { KINDS, POD_SPEC, workload, yaml } from "./kinds.js";

const RUNS = fuzzRuns(60);
const INIT_IMAGE = `ghcr.io/edgelesssys/contrast/initializer:v1.5.1@sha256:${"1".repeat(64)}`;
const MESH_IMAGE = `ghcr.io/edgelesssys/contrast/service-mesh-proxy:v1.5.1@sha256:${"2".repeat(64)}`;
const HANDLER = "contrast-cc-metal-qemu-snp-1a2b3c4d";
const ALL: PatchOptions = {
  initializer: { image: INIT_IMAGE },
  serviceMesh: { image: MESH_IMAGE },
  runtimeHandler: HANDLER,
};
const MESH = {
  "contrast.edgeless.systems/servicemesh-ingress": "web#8080#false##metrics#9090#true",
  "contrast.edgeless.systems/servicemesh-egress": "emoji#127.137.0.1:8081#emoji-svc:8080",
  "contrast.edgeless.systems/servicemesh-admin-interface-port": "9901",
};

const one = (text: string): YamlDocument => {
  const docs = parseYamlDocuments(text).filter((d) => d.preamble !== true);
  expect(docs).toHaveLength(1);
  return docs[0] as YamlDocument;
};
const write = (docs: readonly YamlDocument[]) => serializeYamlDocuments(docs);
const patchText = (text: string, options: PatchOptions = ALL) =>
  write(parseYamlDocuments(text).map((d) => patchWorkload(d, options)));
const specOf = (value: unknown, i = 0): JsonRecord => (podTemplates(value)[i] as { spec: JsonRecord }).spec;
const names = (list: unknown): string[] => (Array.isArray(list) ? list.map((c) => (c as { name: string }).name) : []);

describe("injectInitializer", () => {
  for (const kind of KINDS) {
    it(`${kind}: the initializer is the first init container, the emptyDir exists, every container mounts it`, () => {
      const doc = one(yaml(workload(kind, "shop")));
      const spec = specOf(injectInitializer(doc, { image: INIT_IMAGE }).value);
      expect(names(spec.initContainers)).toEqual(["contrast-initializer", "migrate"]);
      expect((spec.initContainers as JsonRecord[])[0]).toEqual({
        name: "contrast-initializer",
        image: INIT_IMAGE,
        // No mesh annotation: no sidecar lifts the default-deny rule, so the initializer must.
        env: [
          { name: "COORDINATOR_HOST", value: "coordinator" },
          { name: "CONTRAST_SERVICE_MESH_DISABLED", value: "true" },
        ],
        resources: { requests: { memory: "50Mi" } },
        volumeMounts: [{ name: "contrast-secrets", mountPath: "/contrast" }],
      });
      expect(spec.volumes).toEqual([
        { name: "data", emptyDir: {} },
        { name: "contrast-secrets", emptyDir: {} },
      ]);
      const containers = spec.containers as JsonRecord[];
      expect(containers[0]?.volumeMounts).toEqual([
        { name: "data", mountPath: "/data" },
        { name: "contrast-secrets", mountPath: "/contrast" },
      ]);
      expect(containers[1]?.volumeMounts).toEqual([{ name: "contrast-secrets", mountPath: "/contrast" }]);
      // The user's own init container does not get the mount (upstream mounts regular containers).
      expect((spec.initContainers as JsonRecord[])[1]?.volumeMounts).toBeUndefined();
    });
  }

  it("takes the Coordinator host", () => {
    const doc = one(yaml(workload("Pod", "p")));
    const spec = specOf(injectInitializer(doc, { image: INIT_IMAGE, coordinatorHost: "coordinator-ready" }).value);
    expect((spec.initContainers as JsonRecord[])[0]?.env).toEqual([
      { name: "COORDINATOR_HOST", value: "coordinator-ready" },
      { name: "CONTRAST_SERVICE_MESH_DISABLED", value: "true" },
    ]);
  });

  it("tells the initializer to lift the default-deny rule exactly when no sidecar will", () => {
    const envNames = (doc: YamlDocument): unknown[] => {
      const first = (specOf(doc.value).initContainers as JsonRecord[])[0] ?? {};
      return ((first.env ?? []) as JsonRecord[]).map((e) => e.name);
    };
    const inject = (text: string, options: { withoutServiceMesh?: boolean } = {}) =>
      envNames(injectInitializer(one(text), { image: INIT_IMAGE, ...options }));
    const disabled = ["COORDINATOR_HOST", "CONTRAST_SERVICE_MESH_DISABLED"];
    expect(inject(yaml(workload("Deployment", "d")))).toEqual(disabled);
    for (const key of ["meshIngress", "meshEgress", "meshAdminPort"] as const) {
      const text = yaml(workload("Deployment", "d", POD_SPEC, { [CONTRAST_ANNOTATIONS[key]]: "" }));
      // Presence counts, even empty, as for the sidecar itself.
      expect(inject(text)).toEqual(["COORDINATOR_HOST"]);
      expect(inject(text, { withoutServiceMesh: true })).toEqual(disabled);
      // patchWorkload without a mesh image injects no sidecar, so the initializer lifts the rule.
      expect(envNames(patchWorkload(one(text), { initializer: { image: INIT_IMAGE } }))).toEqual(disabled);
      const both = patchWorkload(one(text), { initializer: { image: INIT_IMAGE }, serviceMesh: { image: MESH_IMAGE } });
      expect(names(specOf(both.value).initContainers)).toContain("contrast-service-mesh");
      expect(envNames(both)).toEqual(["COORDINATOR_HOST"]);
    }
  });

  it('skips objects annotated skip-initializer: "true" (on the object, not the pod template)', () => {
    const skipped = one(
      yaml(workload("Deployment", "d", POD_SPEC, { "contrast.edgeless.systems/skip-initializer": "true" })),
    );
    expect(injectInitializer(skipped, { image: INIT_IMAGE })).toBe(skipped);
    const onTemplate = workload("Deployment", "d") as { spec: { template: { metadata: JsonRecord } } };
    onTemplate.spec.template.metadata.annotations = { "contrast.edgeless.systems/skip-initializer": "true" };
    const doc = one(yaml(onTemplate));
    expect(names(specOf(injectInitializer(doc, { image: INIT_IMAGE }).value).initContainers)).toContain(
      "contrast-initializer",
    );
    const notTrue = one(yaml(workload("Pod", "p", POD_SPEC, { "contrast.edgeless.systems/skip-initializer": "yes" })));
    expect(injectInitializer(notTrue, { image: INIT_IMAGE })).not.toBe(notTrue);
  });

  it("skips the Coordinator (pod-role coordinator)", () => {
    const coordinator = workload("StatefulSet", "coordinator") as { spec: { template: { metadata: JsonRecord } } };
    coordinator.spec.template.metadata.annotations = { "contrast.edgeless.systems/pod-role": "coordinator" };
    const doc = one(yaml(coordinator));
    expect(injectInitializer(doc, { image: INIT_IMAGE })).toBe(doc);
  });

  it("leaves pods without a Contrast runtime class alone; kata-cc-isolation counts as Contrast's", () => {
    for (const runtimeClassName of [undefined, "kata", "runc", "contrast"]) {
      const doc = one(yaml(workload("Pod", "p", { ...POD_SPEC, runtimeClassName })));
      expect(injectInitializer(doc, { image: INIT_IMAGE })).toBe(doc);
    }
    for (const runtimeClassName of ["contrast-cc", HANDLER, "kata-cc-isolation"]) {
      const doc = one(yaml(workload("Pod", "p", { ...POD_SPEC, runtimeClassName })));
      expect(names(specOf(injectInitializer(doc, { image: INIT_IMAGE }).value).initContainers)[0]).toBe(
        "contrast-initializer",
      );
    }
  });

  it("moves an existing initializer to the front and updates it; an up-to-date one is left as it is", () => {
    const spec = {
      ...POD_SPEC,
      initContainers: [...POD_SPEC.initContainers, { name: "contrast-initializer", image: "old" }],
    };
    const doc = one(yaml(workload("Pod", "p", spec)));
    const once = injectInitializer(doc, { image: INIT_IMAGE });
    const list = specOf(once.value).initContainers as JsonRecord[];
    expect(names(list)).toEqual(["contrast-initializer", "migrate"]);
    expect(list[0]?.image).toBe(INIT_IMAGE);
    expect(injectInitializer(once, { image: INIT_IMAGE })).toBe(once);
    const reparsed = one(write([once]));
    expect(injectInitializer(reparsed, { image: INIT_IMAGE })).toBe(reparsed);
  });

  it("fixes a contrast-secrets mount at another path", () => {
    const spec = {
      ...POD_SPEC,
      containers: [{ name: "app", image: "a", volumeMounts: [{ name: "contrast-secrets", mountPath: "/elsewhere" }] }],
    };
    const out = specOf(injectInitializer(one(yaml(workload("Pod", "p", spec))), { image: INIT_IMAGE }).value);
    expect((out.containers as JsonRecord[])[0]?.volumeMounts).toEqual([
      { name: "contrast-secrets", mountPath: "/contrast" },
    ]);
  });

  it("keeps an existing contrast-secrets emptyDir (medium: Memory) and rejects one of another type", () => {
    const memory = { ...POD_SPEC, volumes: [{ name: "contrast-secrets", emptyDir: { medium: "Memory" } }] };
    const out = specOf(injectInitializer(one(yaml(workload("Pod", "p", memory))), { image: INIT_IMAGE }).value);
    expect(out.volumes).toEqual([{ name: "contrast-secrets", emptyDir: { medium: "Memory" } }]);
    for (const volume of [
      { name: "contrast-secrets", hostPath: { path: "/tmp" } },
      { name: "contrast-secrets", configMap: { name: "cm" } },
      { name: "contrast-secrets" },
    ]) {
      const doc = one(yaml(workload("Deployment", "d", { ...POD_SPEC, volumes: [volume] })));
      expectCode(() => injectInitializer(doc, { image: INIT_IMAGE }), "KUBE_SECRETS_VOLUME_CONFLICT", "input");
      expectCode(
        () =>
          injectServiceMesh(one(yaml(workload("Deployment", "d", { ...POD_SPEC, volumes: [volume] }, MESH))), {
            image: MESH_IMAGE,
          }),
        "KUBE_SECRETS_VOLUME_CONFLICT",
      );
    }
  });

  it("rejects an empty image and lists that are not lists", () => {
    const doc = one(yaml(workload("Pod", "p")));
    expectCode(() => injectInitializer(doc, { image: "" }), "KUBE_MUTATION_INVALID");
    expectCode(() => injectInitializer(doc, { image: "a b" }), "KUBE_MUTATION_INVALID");
    const bad = one(yaml(workload("Pod", "p", { ...POD_SPEC, initContainers: { name: "x" } })));
    expectCode(() => injectInitializer(bad, { image: INIT_IMAGE }), "KUBE_OBJECT_INVALID");
  });
});

describe("injectServiceMesh", () => {
  for (const kind of KINDS) {
    it(`${kind}: a native sidecar as the last init container, configured from the object's annotations`, () => {
      const doc = one(yaml(workload(kind, "web", POD_SPEC, MESH)));
      const spec = specOf(injectServiceMesh(doc, { image: MESH_IMAGE }).value);
      expect(names(spec.initContainers)).toEqual(["migrate", "contrast-service-mesh"]);
      expect((spec.initContainers as JsonRecord[])[1]).toEqual({
        name: "contrast-service-mesh",
        image: MESH_IMAGE,
        args: ["-l", "debug"],
        env: [
          { name: "CONTRAST_ADMIN_PORT", value: "9901" },
          { name: "CONTRAST_INGRESS_PROXY_CONFIG", value: MESH["contrast.edgeless.systems/servicemesh-ingress"] },
          { name: "CONTRAST_EGRESS_PROXY_CONFIG", value: MESH["contrast.edgeless.systems/servicemesh-egress"] },
        ],
        ports: [{ name: "contrast-admin", containerPort: 9901 }],
        restartPolicy: "Always",
        securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } },
        startupProbe: {
          exec: { command: ["test", "-f", "/ready"] },
          initialDelaySeconds: 1,
          periodSeconds: 5,
          failureThreshold: 5,
        },
        volumeMounts: [{ name: "contrast-secrets", mountPath: "/contrast" }],
      });
      expect(names(spec.volumes)).toEqual(["data", "contrast-secrets"]);
    });
  }

  const key = (k: string) => `contrast.edgeless.systems/servicemesh-${k}`;
  it.each([
    [
      { [key("ingress")]: "web#8080#false" },
      [{ name: "CONTRAST_INGRESS_PROXY_CONFIG", value: "web#8080#false" }],
      false,
    ],
    [
      { [key("egress")]: "a#127.0.0.2:80#a:80" },
      [{ name: "CONTRAST_EGRESS_PROXY_CONFIG", value: "a#127.0.0.2:80#a:80" }],
      false,
    ],
    [{ [key("admin-interface-port")]: "9901" }, [{ name: "CONTRAST_ADMIN_PORT", value: "9901" }], true],
    // Present but empty still asks for the sidecar: it then redirects all ingress through mTLS.
    [{ [key("ingress")]: "" }, undefined, false],
    [{ [key("ingress")]: "", [key("egress")]: "", [key("admin-interface-port")]: "" }, undefined, false],
  ])("each annotation form: %j", (annotations, env, ports) => {
    const spec = specOf(
      injectServiceMesh(one(yaml(workload("Deployment", "d", POD_SPEC, annotations))), { image: MESH_IMAGE }).value,
    );
    const sidecar = (spec.initContainers as JsonRecord[]).at(-1) as JsonRecord;
    expect(sidecar.name).toBe("contrast-service-mesh");
    expect(sidecar.env).toEqual(env);
    expect(sidecar.ports !== undefined).toBe(ports);
  });

  it("skips the Coordinator (pod-role coordinator), as upstream's generate does", () => {
    const coordinator = workload("StatefulSet", "coordinator", POD_SPEC, MESH) as {
      spec: { template: { metadata: JsonRecord } };
    };
    coordinator.spec.template.metadata.annotations = { "contrast.edgeless.systems/pod-role": "coordinator" };
    const doc = one(yaml(coordinator));
    expect(injectServiceMesh(doc, { image: MESH_IMAGE })).toBe(doc);
  });

  it("needs an annotation on the object: none, or only on the pod template, injects nothing", () => {
    const plain = one(yaml(workload("Deployment", "d")));
    expect(injectServiceMesh(plain, { image: MESH_IMAGE })).toBe(plain);
    const onTemplate = workload("Deployment", "d") as { spec: { template: { metadata: JsonRecord } } };
    onTemplate.spec.template.metadata.annotations = MESH;
    const doc = one(yaml(onTemplate));
    expect(injectServiceMesh(doc, { image: MESH_IMAGE })).toBe(doc);
  });

  it("rejects an admin port that is not a port, and annotations that are not strings", () => {
    for (const port of ["abc", "0", "65536", "-1", " 80"]) {
      const doc = one(yaml(workload("Pod", "p", POD_SPEC, { [key("admin-interface-port")]: port })));
      expectCode(() => injectServiceMesh(doc, { image: MESH_IMAGE }), "KUBE_MESH_ADMIN_PORT_INVALID", "input");
    }
    const unquoted = one(
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    ${key("admin-interface-port")}: 9901\nspec:\n  runtimeClassName: contrast-cc\n  containers:\n  - name: a\n    image: a\n`,
    );
    expectCode(() => injectServiceMesh(unquoted, { image: MESH_IMAGE }), "KUBE_OBJECT_INVALID");
  });

  it("moves a sidecar that is not last to the end and regenerates it from the annotations", () => {
    const spec = {
      ...POD_SPEC,
      initContainers: [
        {
          name: "contrast-service-mesh",
          image: "old",
          env: [{ name: "CONTRAST_INGRESS_PROXY_CONFIG", value: "stale#1#true" }],
        },
        ...POD_SPEC.initContainers,
      ],
    };
    const once = injectServiceMesh(one(yaml(workload("Pod", "p", spec, MESH))), { image: MESH_IMAGE });
    const list = specOf(once.value).initContainers as JsonRecord[];
    expect(names(list)).toEqual(["migrate", "contrast-service-mesh"]);
    expect(JSON.stringify(list)).not.toContain("stale");
    expect(injectServiceMesh(once, { image: MESH_IMAGE })).toBe(once);
  });
});

describe("rewriteRuntimeClass", () => {
  it.each([
    ["contrast-cc", HANDLER],
    ["contrast-cc-metal-qemu-tdx-4c6bca70", HANDLER],
    ["kata-cc-isolation", HANDLER],
    ["kata-qemu", "kata-qemu"],
    ["runc", "runc"],
  ])("%s -> %s", (from, to) => {
    const doc = one(yaml(workload("CronJob", "c", { ...POD_SPEC, runtimeClassName: from })));
    expect(specOf(rewriteRuntimeClass(doc, HANDLER).value).runtimeClassName).toBe(to);
  });

  it("leaves pods without a runtime class and pods already on the handler untouched", () => {
    const none = one(yaml(workload("Pod", "p", { containers: [{ name: "a", image: "a" }] })));
    expect(rewriteRuntimeClass(none, HANDLER)).toBe(none);
    const done = one(yaml(workload("Pod", "p", { ...POD_SPEC, runtimeClassName: HANDLER })));
    expect(rewriteRuntimeClass(done, HANDLER)).toBe(done);
    expectCode(() => rewriteRuntimeClass(done, "Not_A_Name"), "KUBE_MUTATION_INVALID");
  });
});

describe("Lists", () => {
  const list = (kind: string) =>
    yaml({
      apiVersion: "v1",
      kind,
      metadata: { resourceVersion: "" },
      items: [
        ...KINDS.map((k) => workload(k, k.toLowerCase(), POD_SPEC, MESH)),
        { apiVersion: "v1", kind: "Service", metadata: { name: "svc" }, spec: { ports: [{ port: 80 }] } },
      ],
    });

  for (const kind of ["List", "DeploymentList"]) {
    it(`a ${kind} of every workload kind: each item is injected in place, inside the List`, () => {
      const out = patchText(list(kind));
      const value = loadAll(out)[0] as { kind: string; items: JsonRecord[] };
      expect(value.kind).toBe(kind);
      expect(value.items.map((i) => i.kind)).toEqual([...KINDS, "Service"]);
      const templates = podTemplates(value);
      expect(templates).toHaveLength(KINDS.length);
      for (const t of templates) {
        expect(names(t.spec.initContainers)).toEqual(["contrast-initializer", "migrate", "contrast-service-mesh"]);
        expect(t.spec.runtimeClassName).toBe(HANDLER);
        expect(t.itemPath).toMatch(/^items\[\d\]\.$/);
      }
      expect(value.items.at(-1)).toEqual({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "svc" },
        spec: { ports: [{ port: 80 }] },
      });
      expect(patchText(out)).toBe(out);
    });
  }
});

describe("kustomize build / helm template output (hand-written in their shape)", () => {
  // Written for this test in the shape `helm template` prints: a `---` before every document,
  // `# Source:` comments, an empty document from a template that rendered nothing, and a
  // kustomize-style List. Not the output of a real chart.
  const HELM = `---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop
---
# Source: shop/templates/disabled.yaml
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop # the storefront
  annotations:
    contrast.edgeless.systems/servicemesh-ingress: "http#8080#false"
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels:
        app: shop
    spec:
      # Contrast runs this pod in a confidential VM.
      runtimeClassName: contrast-cc
      containers:
        - name: shop
          image: "registry.example/shop:1.2.3" # pinned by the chart
          ports:
            - containerPort: 8080
---
# Source: shop/templates/jobs.yaml
apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: Job
    metadata:
      name: migrate
    spec:
      template:
        spec:
          runtimeClassName: contrast-cc
          restartPolicy: Never
          containers:
            - name: migrate
              image: registry.example/migrate:1
`;

  it("keeps document order, the # Source: lines and the comments; the empty document stays", () => {
    const out = patchText(HELM, {
      ...ALL,
      imageReplacements: parseImageReplacements(
        `registry.example/migrate:1 = registry.example/migrate@sha256:${"c".repeat(64)}`,
      ),
    });
    const sources = [...out.matchAll(/^# Source: (.*)$/gm)].map((m) => m[1]);
    expect(sources).toEqual([
      "shop/templates/serviceaccount.yaml",
      "shop/templates/disabled.yaml",
      "shop/templates/deployment.yaml",
      "shop/templates/jobs.yaml",
    ]);
    expect(out).toContain("name: shop # the storefront");
    expect(out).toContain("# Contrast runs this pod in a confidential VM.");
    expect(out).toContain("# pinned by the chart");
    // The ServiceAccount and the empty document are written back byte for byte.
    expect(out.startsWith(HELM.slice(0, HELM.indexOf("# Source: shop/templates/deployment.yaml")))).toBe(true);
    const values = loadAll(out) as (JsonRecord | null)[];
    expect(values.map((v) => v?.kind ?? null)).toEqual(["ServiceAccount", null, "Deployment", "List"]);
    const [deployment, job] = podTemplates(values[2]).concat(podTemplates(values[3]));
    expect(names(deployment?.spec.initContainers)).toEqual(["contrast-initializer", "contrast-service-mesh"]);
    expect(names(job?.spec.initContainers)).toEqual(["contrast-initializer"]);
    expect(((job?.spec.containers ?? []) as JsonRecord[])[0]?.image).toBe(
      `registry.example/migrate@sha256:${"c".repeat(64)}`,
    );
    expect(patchText(out, { ...ALL })).toBe(out);
  });
});

describe("patchWorkload", () => {
  it("replaces images after injection, so replacements reach the injected containers", () => {
    const replacements = parseImageReplacements(`ghcr.io/edgelesssys/contrast/initializer:latest = ${INIT_IMAGE}\n`);
    const out = patchWorkload(one(yaml(workload("Pod", "p"))), {
      initializer: { image: "ghcr.io/edgelesssys/contrast/initializer:latest" },
      imageReplacements: replacements,
    });
    expect((specOf(out.value).initContainers as JsonRecord[])[0]?.image).toBe(INIT_IMAGE);
  });

  it("is idempotent on any workload: twice gives the same bytes as once, and the output patched again too (property)", () => {
    const container = fc.record({
      name: fc.constantFrom("app", "side", "contrast-initializer", "contrast-service-mesh", "x"),
      image: fc.constantFrom("a:1", `b@sha256:${"d".repeat(64)}`, "ghcr.io/edgelesssys/contrast/initializer:latest"),
      volumeMounts: fc.option(
        fc.array(
          fc.record({
            name: fc.constantFrom("contrast-secrets", "data"),
            mountPath: fc.constantFrom("/contrast", "/data", "/x"),
          }),
          { maxLength: 2 },
        ),
        { nil: undefined },
      ),
    });
    const spec = fc.record({
      runtimeClassName: fc.option(fc.constantFrom("contrast-cc", HANDLER, "kata-cc-isolation", "runc"), {
        nil: undefined,
      }),
      initContainers: fc.option(fc.array(container, { maxLength: 3 }), { nil: undefined }),
      containers: fc.array(container, { minLength: 1, maxLength: 3 }),
      volumes: fc.option(
        fc.array(fc.record({ name: fc.constantFrom("data", "contrast-secrets"), emptyDir: fc.constant({}) }), {
          maxLength: 2,
        }),
        { nil: undefined },
      ),
    });
    const meshAnnotations = fc
      .dictionary(
        fc.constantFrom(...Object.keys(MESH)),
        fc.constantFrom("", "a#80#true", "9901", "e#127.0.0.9:81#e:80"),
        { maxKeys: 3 },
      )
      .filter((a) => {
        const port = a["contrast.edgeless.systems/servicemesh-admin-interface-port"];
        return port === undefined || port === "" || port === "9901";
      });
    const replacements = parseImageReplacements(
      `ghcr.io/edgelesssys/contrast/initializer:latest = ${INIT_IMAGE}\na:1 = a:2\n`,
    );
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), spec, meshAnnotations, fc.boolean(), (kind, s, annotations, comment) => {
        const clean = JSON.parse(JSON.stringify(s)) as JsonRecord;
        let text = yaml(workload(kind, "w", clean, annotations));
        if (comment) text = `# a comment that must stay\n${text}`;
        const options: PatchOptions = { ...ALL, imageReplacements: replacements };
        const doc = parseYamlDocuments(text);
        const once = doc.map((d) => patchWorkload(d, options));
        const twice = once.map((d) => patchWorkload(d, options));
        const out = write(once);
        expect(write(twice)).toBe(out);
        expect(patchText(out, options)).toBe(out);
        if (comment) expect(out).toContain("# a comment that must stay");
        // What the edits wrote to the text is what the mutations computed.
        expect(loadAll(out)[0]).toEqual(once.find((d) => d.preamble !== true)?.value);
        const t = podTemplates(loadAll(out)[0])[0];
        if (t !== undefined && (clean.runtimeClassName === undefined || clean.runtimeClassName === "runc")) {
          // Pods outside Contrast get image replacements only: no container or volume is added.
          expect(names(t.spec.initContainers)).toEqual(names(clean.initContainers));
          expect(names(t.spec.volumes)).toEqual(names(clean.volumes));
        }
      }),
      { numRuns: RUNS },
    );
  });
});
