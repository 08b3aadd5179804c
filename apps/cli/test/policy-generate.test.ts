import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { cli, REPO, tempDir } from "./helpers.js";

const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const LAYER = { diffId: `sha256:${"1".repeat(64)}`, verityHash: "2".repeat(64) };
const PLATFORM = { os: "linux", architecture: "amd64" };
const METADATA = {
  [IMAGE]: {
    digest: IMAGE.split("@")[1],
    platform: PLATFORM,
    config: { User: "65535:65535", Entrypoint: ["/pause"] },
    layers: [LAYER],
  },
  "mcr.microsoft.com/oss/kubernetes/pause:3.6": {
    digest: `sha256:${"3".repeat(64)}`,
    platform: PLATFORM,
    config: { User: "65535:65535", Entrypoint: ["/pause"] },
    layers: [LAYER],
  },
};
/** The offline image-metadata document (docs/image-metadata.md). */
const metadataFile = (images: object) => JSON.stringify({ schema: "contrast.image-metadata/v1", images });
const WORKLOADS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: app
          image: ${IMAGE}
`;
const SERVICE = "apiVersion: v1\nkind: Service   # untouched\nmetadata: {name: web}\n";

function workspace(): string {
  const dir = tempDir();
  writeFileSync(join(dir, "app.yaml"), `${WORKLOADS}---\n${SERVICE}`);
  writeFileSync(join(dir, "service.yml"), SERVICE);
  writeFileSync(join(dir, "images.json"), metadataFile(METADATA));
  return dir;
}

describe("contrast policy generate", () => {
  it("annotates confidential workloads in place and prints their hashes as JSON", async () => {
    const dir = workspace();
    const r = await cli(["policy", "generate", dir, "--image-metadata", join(dir, "images.json"), "-o", "json"], {
      cwd: dir,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      workloads: { kind: string; namespace: string; name: string; hash: string }[];
      warnings: unknown[];
    };
    expect(doc.ok).toBe(true);
    expect(doc.warnings).toEqual([]);
    const list = doc.workloads;
    expect(list).toEqual([
      {
        kind: "Deployment",
        namespace: "shop",
        name: "web",
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        annotation: "agent-policy",
      },
    ]);
    const text = readFileSync(join(dir, "app.yaml"), "utf8");
    const deployment = load(text.split(/^---\n/m)[0] ?? "") as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    const annotation = deployment.spec.template.metadata.annotations["io.katacontainers.config.agent.policy"] ?? "";
    expect(createHash("sha256").update(Buffer.from(annotation, "base64")).digest("hex")).toBe(list[0]?.hash);
    expect(text.endsWith(SERVICE)).toBe(true);
    expect(readFileSync(join(dir, "service.yml"), "utf8")).toBe(SERVICE);
    // The generated policy is one `policy check` reads straight from the YAML.
    const check = await cli([
      "policy",
      "check",
      join(dir, "app.yaml"),
      "--kind",
      "GuestDetailsRequest",
      join(dir, "images.json"),
    ]);
    expect(check.status).toBe(0);
  });

  it("writes --output-file instead, and prints text lines", async () => {
    const dir = workspace();
    const before = readFileSync(join(dir, "app.yaml"), "utf8");
    const r = await cli(
      ["policy", "generate", "app.yaml", "--image-metadata", "images.json", "--output-file", "out.yaml"],
      { cwd: dir },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Deployment shop\/web: [0-9a-f]{64}$/m);
    expect(readFileSync(join(dir, "app.yaml"), "utf8")).toBe(before);
    expect(readFileSync(join(dir, "out.yaml"), "utf8")).toContain("io.katacontainers.config.agent.policy");
  });

  it("fails with a code and hint when image metadata is missing, or a field is unknown", async () => {
    const dir = workspace();
    // Offline (tests never reach a registry): an image the file does not describe is an error.
    const { [IMAGE]: _workload, ...pauseOnly } = METADATA;
    writeFileSync(join(dir, "partial.json"), metadataFile(pauseOnly));
    const r = await cli(["policy", "generate", "app.yaml", "--image-metadata", "partial.json", "-o", "json"], {
      cwd: dir,
    });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: "IMAGE_NOT_IN_SOURCE",
      hint: expect.any(String),
      details: { file: join(dir, "app.yaml"), path: "spec.template.spec.containers[0].image" },
    });
    writeFileSync(join(dir, "bad.yaml"), WORKLOADS.replace("- name: app", "- name: app\n          bogus: 1"));
    const bad = await cli(["policy", "generate", "bad.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("POLICY_UNSUPPORTED_FIELD");
    const lenient = await cli(
      ["policy", "generate", "bad.yaml", "--image-metadata", "images.json", "--allow-unsupported-fields"],
      { cwd: dir },
    );
    expect(lenient.status).toBe(0);
    expect(lenient.stderr).toContain("unsupported field");
  });

  it("warns about unpinned images", async () => {
    const dir = workspace();
    const tag = "example.com/app:1.0";
    writeFileSync(join(dir, "tag.yaml"), WORKLOADS.replace(IMAGE, tag));
    writeFileSync(join(dir, "images.json"), metadataFile({ ...METADATA, [tag]: METADATA[IMAGE] }));
    const r = await cli(["policy", "generate", "tag.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("POLICY_IMAGE_UNPINNED");
    const pinned = await cli(["policy", "generate", "tag.yaml", "--image-metadata", "images.json", "--pin-images"], {
      cwd: dir,
    });
    expect(pinned.status).toBe(0);
    expect(pinned.stderr).not.toContain("POLICY_IMAGE_UNPINNED");
    expect(readFileSync(join(dir, "tag.yaml"), "utf8")).toContain(`image: ${tag}@${IMAGE.split("@")[1]}`);
  });

  it("writes no file when any input fails: every file is generated before one is written", async () => {
    const dir = workspace();
    // a.yaml sorts first and is fine; z.yaml fails (a volumeMount without a volume).
    writeFileSync(join(dir, "a.yaml"), WORKLOADS);
    const broken = `${WORKLOADS}          volumeMounts: [{name: data, mountPath: /data}]\n`;
    writeFileSync(join(dir, "z.yaml"), broken);
    const before = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
    const r = await cli(["policy", "generate", dir, "--image-metadata", join(dir, "images.json"), "-o", "json"], {
      cwd: dir,
    });
    expect(r.status).toBe(1);
    const error = JSON.parse(r.stdout).error;
    expect(error).toMatchObject({
      code: "POLICY_VOLUME_MISSING",
      details: { file: join(dir, "z.yaml"), path: "spec.template.spec.containers[0].volumeMounts[0].name" },
    });
    expect(error.message).toContain("z.yaml");
    // Nothing changed, and no temporary file was left behind.
    expect(new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]))).toEqual(before);
    writeFileSync(join(dir, "z.yaml"), WORKLOADS);
    const ok = await cli(["policy", "generate", dir, "--image-metadata", join(dir, "images.json")], { cwd: dir });
    expect(ok.status).toBe(0);
    expect(readFileSync(join(dir, "a.yaml"), "utf8")).toContain("io.katacontainers.config.agent.policy");
    expect(readFileSync(join(dir, "z.yaml"), "utf8")).toContain("io.katacontainers.config.agent.policy");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("needs no registry for the default pause image, and fetches a changed one naming the setting", async () => {
    const dir = workspace();
    // The metadata file describes the workload image only: the pause image's metadata is built in.
    writeFileSync(join(dir, "images.json"), metadataFile({ [IMAGE]: METADATA[IMAGE] }));
    const r = await cli(["policy", "generate", "app.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // A drop-in in settings.d/ applies to the built-in settings when there is no settings.json.
    mkdirSync(join(dir, "settings.d"));
    const pause = "registry.example/pause:9.9";
    writeFileSync(
      join(dir, "settings.d", "10-pause.json"),
      JSON.stringify([{ op: "replace", path: "/cluster_config/pause_container_image", value: pause }]),
    );
    const changed = await cli(["policy", "generate", "app.yaml", "--image-metadata", "images.json", "-o", "json"], {
      cwd: dir,
    });
    expect(changed.status).toBe(1);
    const error = JSON.parse(changed.stdout).error;
    expect(error.code).toBe("IMAGE_NOT_IN_SOURCE");
    expect(error.message).toContain("cluster_config.pause_container_image");
    expect(error.details.setting).toBe("/cluster_config/pause_container_image");
    // Described in the file, the changed pause image is used like any image.
    writeFileSync(join(dir, "images.json"), metadataFile({ [IMAGE]: METADATA[IMAGE], [pause]: METADATA[IMAGE] }));
    const fetched = await cli(["policy", "generate", "app.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(fetched.status).toBe(0);
    const policy = policyOf(readFileSync(join(dir, "app.yaml"), "utf8"));
    expect(policy).toContain(`"pause_container_image": "${pause}"`);
    // A broken drop-in is named by its path.
    const bad = join(dir, "settings.d", "20-bad.json");
    writeFileSync(bad, JSON.stringify([{ op: "replace", path: "/no/such/field", value: 1 }]));
    const broken = await cli(["policy", "generate", "app.yaml", "--image-metadata", "images.json", "-o", "json"], {
      cwd: dir,
    });
    expect(broken.status).toBe(1);
    expect(JSON.parse(broken.stdout).error).toMatchObject({
      code: "POLICY_SETTINGS_PATCH_FAILED",
      details: { file: bad },
    });
  });

  it("names the rules file when the rules cannot make a policy", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "rules.rego"), "package not_the_agent\n");
    const r = await cli(["policy", "generate", "app.yaml", "--image-metadata", "images.json", "-o", "json"], {
      cwd: dir,
    });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: "POLICY_RULES_INVALID",
      details: { file: join(dir, "rules.rego") },
    });
  });

  it("warns once per unpinned image across files, then a summary line", async () => {
    const dir = workspace();
    const tag = "example.com/app:1.0";
    const two = `${WORKLOADS.replace(IMAGE, tag)}        - name: sidecar\n          image: ${tag}\n`;
    writeFileSync(join(dir, "one.yaml"), two);
    writeFileSync(join(dir, "two.yaml"), WORKLOADS.replace(IMAGE, tag).replace("name: web", "name: api"));
    writeFileSync(join(dir, "images.json"), metadataFile({ ...METADATA, [tag]: METADATA[IMAGE] }));
    const r = await cli(["policy", "generate", "one.yaml", "two.yaml", "--image-metadata", "images.json"], {
      cwd: dir,
    });
    expect(r.status).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l.includes("POLICY_IMAGE_UNPINNED"));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`image ${tag} is not pinned by digest (used by 3 containers)`);
    expect(lines[1]).toContain("1 image is not pinned by digest");
  });

  it("keeps a licence header before the first ---, and the comments of annotated workloads", async () => {
    const dir = workspace();
    const header = "# Copyright Example Authors\n# SPDX-License-Identifier: Apache-2.0\n\n";
    const commented = WORKLOADS.replace("  name: web", "  name: web # the shop's front end");
    writeFileSync(join(dir, "app.yaml"), `${header}---\n${commented}---\n${SERVICE}`);
    const r = await cli(["policy", "generate", "app.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(r.status).toBe(0);
    const text = readFileSync(join(dir, "app.yaml"), "utf8");
    expect(text.startsWith(`${header}---\n`)).toBe(true);
    expect(text).toContain("name: web # the shop's front end");
    expect(text).toContain("io.katacontainers.config.agent.policy");
  });

  it("generates the real-world manifests of microservices-demo, bookinfo and the Kubernetes docs offline", async () => {
    const dir = tempDir();
    for (const d of ["microservices-demo", "istio-bookinfo", "k8s-website"]) {
      cpSync(join(REPO, "testdata/kube", d), join(dir, d), { recursive: true });
    }
    // The synthetic corpus metadata (testdata/kube/README.md); the pause image is built in.
    const images = join(REPO, "testdata/kube/images.json");
    const args = ["policy", "generate", dir, "--all-pods", "--image-metadata", images, "-o", "json"];
    const r = await cli(args, { cwd: dir });
    expect(r.status).toBe(0);
    const list = (JSON.parse(r.stdout) as { workloads: { kind: string; name: string }[] }).workloads;
    expect(list.map((w) => `${w.kind}/${w.name}`)).toEqual(
      expect.arrayContaining(["StatefulSet/web", "StatefulSet/mysql"]),
    );
    expect(list).toHaveLength(20);
    const bookinfo = readFileSync(join(dir, "istio-bookinfo/bookinfo.yaml"), "utf8");
    expect(bookinfo.startsWith("# Copyright Istio Authors\n")).toBe(true);
    // Into one file: every input's documents stay separate documents.
    const one = await cli([...args.slice(0, -2), "--output-file", join(dir, "all.yaml")], { cwd: dir });
    expect(one.status).toBe(0);
    const docs = loadAll(readFileSync(join(dir, "all.yaml"), "utf8")).filter((d) => d !== null);
    const separate = [
      "microservices-demo/kubernetes-manifests.yaml",
      "istio-bookinfo/bookinfo.yaml",
      "k8s-website/web.yaml",
      "k8s-website/mysql-statefulset.yaml",
    ]
      .flatMap((f) => loadAll(readFileSync(join(REPO, "testdata/kube", f), "utf8")))
      .filter((d) => d !== null);
    expect(docs).toHaveLength(separate.length);
    // Without --all-pods nothing is selected: none of these names a contrast-cc runtime class.
    const none = await cli(
      ["policy", "generate", join(REPO, "testdata/kube/k8s-website"), "--image-metadata", images],
      {
        cwd: dir,
      },
    );
    expect(none.status).toBe(0);
    expect(none.stderr).toContain("no workload with a contrast-cc runtime class found");
  });
});

describe("contrast policy generate: layer hashes per tarfs flavour", () => {
  it("refuses offline layer hashes made for another platform's tarfs", async () => {
    const dir = workspace();
    const marked = (tarfs: string) =>
      metadataFile(Object.fromEntries(Object.entries(METADATA).map(([k, v]) => [k, { ...v, tarfs }])));
    writeFileSync(join(dir, "kata.json"), marked("kata"));
    writeFileSync(join(dir, "ms.json"), marked("microsoft"));
    const run = (file: string, platform: string) =>
      cli(["policy", "generate", "app.yaml", "--image-metadata", file, "--platform", platform, "-o", "json"], {
        cwd: dir,
      });
    const wrong = await run("kata.json", "aks-clh-snp");
    expect(wrong.status).toBe(1);
    expect(JSON.parse(wrong.stdout).error).toMatchObject({ code: "IMAGE_TARFS_MISMATCH", hint: expect.any(String) });
    expect((await run("ms.json", "aks-clh-snp")).status).toBe(0);
    expect((await run("kata.json", "metal-qemu-snp")).status).toBe(0);
    expect((await run("ms.json", "metal-qemu-snp")).status).toBe(1);
  });
});

function policyOf(yamlText: string): string {
  const m = /io\.katacontainers\.config\.agent\.policy: (\S+)/.exec(yamlText);
  return Buffer.from(m?.[1] ?? "", "base64").toString("utf8");
}
