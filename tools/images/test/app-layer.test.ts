import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectCodeAsync, scratchDir } from "@contrast/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { buildImages } from "../src/index.mjs";

/** A workspace of one app, laid out as the real one (apps/<name>/package.json with "image"). */
function fakeRoot(image: Record<string, unknown>): string {
  const root = scratchDir("contrast-images-root-");
  mkdirSync(join(root, "apps", "cli"), { recursive: true });
  writeFileSync(join(root, "apps", "cli", "package.json"), JSON.stringify({ name: "cli", version: "9.9.9" }));
  const app = join(root, "apps", "tool");
  mkdirSync(join(app, "dist", "nested", "deeper"), { recursive: true });
  mkdirSync(join(app, "assets", "sub"), { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "tool", version: "1.0.0", image }));
  writeFileSync(join(app, "dist", "main.cjs"), 'console.log("hi from", process.version)\n');
  chmodSync(join(app, "dist", "main.cjs"), 0o700);
  writeFileSync(join(app, "dist", "a.txt"), "a");
  writeFileSync(join(app, "dist", "nested", "deeper", "b.txt"), "b");
  writeFileSync(join(app, "dist", "skip.md"), "not matched");
  writeFileSync(join(app, "assets", "z"), "z");
  writeFileSync(join(app, "assets", "sub", "y"), "y");
  chmodSync(join(app, "assets", "z"), 0o600);
  return root;
}

const image = {
  name: "tool",
  files: {
    "dist/main.cjs": "/opt/tool/main.cjs",
    "dist/**/*.txt": "/opt/tool/text",
    assets: "/opt/tool/assets",
  },
  entrypoint: ["/usr/local/bin/node", "/opt/tool/main.cjs"],
  hostFiles: ["/usr/bin/nsenter"],
};

describe("app layers: files, globs, directories, modes and host programs", () => {
  let root: string;
  let out: string;
  let rootfs: string;
  let doc: { images: Record<string, { digest: string }>; version: string };

  beforeAll(async () => {
    root = fakeRoot(image);
    out = join(scratchDir(), "layout");
    doc = await buildImages({ root, out, sourceDateEpoch: 1_700_000_000 });
    const bundle = join(scratchDir(), "bundle");
    execFileSync("umoci", ["unpack", "--image", `${out}:tool`, bundle], { stdio: "ignore" });
    rootfs = join(bundle, "rootfs");
  }, 600_000);

  it("copies files, glob matches below the target and directories with their contents", () => {
    expect(doc.version).toBe("9.9.9");
    expect(readFileSync(join(rootfs, "opt/tool/text/a.txt"), "utf8")).toBe("a");
    expect(readFileSync(join(rootfs, "opt/tool/text/nested/deeper/b.txt"), "utf8")).toBe("b");
    expect(existsSync(join(rootfs, "opt/tool/text/skip.md"))).toBe(false);
    expect(readFileSync(join(rootfs, "opt/tool/assets/sub/y"), "utf8")).toBe("y");
  });

  it("dates the config and every file with SOURCE_DATE_EPOCH when given", () => {
    const config = JSON.parse(execFileSync("skopeo", ["inspect", "--config", `oci:${out}:tool`], { encoding: "utf8" }));
    expect(config.created).toBe("2023-11-14T22:13:20Z");
    expect(config.history.map((h: { created: string }) => h.created)).toEqual([config.created, config.created]);
    for (const p of ["opt/tool/main.cjs", "usr/local/bin/node", "opt/tool/assets/sub/y"]) {
      expect(statSync(join(rootfs, p)).mtimeMs).toBe(1_700_000_000_000);
    }
  });

  it("normalises modes: any execute bit gives 0755, else 0644", () => {
    expect(statSync(join(rootfs, "opt/tool/main.cjs")).mode & 0o777).toBe(0o755);
    expect(statSync(join(rootfs, "opt/tool/assets/z")).mode & 0o777).toBe(0o644);
  });

  it("adds host programs with the libraries the runtime layer lacks, and records their packages", () => {
    const run = (args: string[]) =>
      execFileSync("chroot", [rootfs, ...args], {
        encoding: "utf8",
        env: { PATH: "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      });
    expect(run(["/usr/bin/nsenter", "--version"])).toMatch(/nsenter from util-linux/);
    expect(run(["/usr/local/bin/node", "/opt/tool/main.cjs"])).toMatch(/^hi from v24\.21\.0/);
    const config = JSON.parse(execFileSync("skopeo", ["inspect", "--config", `oci:${out}:tool`], { encoding: "utf8" }));
    expect(config.config.Labels["org.contrast.app.debian-packages"]).toMatch(/util-linux:amd64=/);
    expect(config.config.Labels["org.contrast.app.debian-packages"]).toMatch(/libselinux1:amd64=/);
    // libc comes from the runtime layer, not again from the app layer.
    expect(config.config.Labels["org.contrast.app.debian-packages"]).not.toMatch(/libc6:/);
  });

  it("fails with IMAGE_BUILD_INPUT_MISSING for a missing file or an empty glob, before writing", async () => {
    for (const files of [{ "dist/absent.cjs": "/opt/a" }, { "dist/*.none": "/opt/n" }]) {
      const broken = fakeRoot({ ...image, files });
      const where = join(scratchDir(), "layout");
      await expectCodeAsync(() => buildImages({ root: broken, out: where }), "IMAGE_BUILD_INPUT_MISSING");
      expect(existsSync(where)).toBe(false);
    }
  }, 600_000);

  it("fails with IMAGE_SPEC_INVALID for a bad image section or an unknown --image name", async () => {
    await expectCodeAsync(
      () => buildImages({ root: fakeRoot({ ...image, ports: ["80"] }), out: join(scratchDir(), "l") }),
      "IMAGE_SPEC_INVALID",
    );
    await expectCodeAsync(
      () => buildImages({ root, out: join(scratchDir(), "l"), only: ["nope"] }),
      "IMAGE_SPEC_INVALID",
    );
  });
});
