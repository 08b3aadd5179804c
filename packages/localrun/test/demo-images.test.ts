import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadImageMetadataFile, nodeFileSystem } from "@contrast/oci";
import { expectCodeAsync, scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { buildDemoImages, DEMO_IMAGE_REPOSITORY } from "../src/index.js";

const TINY = join(import.meta.dirname, "fixtures", "tiny-app");

describe("buildDemoImages", () => {
  it("writes one app-layer image per app, pinned, with its metadata file", async () => {
    const dir = scratchDir();
    const layoutDir = join(dir, "layout");
    const built = await buildDemoImages({
      apps: [{ name: "tiny-app", packageDir: TINY }],
      layoutDir,
      version: "1.2.3",
    });
    expect(built.images).toHaveLength(1);
    const [image] = built.images;
    expect(image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(image?.reference).toBe(`${DEMO_IMAGE_REPOSITORY}/tiny-app:1.2.3@${image?.digest}`);

    const index = JSON.parse(readFileSync(join(layoutDir, "index.json"), "utf8"));
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].digest).toBe(image?.digest);
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe(
      `${DEMO_IMAGE_REPOSITORY}/tiny-app:1.2.3`,
    );

    // The metadata file is the --image-metadata format; the policy generator reads it.
    expect(built.metadataFile).toBe(join(layoutDir, "image-metadata.json"));
    const source = await loadImageMetadataFile(nodeFileSystem, built.metadataFile, "kata");
    const meta = await source.get(image?.reference ?? "");
    await source.close();
    expect(meta.config.Entrypoint).toEqual(["/usr/local/bin/node", "/opt/tiny/serve.js"]);
    expect(meta.config.Cmd).toEqual(["--port", "8080"]);
    expect(meta.config.WorkingDir).toBe("/opt/tiny");
    expect(meta.config.Env).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "NODE_ENV=production",
    ]);
    // Only the app layer: no Node runtime layer.
    expect(meta.layers).toHaveLength(1);

    // The layer as tar sees it: the files, the directory copied whole, the glob's matches only.
    const manifest = JSON.parse(
      readFileSync(join(layoutDir, "blobs", "sha256", (image?.digest ?? "").slice(7)), "utf8"),
    );
    expect(manifest.layers).toHaveLength(1);
    const blob = join(layoutDir, "blobs", "sha256", manifest.layers[0].digest.slice(7));
    const listing = execFileSync("tar", ["-tvzf", blob], { encoding: "utf8" });
    const files = listing
      .split("\n")
      .filter((l) => l.startsWith("-"))
      .map((l) => ({ mode: l.slice(0, 10), path: l.split(/\s+/).pop() }));
    expect(files).toEqual(
      [
        { mode: "-rwxr-xr-x", path: "opt/tiny/serve.js" },
        { mode: "-rw-r--r--", path: "opt/tiny/static/css/a.css" },
        { mode: "-rw-r--r--", path: "opt/tiny/static/index.html" },
        { mode: "-rw-r--r--", path: "opt/tiny/lib/one.txt" },
      ].sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
  });

  it("gives equal digests for equal inputs and another digest when a file changes", async () => {
    const dir = scratchDir();
    const app = join(dir, "app");
    cpSync(TINY, app, { recursive: true });
    const first = await buildDemoImages({
      apps: [{ name: "tiny-app", packageDir: app }],
      layoutDir: join(dir, "a"),
      version: "1",
    });
    const again = await buildDemoImages({
      apps: [{ name: "tiny-app", packageDir: app }],
      layoutDir: join(dir, "b"),
      version: "1",
    });
    expect(again.images[0]?.digest).toBe(first.images[0]?.digest);
    writeFileSync(join(app, "static", "index.html"), "<h1>changed</h1>\n");
    const changed = await buildDemoImages({
      apps: [{ name: "tiny-app", packageDir: app }],
      layoutDir: join(dir, "c"),
      version: "1",
    });
    expect(changed.images[0]?.digest).not.toBe(first.images[0]?.digest);
  });

  it("refuses an app whose files are missing or whose image has another name", async () => {
    const dir = scratchDir();
    const app = join(dir, "app");
    cpSync(TINY, app, { recursive: true });
    await expectCodeAsync(
      () => buildDemoImages({ apps: [{ name: "other", packageDir: app }], layoutDir: join(dir, "l1"), version: "1" }),
      "LOCALRUN_IMAGE_APP_INVALID",
    );
    rmSync(join(app, "bin", "serve.js"));
    await expectCodeAsync(
      () =>
        buildDemoImages({ apps: [{ name: "tiny-app", packageDir: app }], layoutDir: join(dir, "l2"), version: "1" }),
      "LOCALRUN_IMAGE_APP_INVALID",
    );
    await expectCodeAsync(
      () =>
        buildDemoImages({
          apps: [{ name: "tiny-app", packageDir: join(dir, "nowhere") }],
          layoutDir: join(dir, "l3"),
          version: "1",
        }),
      "LOCALRUN_IMAGE_APP_INVALID",
    );
  });
});
