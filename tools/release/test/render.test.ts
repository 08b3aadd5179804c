import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ContrastError } from "@contrast/core";
import { parseYamlDocuments } from "@contrast/kube";
import { PLATFORMS } from "@contrast/manifest";
import { nodeFileSystem } from "@contrast/oci";
import { POLICY_ANNOTATION } from "@contrast/policy";
import { expectCode, expectCodeAsync, fuzzRuns, scratchDir } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  coordinatorObjects,
  parseImagesJson,
  parseRuntimePayload,
  RELEASE_PLATFORMS,
  renderRelease,
  runtimeObjects,
  validateObjects,
} from "../src/index.mjs";
import { writeTinyLayout } from "./layout.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON walked by known paths; a wrong path fails the test
type Json = any;

const PREFIX = "registry.example.com:5000/contrast";
const byId = (id: string) => PLATFORMS.find((p) => p.id === id) as (typeof PLATFORMS)[number];
const TWO = [byId("metal-qemu-snp"), byId("metal-qemu-tdx")];

async function render(dir: string, extra: Partial<Parameters<typeof renderRelease>[0]> = {}) {
  return renderRelease({
    imagesJson: readFileSync(join(dir, "images.json"), "utf8"),
    layoutDir: dir,
    fs: nodeFileSystem,
    imagePrefix: PREFIX,
    hashThreads: 0,
    ...extra,
  });
}
const file = (r: Awaited<ReturnType<typeof render>>, name: string) => {
  const f = r.files.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no ${name}`);
  return f.text;
};
type Obj = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: Json };
const objects = (yaml: string) => parseYamlDocuments(yaml).map((d) => d.value as Obj);

describe("renderRelease", () => {
  it("gives the same bytes for the same inputs, built into different directories", async () => {
    const a = scratchDir("release-a-");
    const b = scratchDir("release-b-");
    await writeTinyLayout(a);
    await writeTinyLayout(b);
    const first = await render(a);
    const second = await render(b);
    expect(first.files.map((f) => f.name)).toEqual([
      ...RELEASE_PLATFORMS.flatMap((p) => [`runtime-${p.id}.yml`, `coordinator-${p.id}.yml`]),
      "release.json",
    ]);
    expect(second.files).toEqual(first.files);
    // One file per hardware platform; the simulated TEE has no runtime to install.
    expect(RELEASE_PLATFORMS.map((p) => p.id)).toEqual(PLATFORMS.filter((p) => !p.simulated).map((p) => p.id));
  }, 120_000);

  it("pins every image by the digest of images.json and names the handler everywhere", async () => {
    const dir = scratchDir("release-pin-");
    const built = await writeTinyLayout(dir);
    const r = await render(dir, { platforms: TWO });
    const release = r.release as {
      images: Record<string, string>;
      platforms: Record<string, { runtimeHandler: string; coordinatorPolicyHash: string }>;
    };
    for (const [name, entry] of Object.entries(built.images) as [string, { digest: string }][])
      expect(release.images[name]).toBe(`${PREFIX}/${name}:0.1.0@${entry.digest}`);
    const handler = release.platforms["metal-qemu-snp"]?.runtimeHandler as string;
    expect(handler).toMatch(/^contrast-cc-metal-qemu-snp-[0-9a-f]{8}$/);

    const runtime = objects(file(r, "runtime-metal-qemu-snp.yml"));
    const rc = runtime.find((o) => o.kind === "RuntimeClass") as Obj & { handler: string; overhead: unknown };
    expect(rc.metadata.name).toBe(handler);
    expect(rc.handler).toBe(handler);
    expect(rc.overhead).toEqual({ podFixed: { memory: "512Mi" } });
    const ds = runtime.find((o) => o.kind === "DaemonSet") as Obj;
    expect(ds.metadata.name).toBe(`${handler}-nodeinstaller`);
    expect(ds.spec.template.spec.initContainers[0].image).toBe(release.images["node-installer"]);
    expect(ds.spec.template.spec.initContainers[0].args).toEqual(["metal-qemu-snp", "--runtime-handler", handler]);
    expect(ds.spec.template.spec.containers[0].image).toBe(release.images["node-installer"]);
    expect(ds.spec.template.spec.containers[0].args).toEqual(["pause"]);

    const coordinator = objects(file(r, "coordinator-metal-qemu-snp.yml"));
    const sts = coordinator.find((o) => o.kind === "StatefulSet") as Obj;
    expect(sts.spec.template.spec.runtimeClassName).toBe(handler);
    expect(sts.spec.template.spec.containers[0].image).toBe(release.images.coordinator);
    expect(sts.spec.template.spec.containers[0].env).toContainEqual({ name: "CONTRAST_PLATFORM", value: "snp" });
    // The policy hash in release.json is the hash of the annotation written into the YAML.
    const annotation = sts.spec.template.metadata.annotations[POLICY_ANNOTATION] as string;
    const policy = Buffer.from(annotation, "base64");
    expect(createHash("sha256").update(policy).digest("hex")).toBe(
      release.platforms["metal-qemu-snp"]?.coordinatorPolicyHash,
    );
    // The policy describes the layout's image: the entrypoint of its config is the process it allows.
    expect(policy.toString("utf8")).toContain("/opt/contrast/coordinator.cjs");
    expect(policy.toString("utf8")).not.toContain("/opt/contrast/initializer.cjs");
    const services = coordinator.filter((o) => o.kind === "Service").map((o) => o.metadata.name);
    expect(services).toEqual(["coordinator", "coordinator-ready"]);
  }, 60_000);

  it("the ConfigMap store by default (through the service account, no PVC); --coordinator-store fs: a PVC, its own policy", async () => {
    const dir = scratchDir("release-store-");
    await writeTinyLayout(dir);
    const fs = await render(dir, { platforms: TWO, coordinatorStore: "fs" });
    const cm = await render(dir, { platforms: TWO });
    const sts = objects(file(cm, "coordinator-metal-qemu-snp.yml")).find((o) => o.kind === "StatefulSet") as Obj;
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    const container = sts.spec.template.spec.containers[0];
    expect(container.volumeMounts).toBeUndefined();
    expect(container.env).toContainEqual({ name: "CONTRAST_STORE", value: "configmap" });
    expect(container.env).toContainEqual({
      name: "CONTRAST_NAMESPACE",
      valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
    });
    expect(sts.spec.template.spec.serviceAccountName).toBe("coordinator");
    const fsSts = objects(file(fs, "coordinator-metal-qemu-snp.yml")).find((o) => o.kind === "StatefulSet") as Obj;
    expect(fsSts.spec.volumeClaimTemplates[0].metadata.name).toBe("state");
    // The environment is part of the policy: the two Coordinators are told apart by their hash.
    const hash = (r: Awaited<ReturnType<typeof render>>) =>
      (r.release as Json).platforms["metal-qemu-snp"].coordinatorPolicyHash as string;
    expect(hash(cm)).not.toBe(hash(fs));
  }, 60_000);

  it("a changed Coordinator image changes its policy hash, not the runtime handler", async () => {
    const a = scratchDir("release-c1-");
    const b = scratchDir("release-c2-");
    await writeTinyLayout(a);
    await writeTinyLayout(b, { salt: "one more line" });
    const ra = (await render(a, { platforms: TWO })).release as Json;
    const rb = (await render(b, { platforms: TWO })).release as Json;
    expect(rb.images.coordinator).not.toBe(ra.images.coordinator);
    expect(rb.images["node-installer"]).toBe(ra.images["node-installer"]);
    for (const p of TWO) {
      expect(rb.platforms[p.id].coordinatorPolicyHash).not.toBe(ra.platforms[p.id].coordinatorPolicyHash);
      expect(rb.platforms[p.id].runtimeHandler).toBe(ra.platforms[p.id].runtimeHandler);
    }
  }, 60_000);

  it("the runtime payload's integrity hashes are part of the runtime handler", async () => {
    const dir = scratchDir("release-payload-");
    await writeTinyLayout(dir);
    const payload = (integrity: string) =>
      JSON.stringify({
        files: [
          {
            url: "https://example.com/kata/containerd-shim-contrast-cc-v2",
            path: "/opt/edgeless/@@runtimeName@@/bin/containerd-shim-contrast-cc-v2",
            integrity,
            executable: true,
          },
        ],
        debugRuntime: false,
      });
    const one = `sha256-${Buffer.alloc(32, 1).toString("base64")}`;
    const two = `sha256-${Buffer.alloc(32, 2).toString("base64")}`;
    const ra = (await render(dir, { platforms: TWO, runtimePayload: payload(one) })).release as Json;
    const rb = (await render(dir, { platforms: TWO, runtimePayload: payload(two) })).release as Json;
    const rc = (await render(dir, { platforms: TWO })).release as Json;
    expect(ra.platforms["metal-qemu-snp"].runtimeHandler).not.toBe(rb.platforms["metal-qemu-snp"].runtimeHandler);
    expect(ra.platforms["metal-qemu-snp"].runtimeHandler).not.toBe(rc.platforms["metal-qemu-snp"].runtimeHandler);
    // Same Coordinator image and profile: same policy, whatever runtime it runs on.
    expect(ra.platforms["metal-qemu-snp"].coordinatorPolicyHash).toBe(
      rb.platforms["metal-qemu-snp"].coordinatorPolicyHash,
    );
    const r = await render(dir, { platforms: TWO, runtimePayload: payload(one) });
    const cm = objects(file(r, "runtime-metal-qemu-snp.yml")).find((o) => o.kind === "ConfigMap") as Json;
    expect(JSON.parse(cm.data["contrast-node-install.json"]).files[0].integrity).toBe(one);
  }, 60_000);

  it("checks the payload with the node installer's parser: integrity for https, paths, no handler; platforms", () => {
    const ids = TWO.map((p) => p.id);
    const path = "/opt/edgeless/@@runtimeName@@/bin/containerd-shim-contrast-cc-v2";
    const integrity = `sha256-${Buffer.alloc(32).toString("base64")}`;
    const ok = { files: [{ url: "https://example.com/x", path, integrity }] };
    // The release serves no snapshotter: the guest pulls (B's "none"), whether the payload says so or not.
    expect(parseRuntimePayload(JSON.stringify(ok), ids).get("metal-qemu-tdx")).toEqual({ ...ok, snapshotter: "none" });
    expect(parseRuntimePayload(JSON.stringify({ ...ok, snapshotter: "none" }), ids).get("metal-qemu-tdx")).toEqual({
      ...ok,
      snapshotter: "none",
    });
    // Each case differs from `ok` in one field; the node installer's own parser refuses it.
    const broken = [
      { files: [{ url: "https://example.com/x", path }] },
      { files: [{ url: "https://example.com/x", path: "/etc/containerd/config.toml", integrity }] },
      { files: [{ url: "ftp://example.com/x", path, integrity }] },
      { files: [{ url: "https://example.com/x", path, integrity, sha: "x" }] },
      { ...ok, runtimeHandler: "contrast-cc-metal-qemu-snp-00000000" },
      { ...ok, snapshotter: "nydus" },
      { ...ok, snapshotter: "fast" },
    ];
    for (const b of broken) expectCode(() => parseRuntimePayload(JSON.stringify(b), ids), "RELEASE_PAYLOAD_INVALID");
    expectCode(() => parseRuntimePayload(JSON.stringify({ nope: { files: [] } }), ids), "RELEASE_PAYLOAD_INVALID");
    expectCode(
      () => parseRuntimePayload(JSON.stringify({ "metal-qemu-snp": { files: [] } }), ids),
      "RELEASE_PAYLOAD_INVALID",
    );
    expect(
      parseRuntimePayload(JSON.stringify({ "metal-qemu-snp": { files: [] }, "metal-qemu-tdx": { files: [] } }), ids)
        .size,
    ).toBe(2);
  });

  it("fails with a clear code when an image of images.json is not in the layout", async () => {
    const dir = scratchDir("release-missing-");
    const built = await writeTinyLayout(dir);
    const other = scratchDir("release-other-");
    await writeTinyLayout(other, { salt: "x" });
    // images.json from another build: its Coordinator digest is not in this layout.
    const imagesJson = readFileSync(join(other, "images.json"), "utf8");
    expect(JSON.parse(imagesJson).images.coordinator.digest).not.toBe(
      (built.images.coordinator as { digest: string }).digest,
    );
    const e = await render(dir, { platforms: TWO, imagesJson }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ContrastError);
    expect((e as ContrastError).code).toMatch(/^(OCI_LAYOUT_|IMAGE_)/);
  }, 60_000);

  it("rejects an image prefix that is not host/path", async () => {
    const dir = scratchDir("release-prefix-");
    await writeTinyLayout(dir);
    for (const prefix of ["contrast", "Registry.example.com/UPPER", "example.com", "example.com/a b"])
      await expectCodeAsync(() => render(dir, { platforms: TWO, imagePrefix: prefix }), "RELEASE_PREFIX_INVALID");
  });
});

describe("validateObjects (the Kubernetes API schema)", () => {
  const platform = byId("metal-qemu-snp");
  const fresh = () =>
    [
      ...runtimeObjects(platform, {
        handler: "contrast-cc-metal-qemu-snp-12345678",
        nodeInstallerImage: "r.io/n@sha256:00",
        installConfig: { files: [] },
      }),
      ...coordinatorObjects(platform, { handler: "contrast-cc-metal-qemu-snp-12345678", image: "r.io/c@sha256:00" }),
    ] as Json[];

  it("accepts the rendered objects", () => {
    validateObjects(fresh(), "fresh");
  });

  it("rejects a broken field in each kind of object (negative tests)", () => {
    const breakages: ((o: Json[]) => void)[] = [
      (o) => {
        o.find((x) => x.kind === "StatefulSet").spec.replicas = "one";
      },
      (o) => {
        delete o.find((x) => x.kind === "StatefulSet").spec.selector;
      },
      (o) => {
        o.find((x) => x.kind === "StatefulSet").spec.template.spec.containers[0].ports[0].containerPort = "userapi";
      },
      (o) => {
        o.find((x) => x.kind === "StatefulSet").spec.template.spec.containers[0].startupProbe.httpGet.port = { n: 1 };
      },
      (o) => {
        o.find((x) => x.kind === "DaemonSet").spec.template.spec.hostPID = "yes";
      },
      (o) => {
        delete o.find((x) => x.kind === "RuntimeClass").handler;
      },
      (o) => {
        o.find((x) => x.kind === "Service").spec.ports[0].port = "1313";
      },
      (o) => {
        delete o.find((x) => x.kind === "ClusterRoleBinding").roleRef;
      },
      (o) => {
        o.find((x) => x.kind === "ConfigMap").data = { a: 1 };
      },
    ];
    for (const broken of breakages) {
      const o = fresh();
      broken(o);
      expectCode(() => validateObjects(o, "broken"), "RELEASE_OBJECT_INVALID");
    }
  });
});

describe("input parsers", () => {
  it("parseImagesJson accepts the contract's shape and rejects the rest with one code (fuzz)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseImagesJson(JSON.stringify(value), "fuzz");
        } catch (e) {
          if (!(e instanceof ContrastError) || e.code !== "RELEASE_IMAGES_INVALID") throw e;
        }
      }),
      { numRuns: fuzzRuns() },
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseImagesJson(text, "fuzz");
        } catch (e) {
          if (!(e instanceof ContrastError) || e.code !== "RELEASE_IMAGES_INVALID") throw e;
        }
      }),
      { numRuns: fuzzRuns() },
    );
  });

  it("parseRuntimePayload rejects anything but node-installer configurations with one code (fuzz)", () => {
    const ids = ["metal-qemu-snp"];
    const file = fc.record(
      {
        url: fc.oneof(fc.constant("file:///x"), fc.constant("https://e.com/x"), fc.string()),
        path: fc.oneof(fc.constant("/opt/edgeless/@@runtimeName@@/bin/x"), fc.constant("/opt/x"), fc.string()),
        integrity: fc.oneof(fc.constant(`sha256-${Buffer.alloc(32).toString("base64")}`), fc.string()),
        executable: fc.oneof(fc.boolean(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const config = fc.oneof(
      fc.record({ files: fc.array(file, { maxLength: 3 }), debugRuntime: fc.jsonValue() }, { requiredKeys: ["files"] }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(config, (value) => {
        try {
          const out = parseRuntimePayload(JSON.stringify(value), ids);
          expect(out.get("metal-qemu-snp")).toBeDefined();
        } catch (e) {
          if (!(e instanceof ContrastError) || e.code !== "RELEASE_PAYLOAD_INVALID") throw e;
        }
      }),
      { numRuns: fuzzRuns() },
    );
  });

  it("parseImagesJson requires every release image", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const images = Object.fromEntries(
      ["coordinator", "initializer", "service-mesh", "node-installer"].map((n) => [n, { digest }]),
    );
    expect(
      parseImagesJson(JSON.stringify({ schema: "contrast-images/v1", version: "1.0.0", images }), "x").version,
    ).toBe("1.0.0");
    const { "node-installer": _, ...without } = images;
    expectCode(
      () => parseImagesJson(JSON.stringify({ schema: "contrast-images/v1", version: "1.0.0", images: without }), "x"),
      "RELEASE_IMAGES_INVALID",
    );
    expectCode(
      () => parseImagesJson(JSON.stringify({ schema: "contrast-images/v1", version: "1.0.0:x", images }), "x"),
      "RELEASE_IMAGES_INVALID",
    );
  });
});
