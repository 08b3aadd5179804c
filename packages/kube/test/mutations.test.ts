import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { dump, loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { KubeError } from "../src/errors.js";
import { addInitContainer, addSidecar, removeAnnotation, setAnnotation, setRuntimeClass } from "../src/mutations.js";
import { podTemplates } from "../src/workloads.js";
import { parseYamlDocuments, serializeYamlDocuments, type YamlDocument } from "../src/yaml.js";
import { emojivoto, FILES, name, read } from "./corpus.js";

const RUNS = fuzzRuns(50);
const RUNTIME = "contrast-cc-metal-qemu-snp-0123abcd";
const INITIALIZER = {
  name: "contrast-initializer",
  image: "ghcr.io/edgelesssys/contrast/initializer:v1.5.0",
  env: [{ name: "COORDINATOR_HOST", value: "coordinator-ready" }],
  volumeMounts: [{ name: "contrast-secrets", mountPath: "/contrast" }],
};
const PROXY = { name: "contrast-service-mesh", image: "ghcr.io/edgelesssys/contrast/service-mesh-proxy:v1.5.0" };

type Mutation = (d: YamlDocument) => YamlDocument;
const contrastify: Mutation = (d) =>
  addSidecar(
    addInitContainer(
      setAnnotation(setRuntimeClass(d, RUNTIME), "contrast.edgeless.systems/pod-role", "none"),
      INITIALIZER,
    ),
    PROXY,
  );

const write = (docs: readonly YamlDocument[]) => serializeYamlDocuments(docs);
const run = (text: string, m: Mutation) => write(parseYamlDocuments(text).map(m));
const values = (text: string) => loadAll(text).filter((v) => v !== null && v !== undefined);

describe("mutations on emojivoto", () => {
  const web = emojivoto("web.yml");

  it("change only the workload: the ServiceAccount and Service keep their bytes", () => {
    const docs = parseYamlDocuments(web, "web.yml");
    const out = docs.map(contrastify);
    expect(out[0]).toBe(docs[0]); // the ServiceAccount: not even copied
    expect(out[2]).toBe(docs[2]); // the Service
    const text = write(out);
    const [sa, deployment, service] = text.split(/^---\n/m).filter((p) => p !== "");
    const [sa0, , service0] = web.split(/^---\n/m).filter((p) => p !== "");
    expect(sa).toBe(sa0);
    expect(service).toBe(service0);
    expect(deployment).toContain(`runtimeClassName: ${RUNTIME}`);
  });

  it("write what they say, as js-yaml reads the output", () => {
    const [, deployment] = values(run(web, contrastify)) as Record<string, never>[];
    const [template] = podTemplates(deployment);
    expect(template?.spec.runtimeClassName).toBe(RUNTIME);
    expect(template?.podMetadata.annotations).toEqual({ "contrast.edgeless.systems/pod-role": "none" });
    expect(template?.spec.initContainers).toEqual([{ ...PROXY, restartPolicy: "Always" }, INITIALIZER]);
    // The rest of the object is what it was.
    const [, original] = values(web) as Record<string, never>[];
    const strip = (v: unknown) => {
      const c = structuredClone(v) as {
        spec: { template: { metadata: Record<string, unknown>; spec: Record<string, unknown> } };
      };
      delete c.spec.template.metadata.annotations;
      delete c.spec.template.spec.runtimeClassName;
      delete c.spec.template.spec.initContainers;
      return c;
    };
    expect(strip(deployment)).toEqual(strip(original));
  });

  it("are idempotent: applying them twice, or again to the output, gives the same bytes", () => {
    const once = run(web, contrastify);
    expect(run(web, (d) => contrastify(contrastify(d)))).toBe(once);
    expect(run(once, contrastify)).toBe(once);
    // On the output nothing changes, so every document is the one parsed.
    const again = parseYamlDocuments(once);
    expect(again.map(contrastify).every((d, i) => d === again[i])).toBe(true);
  });

  it("are pure: the input document and its value are not changed", () => {
    const docs = parseYamlDocuments(web);
    const before = structuredClone(docs);
    docs.map(contrastify);
    expect(docs).toEqual(before);
  });

  it("keep the comments of a changed document", () => {
    const text = `# emojivoto web\n${web.replace("replicas: 1", "replicas: 1 # one is enough")}`;
    const out = run(text, contrastify);
    expect(out.startsWith("# emojivoto web\n")).toBe(true);
    expect(out).toContain("replicas: 1 # one is enough");
    // The `yaml` package writes the changed document, so block sequences come out indented
    // ("  - env:") where the input had them flush; the values are the same.
    expect(values(out)).toHaveLength(3);
  });
});

describe("each mutation", () => {
  const pod =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n";

  it("setAnnotation writes the pod's or, with scope object, the object's own annotation", () => {
    const deployment = emojivoto("emoji.yml");
    const [, d] = values(run(deployment, (x) => setAnnotation(x, "k", "v", { scope: "object" }))) as {
      metadata: { annotations: unknown };
    }[];
    expect(d?.metadata.annotations).toEqual({ k: "v" });
    expect(podTemplates(d)[0]?.podMetadata.annotations).toBeUndefined();
    // The ServiceAccount is an object too.
    const [sa] = values(run(deployment, (x) => setAnnotation(x, "k", "v", { scope: "object" }))) as {
      metadata: { annotations: unknown };
    }[];
    expect(sa?.metadata.annotations).toEqual({ k: "v" });
  });

  it("setAnnotation replaces a different value and removeAnnotation deletes it", () => {
    const set = run(pod, (d) => setAnnotation(d, "a", "1"));
    const changed = run(set, (d) => setAnnotation(d, "a", "2"));
    expect(values(changed)[0]).toMatchObject({ metadata: { annotations: { a: "2" } } });
    const removed = run(changed, (d) => removeAnnotation(d, "a"));
    expect(values(removed)[0]).toEqual({ ...(values(pod)[0] as object), metadata: { name: "p", annotations: {} } });
    expect(run(pod, (d) => removeAnnotation(d, "a"))).toBe(pod);
  });

  it("selects one workload by name", () => {
    const text = `${emojivoto("web.yml")}---\n${emojivoto("emoji.yml")}`;
    const out = values(run(text, (d) => setRuntimeClass(d, RUNTIME, { workload: "emoji" })));
    const classes = out.flatMap((v) => podTemplates(v).map((t) => [t.name, t.spec.runtimeClassName]));
    expect(classes).toEqual([
      ["web", undefined],
      ["emoji", RUNTIME],
    ]);
  });

  it("reaches into Lists and CronJobs", () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${pod.trimEnd().split("\n").join("\n  ")}\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: c}\n  spec:\n    schedule: "* * * * *"\n    jobTemplate:\n      spec:\n        template:\n          spec:\n            containers: [{name: c, image: busybox}]\n`;
    const out = values(run(list, (d) => addSidecar(setRuntimeClass(d, RUNTIME), PROXY)))[0];
    const templates = podTemplates(out);
    expect(templates).toHaveLength(2);
    for (const t of templates) {
      expect(t.spec.runtimeClassName).toBe(RUNTIME);
      expect(t.spec.initContainers).toEqual([{ ...PROXY, restartPolicy: "Always" }]);
    }
  });

  it("addInitContainer puts a new container first (or last), replaces a changed one in place", () => {
    const withInit = run(pod, (d) => addInitContainer(d, { name: "a", image: "busybox" }));
    const last = run(withInit, (d) => addInitContainer(d, INITIALIZER, { position: "last" }));
    const first = run(withInit, (d) => addInitContainer(d, INITIALIZER));
    const names = (t: string) =>
      ((podTemplates(values(t)[0])[0]?.spec.initContainers ?? []) as { name: string }[]).map((c) => c.name);
    expect(names(last)).toEqual(["a", "contrast-initializer"]);
    expect(names(first)).toEqual(["contrast-initializer", "a"]);
    const newer = { ...INITIALIZER, image: "ghcr.io/edgelesssys/contrast/initializer:v1.6.0" };
    const replaced = run(first, (d) => addInitContainer(d, newer));
    expect(names(replaced)).toEqual(["contrast-initializer", "a"]);
    expect(podTemplates(values(replaced)[0])[0]?.spec.initContainers).toEqual([newer, { name: "a", image: "busybox" }]);
  });

  it("leave documents without workloads alone", () => {
    const text = emojivoto("ns.yml");
    const docs = parseYamlDocuments(text);
    expect(docs.map(contrastify)).toEqual(docs);
  });

  it("refuse what Kubernetes would not take (KUBE_MUTATION_INVALID)", () => {
    const [doc] = parseYamlDocuments(pod) as [YamlDocument];
    expectCode(() => setRuntimeClass(doc, "Not A Name"), "KUBE_MUTATION_INVALID", "input");
    expectCode(() => setAnnotation(doc, "", "v"), "KUBE_MUTATION_INVALID", "input");
    expectCode(() => addInitContainer(doc, { name: "" }), "KUBE_MUTATION_INVALID", "input");
    expectCode(() => addInitContainer(doc, { name: "x", n: Number.NaN }), "KUBE_MUTATION_INVALID", "input");
    expectCode(() => addInitContainer(doc, { name: "x", at: new Date(0) }), "KUBE_MUTATION_INVALID", "input");
    const [bad] = parseYamlDocuments(`${pod}  initContainers: {a: 1}\n`) as [YamlDocument];
    expectCode(() => addInitContainer(bad, INITIALIZER), "KUBE_MUTATION_INVALID", "input");
    const [noTemplate] = parseYamlDocuments("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n") as [
      YamlDocument,
    ];
    expectCode(() => setRuntimeClass(noTemplate, RUNTIME), "KUBE_OBJECT_INVALID", "input");
  });
});

describe("mutations on the real-world corpus", () => {
  const parsable = FILES.filter((f) => {
    try {
      parseYamlDocuments(read(f));
      return podTemplates !== undefined;
    } catch {
      return false;
    }
  });

  it("covers the corpus", () => {
    expect(parsable.length).toBeGreaterThanOrEqual(100);
  });

  it("give every file the values they promise, change nothing else, and are idempotent", () => {
    let workloads = 0;
    for (const file of parsable) {
      const text = read(file);
      let docs: YamlDocument[];
      try {
        docs = parseYamlDocuments(text).map(contrastify);
      } catch (e) {
        // Workloads the corpus keeps broken on purpose (a Deployment without its template).
        expect((e as { code?: string }).code, name(file)).toBe("KUBE_OBJECT_INVALID");
        continue;
      }
      const out = write(docs);
      const before = parseYamlDocuments(text);
      const after = parseYamlDocuments(out);
      expect(after.length, name(file)).toBe(before.length);
      after.forEach((d, i) => {
        const templates = podTemplates(structuredClone(d.value));
        workloads += templates.length;
        if (templates.length === 0) expect(d.raw, name(file)).toBe(before[i]?.raw);
        // Apart from what the mutations wrote, the value is the one read.
        const stripped = structuredClone(d.value);
        for (const t of podTemplates(stripped)) {
          delete t.spec.runtimeClassName;
          const inits = (t.spec.initContainers as unknown[]).slice(2);
          if (inits.length > 0) t.spec.initContainers = inits;
          else delete t.spec.initContainers;
          const annotations = t.podMetadata.annotations as Record<string, unknown>;
          delete annotations["contrast.edgeless.systems/pod-role"];
        }
        const original = structuredClone(before[i]?.value);
        for (const t of podTemplates(original)) {
          delete t.spec.runtimeClassName;
          t.podMetadata.annotations = { ...((t.podMetadata.annotations as object | undefined) ?? {}) };
        }
        expect(stripped, name(file)).toEqual(original);
        for (const t of templates) {
          expect(t.spec.runtimeClassName, name(file)).toBe(RUNTIME);
          expect((t.spec.initContainers as { name: string }[]).slice(0, 2).map((c) => c.name)).toEqual([
            PROXY.name,
            INITIALIZER.name,
          ]);
        }
      });
      expect(run(out, contrastify), name(file)).toBe(out);
    }
    expect(workloads).toBeGreaterThanOrEqual(116);
  });

  it("set any annotation on any corpus file idempotently, readable back by js-yaml (property)", () => {
    const key = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?\/[a-zA-Z0-9_.-]{1,20}$/);
    const value = fc.string({ maxLength: 40 });
    fc.assert(
      fc.property(fc.constantFrom(...parsable), key, value, (file, k, v) => {
        const text = read(file);
        let out: string;
        try {
          out = run(text, (d) => setAnnotation(d, k, v));
        } catch (e) {
          expect((e as { code?: string }).code).toBe("KUBE_OBJECT_INVALID");
          return;
        }
        expect(run(out, (d) => setAnnotation(d, k, v))).toBe(out);
        for (const doc of values(out)) {
          for (const t of podTemplates(doc)) expect((t.podMetadata.annotations as Record<string, string>)[k]).toBe(v);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("hostile documents", () => {
  it("mutations throw only KubeError, and what they write reads back as their value (fuzz)", () => {
    const workload = fc.record({
      apiVersion: fc.constant("v1"),
      kind: fc.constantFrom("Pod", "Deployment", "List", "CronJob", "ConfigMap"),
      metadata: fc.option(fc.record({ name: fc.string(), annotations: fc.jsonValue({ maxDepth: 1 }) }), {
        nil: undefined,
      }),
      spec: fc.jsonValue({ maxDepth: 3 }),
      items: fc.option(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 2 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(workload, (obj) => {
        const text = `---\n${dump(obj, { skipInvalid: true } as never)}`;
        let docs: YamlDocument[];
        try {
          docs = parseYamlDocuments(text);
        } catch (e) {
          if (!(e instanceof KubeError)) throw e;
          return;
        }
        let out: YamlDocument[];
        try {
          out = docs.map(contrastify);
        } catch (e) {
          if (!(e instanceof KubeError)) throw e;
          return;
        }
        const written = write(out);
        expect(values(written)).toEqual(out.map((d) => d.value).filter((v) => v !== null));
      }),
      { numRuns: RUNS * 4 },
    );
  });
});
