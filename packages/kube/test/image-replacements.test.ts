import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KubeError } from "../src/errors.js";
import { applyImageReplacements, parseImageReplacements } from "../src/image-replacements.js";
import { type JsonRecord, podTemplates } from "../src/workloads.js";
import { parseYamlDocuments, serializeYamlDocuments } from "../src/yaml.js";
import { KINDS, POD_SPEC, workload, yaml } from "./kinds.js";

const RUNS = fuzzRuns(200);

describe("parseImageReplacements", () => {
  it("reads `<image> = <replacement>` lines, skipping blank lines and # comments", () => {
    const map = parseImageReplacements(
      [
        "# release images",
        "",
        "ghcr.io/edgelesssys/contrast/initializer:latest=ghcr.io/edgelesssys/contrast/initializer:v1.5.1@sha256:aa",
        "   ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest   =   proxy@sha256:bb   ",
        "\t# indented comment",
        "a:1 =b:1",
        "a:1= c:1",
      ].join("\r\n"),
    );
    expect([...map]).toEqual([
      ["ghcr.io/edgelesssys/contrast/initializer:latest", "ghcr.io/edgelesssys/contrast/initializer:v1.5.1@sha256:aa"],
      ["ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest", "proxy@sha256:bb"],
      ["a:1", "c:1"],
    ]);
  });

  it("reports every malformed line with its number in one error", () => {
    const text = "ok:1 = ok:2\nno equals sign\n= missing-image\nimage =\na = b c\n";
    try {
      parseImageReplacements(text, "replacements.txt");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KubeError);
      const err = e as KubeError;
      expect(err.code).toBe("KUBE_IMAGE_REPLACEMENTS_INVALID");
      expect(err.message).toMatch(/^replacements\.txt:2: "no equals sign"/);
      expect(err.message).toMatch(/and 3 more: lines 3, 4, 5/);
      expect(err.path).toBe("replacements.txt:2");
      expect(err.hint).toMatch(/<image> = <replacement>/);
    }
  });

  it("returns a map or throws KUBE_IMAGE_REPLACEMENTS_INVALID, nothing else (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          const map = parseImageReplacements(text);
          for (const [k, v] of map) {
            expect(k).not.toMatch(/[\s=]/);
            expect(v).not.toMatch(/\s/);
          }
        } catch (e) {
          expect((e as KubeError).code).toBe("KUBE_IMAGE_REPLACEMENTS_INVALID");
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("applyImageReplacements", () => {
  const replacements = parseImageReplacements(
    "registry.example/app:1 = registry.example/app@sha256:11\nregistry.example/migrate:1 = m@sha256:22\n",
  );

  for (const kind of KINDS) {
    it(`${kind}: replaces exact matches in containers and init containers`, () => {
      const doc = parseYamlDocuments(yaml(workload(kind, "w")))[0];
      if (doc === undefined) throw new Error("no document");
      const out = applyImageReplacements(doc, replacements);
      const spec = podTemplates(out.value)[0]?.spec as JsonRecord;
      expect((spec.initContainers as JsonRecord[]).map((c) => c.image)).toEqual(["m@sha256:22"]);
      expect((spec.containers as JsonRecord[]).map((c) => c.image)).toEqual([
        "registry.example/app@sha256:11",
        POD_SPEC.containers[1]?.image,
      ]);
      expect(applyImageReplacements(out, replacements)).toBe(out);
    });
  }

  it("matches whole references only: a prefix, another tag or a digest form is left alone", () => {
    const spec = {
      containers: [
        { name: "a", image: "registry.example/app:10" },
        { name: "b", image: "registry.example/app" },
        { name: "c", image: "docker.io/registry.example/app:1" },
      ],
    };
    const doc = parseYamlDocuments(yaml(workload("Pod", "p", spec)))[0];
    if (doc === undefined) throw new Error("no document");
    expect(applyImageReplacements(doc, replacements)).toBe(doc);
  });

  it("keeps the comments of the document it edits", () => {
    const text =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p # the pod\nspec:\n  containers:\n    - name: a\n      image: registry.example/app:1 # replaced\n";
    const out = serializeYamlDocuments(parseYamlDocuments(text).map((d) => applyImageReplacements(d, replacements)));
    expect(out).toContain("name: p # the pod");
    expect(out).toContain("image: registry.example/app@sha256:11");
  });

  it("reports a workload without its pod template as KUBE_OBJECT_INVALID", () => {
    const doc = parseYamlDocuments("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec: {}\n")[0];
    if (doc === undefined) throw new Error("no document");
    expectCode(() => applyImageReplacements(doc, replacements), "KUBE_OBJECT_INVALID");
  });
});
