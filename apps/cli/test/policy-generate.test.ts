import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";

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
    const list = JSON.parse(r.stdout) as { kind: string; namespace: string; name: string; hash: string }[];
    expect(list).toEqual([
      { kind: "Deployment", namespace: "shop", name: "web", hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    const text = readFileSync(join(dir, "app.yaml"), "utf8");
    const deployment = load(text.split(/^---\n/m)[1] ?? "") as {
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
    writeFileSync(join(dir, "partial.json"), metadataFile({ [IMAGE]: METADATA[IMAGE] }));
    const r = await cli(["policy", "generate", "app.yaml", "--image-metadata", "partial.json", "-o", "json"], {
      cwd: dir,
    });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "IMAGE_NOT_IN_SOURCE", hint: expect.any(String) });
    writeFileSync(join(dir, "bad.yaml"), WORKLOADS.replace("- name: app", "- name: app\n          bogus: 1"));
    const bad = await cli(["policy", "generate", "bad.yaml", "--image-metadata", "images.json"], { cwd: dir });
    expect(bad.status).toBe(2);
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
});
