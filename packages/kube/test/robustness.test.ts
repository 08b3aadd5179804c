import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KubeError } from "../src/errors.js";
import type { YamlFile } from "../src/findings.js";
import { type PatchOptions, patchWorkload } from "../src/injection.js";
import { lintWorkloads } from "../src/lints.js";
import { parseEgressConfig, parseIngressConfig, validateMeshAnnotations } from "../src/mesh-config.js";
import { parseYamlDocuments, serializeYamlDocuments } from "../src/yaml.js";
import { KINDS, workload, yaml } from "./kinds.js";

const RUNS = fuzzRuns(150);
const OPTIONS: PatchOptions = {
  initializer: { image: "init:1" },
  serviceMesh: { image: "mesh:1" },
  imageReplacements: new Map([["a:1", "a:2"]]),
  runtimeHandler: "contrast-cc-metal-qemu-snp-1a2b3c4d",
};

// Values of any JSON shape where a pod spec's parts stand: lists that are maps, strings that are
// lists, nulls. Injection and the checks must answer with a KubeError or a result, never crash.
const junk = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 5 }),
  fc.integer(),
  fc.boolean(),
  fc.array(
    fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 3 }),
      fc.dictionary(fc.constantFrom("name", "image", "emptyDir"), fc.string({ maxLength: 3 })),
    ),
    { maxLength: 3 },
  ),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
);
const podSpec = fc.record(
  {
    runtimeClassName: fc.oneof(fc.constant("contrast-cc"), junk),
    containers: fc.oneof(
      junk,
      fc.array(
        fc.record(
          {
            name: fc.oneof(fc.constant("app"), junk),
            image: fc.oneof(fc.constant("a:1"), junk),
            volumeMounts: junk,
            resources: junk,
            env: junk,
          },
          { requiredKeys: [] },
        ),
        {
          maxLength: 2,
        },
      ),
    ),
    initContainers: junk,
    volumes: junk,
  },
  { requiredKeys: [] },
);
const annotations = fc.oneof(
  junk,
  fc.dictionary(
    fc.constantFrom(
      "contrast.edgeless.systems/servicemesh-ingress",
      "contrast.edgeless.systems/servicemesh-egress",
      "contrast.edgeless.systems/servicemesh-admin-interface-port",
      "contrast.edgeless.systems/skip-initializer",
      "cdi.k8s.io/gpu",
      "io.katacontainers.config.hypervisor.default_memory",
    ),
    fc.oneof(fc.string({ maxLength: 12 }), fc.integer()),
    { maxKeys: 4 },
  ),
);

describe("robustness", () => {
  it("patchWorkload, validateMeshAnnotations and lintWorkloads throw only KubeErrors on malformed workloads (fuzz)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), podSpec, annotations, (kind, spec, objectAnnotations) => {
        const object = workload(kind, "w", spec) as { metadata: Record<string, unknown> };
        object.metadata.annotations = objectAnnotations;
        const text = yaml(object);
        const file: YamlFile = { source: "f.yml", documents: parseYamlDocuments(text, "f.yml") };
        for (const run of [
          () => serializeYamlDocuments(file.documents.map((d) => patchWorkload(d, OPTIONS))),
          () => validateMeshAnnotations([file]),
          () => lintWorkloads([file], { podOverheadMiB: 512, bareMetal: true, imageSize: () => 1 }),
        ]) {
          try {
            run();
          } catch (e) {
            if (!(e instanceof KubeError)) throw e;
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("validateMeshAnnotations reports exactly the parsers' problems, per resource, in input order (property)", () => {
    const entry = fc.oneof(
      fc.constantFrom("a#80#true", "b#x#true", "c#127.0.0.1:1#c:2", "d#10.0.0.1:1#d:2", "e", "##", ""),
      fc.string({ maxLength: 8 }),
    );
    const value = fc.array(entry, { maxLength: 4 }).map((e) => e.join("##"));
    const resource = fc.record({
      ingress: fc.option(value, { nil: undefined }),
      egress: fc.option(value, { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(resource, { minLength: 1, maxLength: 5 }), (resources) => {
        const docs = resources.map((r, i) => {
          const a: Record<string, string> = {};
          if (r.ingress !== undefined) a["contrast.edgeless.systems/servicemesh-ingress"] = r.ingress;
          if (r.egress !== undefined) a["contrast.edgeless.systems/servicemesh-egress"] = r.egress;
          return `---\n${yaml(workload("Deployment", `w${i}`, undefined, a))}`;
        });
        const findings = validateMeshAnnotations({
          source: "all.yml",
          documents: parseYamlDocuments(docs.join(""), "all.yml"),
        });
        const expected = resources.flatMap((r, i) => [
          ...(r.ingress === undefined
            ? []
            : parseIngressConfig(r.ingress).problems.map((p) => [i, "KUBE_MESH_INGRESS_INVALID", p.entry])),
          ...(r.egress === undefined
            ? []
            : parseEgressConfig(r.egress).problems.map((p) => [i, "KUBE_MESH_EGRESS_INVALID", p.entry])),
        ]);
        expect(findings.map((f) => [f.resource.document, f.code, f.entry])).toEqual(expected);
        expect(findings.every((f) => f.resource.name === `w${f.resource.document}`)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("counts documents after a comment preamble and across empty documents", () => {
    const text = `# licence header\n---\n---\n${yaml(workload("Pod", "p", undefined, { "contrast.edgeless.systems/servicemesh-ingress": "x" }))}`;
    const [f] = validateMeshAnnotations({ source: "p.yml", documents: parseYamlDocuments(text, "p.yml") });
    expect(f?.resource).toMatchObject({ source: "p.yml", document: 1, line: 4, kind: "Pod", name: "p", itemPath: "" });
  });
});
