import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTRAST_ANNOTATIONS } from "../src/annotations.js";
import { formatFinding } from "../src/findings.js";
import { type PatchOptions, patchWorkload } from "../src/injection.js";
import { lintWorkloads } from "../src/lints.js";
import { validateMeshAnnotations } from "../src/mesh-config.js";
import { setAnnotation, setRuntimeClass } from "../src/mutations.js";
import { type JsonRecord, podTemplates } from "../src/workloads.js";
import { parseYamlDocuments, serializeYamlDocuments, type YamlDocument } from "../src/yaml.js";
import { emojivoto, REPO } from "./corpus.js";

/**
 * The real emojivoto app (BuoyantIO/emojivoto, testdata/k8s/emojivoto) prepared as a Contrast
 * user would (reference §2.2; upstream's emojivoto walkthrough): runtime class contrast-cc on every
 * Deployment, the web front end's mesh configuration in its annotations, then injected as
 * `contrast generate` does. The output is compared with golden files, which a reviewer reads.
 */
const FILES = ["emoji.yml", "ns.yml", "vote-bot.yml", "voting.yml", "web.yml"];
const OPTIONS: PatchOptions = {
  initializer: { image: "ghcr.io/edgelesssys/contrast/initializer:latest" },
  serviceMesh: { image: "ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest" },
  imageReplacements: new Map([
    [
      "ghcr.io/edgelesssys/contrast/initializer:latest",
      `ghcr.io/edgelesssys/contrast/initializer:v1.5.1@sha256:${"1".repeat(64)}`,
    ],
    [
      "ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest",
      `ghcr.io/edgelesssys/contrast/service-mesh-proxy:v1.5.1@sha256:${"2".repeat(64)}`,
    ],
  ]),
  runtimeHandler: "contrast-cc-metal-qemu-snp-1a2b3c4d",
};
const MESH: Record<string, Record<string, string>> = {
  web: {
    [CONTRAST_ANNOTATIONS.meshIngress]: "web#8080#false",
    [CONTRAST_ANNOTATIONS.meshEgress]: "emoji#127.137.0.1:8081#emoji-svc:8080##voting#127.137.0.2:8081#voting-svc:8080",
  },
  emoji: { [CONTRAST_ANNOTATIONS.meshIngress]: "" },
  // The admin interface (Envoy's metrics) excluded from TLS, as upstream's docs advise.
  voting: { [CONTRAST_ANNOTATIONS.meshIngress]: "admin#9901#true", [CONTRAST_ANNOTATIONS.meshAdminPort]: "9901" },
};

/** What the user writes before running generate. */
function prepare(file: string): string {
  const docs = parseYamlDocuments(emojivoto(file), file).map((d) => {
    let out = setRuntimeClass(d, "contrast-cc");
    for (const t of podTemplates(d.value)) {
      for (const [k, v] of Object.entries(MESH[t.name] ?? {}))
        out = setAnnotation(out, k, v, { scope: "object", workload: t.name });
    }
    return out;
  });
  return serializeYamlDocuments(docs);
}
const patch = (text: string, file: string): YamlDocument[] =>
  parseYamlDocuments(text, file).map((d) => patchWorkload(d, OPTIONS));

describe("emojivoto, injected", () => {
  for (const file of FILES) {
    it(`${file}: matches its golden file, changes only the Deployments, and a second run changes nothing`, async () => {
      const input = prepare(file);
      const out = serializeYamlDocuments(patch(input, file));
      await expect(out).toMatchFileSnapshot(join(REPO, "testdata/golden/kube/emojivoto", file));
      expect(serializeYamlDocuments(patch(out, file))).toBe(out);
      const before = parseYamlDocuments(input, file);
      const after = parseYamlDocuments(out, file);
      expect(after).toHaveLength(before.length);
      before.forEach((d, i) => {
        const isWorkload = podTemplates(d.value).length > 0;
        if (!isWorkload) expect(after[i]?.raw).toBe(d.raw);
      });
    });
  }

  it("every Deployment has the initializer first and mounts /contrast; the mesh goes where it is configured", () => {
    const sidecars: Record<string, JsonRecord | undefined> = {};
    for (const file of FILES) {
      for (const d of patch(prepare(file), file)) {
        for (const t of podTemplates(d.value)) {
          const init = t.spec.initContainers as JsonRecord[];
          expect(init[0]?.name).toBe("contrast-initializer");
          expect(t.spec.runtimeClassName).toBe(OPTIONS.runtimeHandler);
          for (const c of t.spec.containers as JsonRecord[]) {
            expect(c.volumeMounts).toContainEqual({ name: "contrast-secrets", mountPath: "/contrast" });
          }
          sidecars[t.name] = init.find((c) => c.name === "contrast-service-mesh");
        }
      }
    }
    expect(Object.keys(sidecars).sort()).toEqual(["emoji", "vote-bot", "voting", "web"]);
    expect(sidecars["vote-bot"]).toBeUndefined();
    expect(sidecars.emoji?.env).toBeUndefined();
    expect(sidecars.voting?.ports).toEqual([{ name: "contrast-admin", containerPort: 9901 }]);
    expect(sidecars.web?.env).toEqual([
      { name: "CONTRAST_INGRESS_PROXY_CONFIG", value: "web#8080#false" },
      { name: "CONTRAST_EGRESS_PROXY_CONFIG", value: MESH.web?.[CONTRAST_ANNOTATIONS.meshEgress] },
    ]);
    expect(sidecars.web?.image).toBe(
      OPTIONS.imageReplacements?.get("ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest"),
    );
  });

  it("the mesh annotations are valid, and the lints name what the guide warns about", () => {
    const files = FILES.map((file) => ({ source: file, documents: patch(prepare(file), file) }));
    expect(validateMeshAnnotations(files)).toEqual([]);
    const findings = lintWorkloads(files, { podOverheadMiB: 512, bareMetal: true });
    // emojivoto sets CPU requests only, and pins its images by tag.
    const warnings = findings.filter((f) => f.severity === "warning").map(formatFinding);
    expect(warnings).toContain(
      "emoji.yml:7 (document 1) Deployment emojivoto/emoji container emoji-svc: no memory limit: the pod VM gets no memory for this container beyond the runtime overhead",
    );
    expect(findings.filter((f) => f.code === "KUBE_MEMORY_LIMIT_MISSING").map((f) => f.container)).toEqual([
      "emoji-svc",
      "vote-bot",
      "voting-svc",
      "web-svc",
    ]);
    expect(findings.filter((f) => f.code === "KUBE_IMAGE_UNPINNED").map((f) => f.entry)).toEqual([
      "docker.l5d.io/buoyantio/emojivoto-emoji-svc:v11",
      "docker.l5d.io/buoyantio/emojivoto-web:v11",
      "docker.l5d.io/buoyantio/emojivoto-voting-svc:v11",
      "docker.l5d.io/buoyantio/emojivoto-web:v11",
    ]);
    expect(findings.filter((f) => f.code === "KUBE_POD_VM_MEMORY").map((f) => f.message)).toEqual(
      Array(4).fill(
        "pod VM memory 512 MiB = 0 MiB container limits + 512 MiB runtime overhead (init containers not counted)",
      ),
    );
  });
});
