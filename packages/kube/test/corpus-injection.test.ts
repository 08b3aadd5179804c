import { describe, expect, it } from "vitest";
import { KubeError } from "../src/errors.js";
import { type PatchOptions, patchWorkload } from "../src/injection.js";
import { lintWorkloads } from "../src/lints.js";
import { validateMeshAnnotations } from "../src/mesh-config.js";
import { setRuntimeClass } from "../src/mutations.js";
import { podTemplates } from "../src/workloads.js";
import { parseYamlDocuments, serializeYamlDocuments, type YamlDocument } from "../src/yaml.js";
import { FILES, name, read } from "./corpus.js";

const OPTIONS: PatchOptions = {
  initializer: { image: "ghcr.io/edgelesssys/contrast/initializer:latest" },
  serviceMesh: { image: "ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest" },
  runtimeHandler: "contrast-cc-k3s-qemu-tdx-0123abcd",
};

/** Real third-party YAML (testdata/kube, testdata/k8s), every workload moved to contrast-cc. */
describe("injection on the real corpus", () => {
  const parsed = FILES.flatMap((path) => {
    try {
      return [{ path, docs: parseYamlDocuments(read(path), name(path)) }];
    } catch (e) {
      // Kata's `.yaml.in` templates hold `${…}` placeholders that are not YAML.
      if (e instanceof KubeError && e.code === "KUBE_YAML_INVALID") return [];
      throw e;
    }
  });

  it("parses most of the corpus", () => {
    expect(parsed.length).toBeGreaterThan(FILES.length / 2);
  });

  for (const { path, docs } of parsed) {
    it(`${name(path)}: injected twice gives the bytes of once; other documents keep theirs`, () => {
      const prepared = serializeYamlDocuments(docs.map((d) => setRuntimeClassSafe(d)));
      const once = serializeYamlDocuments(parseYamlDocuments(prepared).map((d) => patchWorkload(d, OPTIONS)));
      expect(serializeYamlDocuments(parseYamlDocuments(once).map((d) => patchWorkload(d, OPTIONS)))).toBe(once);
      const before = parseYamlDocuments(prepared);
      const after = parseYamlDocuments(once);
      expect(after.length).toBe(before.length);
      before.forEach((d, i) => {
        if (!hasWorkload(d)) expect(after[i]?.raw).toBe(d.raw);
        for (const t of safeTemplates(after[i]?.value)) {
          if (t.spec.runtimeClassName === OPTIONS.runtimeHandler) {
            expect((t.spec.initContainers as { name: string }[])[0]?.name).toBe("contrast-initializer");
          }
        }
      });
      const file = { source: name(path), documents: after };
      for (const f of [
        ...validateMeshAnnotations(file),
        ...lintWorkloads(file, { podOverheadMiB: 512, bareMetal: true }),
      ]) {
        expect(f.resource.source).toBe(name(path));
        expect(f.hint).not.toBe("");
      }
    });
  }
});

function safeTemplates(value: unknown) {
  try {
    return podTemplates(value);
  } catch {
    return [];
  }
}

function hasWorkload(d: YamlDocument): boolean {
  return safeTemplates(d.value).length > 0;
}

function setRuntimeClassSafe(d: YamlDocument): YamlDocument {
  try {
    return setRuntimeClass(d, "contrast-cc");
  } catch {
    return d;
  }
}
