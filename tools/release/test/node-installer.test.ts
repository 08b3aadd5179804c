import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseYamlDocuments } from "@contrast/kube";
import { PLATFORMS } from "@contrast/manifest";
import { checkRuntimeRegistered, integrityOf } from "@contrast/node-installer";
import { nodeFileSystem } from "@contrast/oci";
import { REPO_ROOT, scratchDir, testdataPath } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { renderRelease } from "../src/index.mjs";
import { writeTinyLayout } from "./layout.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML walked by known paths; a wrong path fails the test
type Json = any;
const INSTALLER = join(REPO_ROOT, "apps/node-installer/dist/node-installer.cjs");
const platform = PLATFORMS.find((p) => p.id === "metal-qemu-snp") as (typeof PLATFORMS)[number];

// What the rendered DaemonSet's init container does on a node, with the real node-installer bundle:
// its arguments and environment from the YAML, the ConfigMap's file at CONFIG_DIR, a fake host
// root at HOST_MOUNT with containerd 1.7's default configuration. The handler it registers must be
// the RuntimeClass's.
describe("runtime-<platform>.yml with the node installer", () => {
  it("installs the payload and registers the RuntimeClass's handler", async () => {
    const dir = scratchDir("release-ni-");
    await writeTinyLayout(join(dir, "layout"));
    const shim = join(dir, "containerd-shim-contrast-cc-v2");
    writeFileSync(shim, "#!/bin/sh\nexit 0\n");
    const payload = {
      files: [
        {
          url: `file://${shim}`,
          path: "/opt/edgeless/@@runtimeName@@/bin/containerd-shim-contrast-cc-v2",
          integrity: integrityOf(readFileSync(shim)),
          executable: true,
        },
      ],
      debugRuntime: false,
    };
    const rendered = await renderRelease({
      imagesJson: readFileSync(join(dir, "layout/images.json"), "utf8"),
      layoutDir: join(dir, "layout"),
      fs: nodeFileSystem,
      imagePrefix: "registry.example.com/contrast",
      runtimePayload: JSON.stringify(payload),
      platforms: [platform],
      hashThreads: 0,
    });
    const yaml = rendered.files.find((f) => f.name === "runtime-metal-qemu-snp.yml")?.text as string;
    const objects = parseYamlDocuments(yaml).map((d) => d.value as Json);
    const runtimeClass = objects.find((o) => o.kind === "RuntimeClass");
    const configMap = objects.find((o) => o.kind === "ConfigMap");
    const pod = objects.find((o) => o.kind === "DaemonSet").spec.template.spec;
    const installer = pod.initContainers[0];

    // The pod's volumes, mapped to directories of this test.
    const host = join(dir, "host");
    const config = join(dir, "config");
    mkdirSync(join(host, "etc/containerd"), { recursive: true });
    writeFileSync(
      join(host, "etc/containerd/config.toml"),
      readFileSync(testdataPath("node-installer/containerd/default-1.7.toml")),
    );
    const volume = (name: string) => pod.volumes.find((v: Json) => v.name === name);
    expect(volume("host-mount").hostPath.path).toBe("/");
    mkdirSync(config);
    for (const [file, text] of Object.entries(configMap.data as Record<string, string>))
      writeFileSync(join(config, file), text);
    expect(volume("config").configMap.name).toBe(configMap.metadata.name);
    const mounts: Record<string, string> = { "host-mount": host, config };
    const at = (path: string) => {
      const m = installer.volumeMounts.find((v: Json) => v.mountPath === path);
      return mounts[m.name] as string;
    };
    const env = Object.fromEntries(installer.env.map((e: Json) => [e.name, e.value]));
    expect(env).toEqual({ HOST_MOUNT: "/host", CONFIG_DIR: "/config" });

    const result = spawnSync(process.execPath, [INSTALLER, ...installer.args, "--no-restart"], {
      env: { PATH: process.env.PATH ?? "", HOST_MOUNT: at(env.HOST_MOUNT), CONFIG_DIR: at(env.CONFIG_DIR) },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);

    const handler = runtimeClass.handler as string;
    checkRuntimeRegistered(readFileSync(join(host, "etc/containerd/config.toml"), "utf8"), handler);
    const installed = join(host, "opt/edgeless", handler, "bin/containerd-shim-contrast-cc-v2");
    expect(existsSync(installed)).toBe(true);
    expect(statSync(installed).mode & 0o111).not.toBe(0);
    const kata = readFileSync(join(host, "opt/edgeless", handler, "etc/configuration-qemu-snp.toml"), "utf8");
    // No snapshotter runs in the release's DaemonSet: the guest pulls the images itself.
    expect(JSON.parse(configMap.data["contrast-node-install.json"]).snapshotter).toBe("none");
    expect(kata).toMatch(/force_guest_pull\s*=\s*true/);
  }, 120_000);
});
