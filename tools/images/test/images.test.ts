import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { freePort, LocalRegistry, REPO_ROOT, repoPath, scratchDir } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImages, pushLayout } from "../src/index.mjs";

const CLI = repoPath("tools", "images", "src", "cli.mjs");
const APPS = ["coordinator", "initializer", "service-mesh"];
const BUNDLES: Record<string, string> = {
  coordinator: "/opt/contrast/contrast-coordinator.cjs",
  initializer: "/opt/contrast/contrast-initializer.cjs",
  "service-mesh": "/opt/contrast/service-mesh.cjs",
};

interface ImagesJson {
  schema: string;
  version: string;
  images: Record<
    string,
    {
      name: string;
      digest: string;
      mediaType: string;
      size: number;
      layers: { digest: string; size: number; diffId: string }[];
      config: string;
    }
  >;
  runtime: { node: string; layer: string; debianPackages: string; libraries: string[] };
}

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, "utf8")) as T;

/** Every file of a directory tree with its bytes, by relative path. */
function tree(dir: string, prefix = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) for (const [k, v] of tree(p, `${prefix}${name}/`)) out.set(k, v);
    else out.set(`${prefix}${name}`, readFileSync(p));
  }
  return out;
}

function cli(args: string[], input?: string) {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    ...(input === undefined ? {} : { input }),
    env: { ...process.env, DOCKER_CONFIG: scratchDir() },
  });
}

// The apps' bundles come from `pnpm build`, which `pnpm test` runs first.
const built = APPS.every((a) => existsSync(repoPath("apps", a, "dist", BUNDLES[a]?.split("/").pop() ?? "missing")));

describe.skipIf(!built)("tools/images build (needs the apps built: pnpm build)", () => {
  const first = scratchDir("contrast-images-a-");
  const second = scratchDir("contrast-images-b-");
  let imagesA: ImagesJson;
  let imagesB: ImagesJson;

  beforeAll(() => {
    // Once through the CLI, as `pnpm images` runs it, once through the module.
    const res = cli(["build", "--out", join(first, "layout")]);
    expect(res.status, res.stderr).toBe(0);
    for (const app of APPS) expect(res.stdout).toMatch(new RegExp(`^${app}@sha256:[0-9a-f]{64} `, "m"));
    imagesA = readJson(join(first, "layout", "images.json"));
  }, 600_000);

  it("gives identical images.json and byte-identical blobs, index and oci-layout on a second clean build", async () => {
    await buildImages({ root: REPO_ROOT, out: join(second, "layout") });
    imagesB = readJson(join(second, "layout", "images.json"));
    expect(imagesB).toEqual(imagesA);
    const a = tree(join(first, "layout"));
    const b = tree(join(second, "layout"));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, bytes] of a) expect(Buffer.compare(bytes, b.get(path) as Buffer), path).toBe(0);
    // Blobs named by their hash, as the layout requires.
    expect(a.size).toBeGreaterThan(5);
  }, 600_000);

  it("writes images.json per the contract, with one runtime layer shared by every image", () => {
    expect(imagesA.schema).toBe("contrast-images/v1");
    expect(imagesA.version).toBe(readJson<{ version: string }>(repoPath("apps", "cli", "package.json")).version);
    expect(Object.keys(imagesA.images)).toEqual(expect.arrayContaining(APPS));
    for (const app of APPS) {
      const image = imagesA.images[app];
      expect(image?.name).toBe(app);
      expect(image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(image?.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
      expect(image?.layers).toHaveLength(2);
      expect(image?.layers[0]?.digest).toBe(imagesA.runtime.layer);
    }
    expect(imagesA.runtime.node).toBe("24.21.0");
    expect(imagesA.runtime.debianPackages).toMatch(/libc6:amd64=/);
    const index = readJson<{ manifests: { digest: string; annotations: Record<string, string> }[] }>(
      join(first, "layout", "index.json"),
    );
    for (const m of index.manifests) {
      const name = m.annotations["org.opencontainers.image.ref.name"] as string;
      expect(imagesA.images[name]?.digest).toBe(m.digest);
    }
  });

  it("changes only the changed app's digest when one line of one bundle changes", async () => {
    const target = repoPath("apps", "initializer", "dist", "contrast-initializer.cjs");
    const out = join(scratchDir(), "layout");
    const changed: ImagesJson = await buildImages({
      root: REPO_ROOT,
      out,
      readFile: (p: string) =>
        p === target ? Buffer.concat([readFileSync(p), Buffer.from("\n// one more line\n")]) : readFileSync(p),
    });
    expect(changed.images.initializer?.digest).not.toBe(imagesA.images.initializer?.digest);
    expect(changed.images.initializer?.layers[1]?.digest).not.toBe(imagesA.images.initializer?.layers[1]?.digest);
    expect(changed.runtime.layer).toBe(imagesA.runtime.layer);
    for (const app of APPS.filter((a) => a !== "initializer")) {
      expect(changed.images[app]?.digest).toBe(imagesA.images[app]?.digest);
    }
  }, 600_000);

  it("is accepted by skopeo inspect, with the config the image section asks for", () => {
    for (const app of APPS) {
      const out = JSON.parse(
        execFileSync("skopeo", ["inspect", `oci:${join(first, "layout")}:${app}`], { encoding: "utf8" }),
      );
      expect(out.Digest).toBe(imagesA.images[app]?.digest);
      expect(out.Layers).toEqual(imagesA.images[app]?.layers.map((l) => l.digest));
      expect(out.Labels["org.contrast.runtime.debian-packages"]).toBe(imagesA.runtime.debianPackages);
      expect(out.Labels["org.contrast.runtime.node"]).toBe("24.21.0");
      const config = JSON.parse(
        execFileSync("skopeo", ["inspect", "--config", `oci:${join(first, "layout")}:${app}`], { encoding: "utf8" }),
      );
      expect(config.config.Entrypoint).toEqual(["/usr/local/bin/node", BUNDLES[app]]);
      expect(config.config.Env).toContain("NODE_ENV=production");
      expect(config.created).toBeUndefined();
    }
    const coordinator = JSON.parse(
      execFileSync("skopeo", ["inspect", "--config", `oci:${join(first, "layout")}:coordinator`], { encoding: "utf8" }),
    );
    expect(Object.keys(coordinator.config.ExposedPorts).sort()).toEqual(["1313/tcp", "7777/tcp", "9102/tcp"]);
  });

  it("unpacks with umoci into a rootfs whose node runs each bundle and loads the mesh addon (chroot)", () => {
    // Every image the layout holds, including apps added later (their bundle is the entrypoint's script).
    for (const app of Object.keys(imagesA.images)) {
      const bundle = join(scratchDir(), "bundle");
      execFileSync("umoci", ["unpack", "--image", `${join(first, "layout")}:${app}`, bundle], { stdio: "ignore" });
      const rootfs = join(bundle, "rootfs");
      const node = join(rootfs, "usr", "local", "bin", "node");
      expect(statSync(node).mode & 0o777).toBe(0o755);
      const args = readJson<{ process: { args: string[] } }>(join(bundle, "config.json")).process.args;
      expect(args[0]).toBe("/usr/local/bin/node");
      expect(statSync(join(rootfs, args[1] as string)).isFile()).toBe(true);
      expect(statSync(join(rootfs, "tmp")).mode & 0o7777).toBe(0o1777);
      expect(readlinkSync(join(rootfs, "lib64"))).toBe("usr/lib64");
      expect(lstatSync(join(rootfs, "usr", "lib", "x86_64-linux-gnu", "libc.so.6")).isFile()).toBe(true);
      expect(readFileSync(join(rootfs, "etc", "passwd"), "utf8")).toMatch(/^nobody:x:65534:65534:/m);
      const run = (args: string[]) =>
        execFileSync("chroot", [rootfs, "/usr/local/bin/node", ...args], {
          encoding: "utf8",
          env: { PATH: "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
        });
      expect(run(["-p", "process.version"]).trim()).toBe("v24.21.0");
      // The bundle itself starts under Node 24 (its --version exits before any I/O).
      if (APPS.includes(app)) expect(run([args[1] as string, "--version"]).trim()).toBe(imagesA.version);
      if (app === "service-mesh") {
        expect(existsSync(join(rootfs, "opt", "contrast", "original_dst.node"))).toBe(true);
        expect(run(["-p", 'typeof require("/opt/contrast/original_dst.node")'])).toMatch(/object|function/);
      }
      // Nothing from the host beyond the listed libraries.
      const libs = readdirSync(join(rootfs, "usr", "lib", "x86_64-linux-gnu")).sort();
      expect(libs.length).toBeLessThanOrEqual(9);
    }
  }, 120_000);

  it("refuses to replace an output directory that is not a layout", async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, "precious.txt"), "keep");
    const res = cli(["build", "--out", dir, "--image", "coordinator"]);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("OCI_LAYOUT_INVALID");
    expect(readFileSync(join(dir, "precious.txt"), "utf8")).toBe("keep");
  });

  describe("push", () => {
    let registry: LocalRegistry;
    let secured: LocalRegistry;
    beforeAll(async () => {
      registry = await LocalRegistry.start();
      secured = await LocalRegistry.start({ htpasswd: { user: "ci", password: "pa55" } });
    });
    afterAll(async () => {
      await registry.stop();
      await secured.stop();
    });

    it("pushes every image (name@digest per line) and skopeo copies each back with the same digest", () => {
      const res = cli([
        "push",
        "--layout",
        join(first, "layout"),
        "--registry",
        `${registry.host}/contrast`,
        "--tag",
        "v0.1.0",
        "--insecure",
      ]);
      expect(res.status, res.stderr).toBe(0);
      const lines = res.stdout.trim().split("\n").sort();
      const names = Object.keys(imagesA.images);
      expect(lines).toEqual(names.map((a) => `${registry.host}/contrast/${a}@${imagesA.images[a]?.digest}`).sort());
      for (const app of names) {
        const dir = scratchDir();
        execFileSync("skopeo", [
          "copy",
          "--src-tls-verify=false",
          `docker://${registry.host}/contrast/${app}:v0.1.0`,
          `oci:${dir}:${app}`,
        ]);
        const pulled = JSON.parse(execFileSync("skopeo", ["inspect", `oci:${dir}:${app}`], { encoding: "utf8" }));
        expect(pulled.Digest).toBe(imagesA.images[app]?.digest);
      }
    }, 300_000);

    it("uploads the runtime layer once and mounts it for the other images", async () => {
      const results = await pushLayout({
        layout: join(first, "layout"),
        target: `${registry.host}/once`,
        insecure: true,
      });
      const total = results.reduce((n: number, r: { uploaded: number }) => n + r.uploaded, 0);
      const mounted = results.reduce((n: number, r: { mounted: number }) => n + r.mounted, 0);
      expect(mounted).toBe(results.length - 1);
      expect(total).toBe(1 + 2 * results.length);
    }, 300_000);

    it("pushes with --username/--password-stdin to a registry with Basic auth, and fails clearly on a wrong one", () => {
      const args = [
        "push",
        "--layout",
        join(first, "layout"),
        "--registry",
        `${secured.host}/sec`,
        "--image",
        "initializer",
      ];
      const ok = cli([...args, "--username", "ci", "--password-stdin"], "pa55\n");
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout.trim()).toBe(`${secured.host}/sec/initializer@${imagesA.images.initializer?.digest}`);
      const bad = cli([...args, "--username", "ci", "--password-stdin"], "wrong\n");
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/^contrast-images: REGISTRY_UNAUTHORIZED: /m);
      const none = cli(args);
      expect(none.status).toBe(1);
      expect(none.stderr).toMatch(/^contrast-images: REGISTRY_UNAUTHORIZED: /m);
    }, 300_000);

    it("reads credentials from a Docker config.json", () => {
      const dir = scratchDir();
      mkdirSync(join(dir, "d"));
      const auth = Buffer.from("ci:pa55").toString("base64");
      writeFileSync(join(dir, "d", "config.json"), JSON.stringify({ auths: { [secured.host]: { auth } } }));
      const res = cli([
        "push",
        "--layout",
        join(first, "layout"),
        "--registry",
        `${secured.host}/cfg`,
        "--image",
        "coordinator",
        "--docker-config",
        join(dir, "d", "config.json"),
      ]);
      expect(res.status, res.stderr).toBe(0);
    }, 300_000);

    it("reports a registry that is down as REGISTRY_UNAVAILABLE", async () => {
      const port = await freePort();
      const res = cli([
        "push",
        "--layout",
        join(first, "layout"),
        "--registry",
        `127.0.0.1:${port}/x`,
        "--image",
        "coordinator",
      ]);
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/^contrast-images: REGISTRY_UNAVAILABLE: /m);
    }, 120_000);
  });
});

describe("tools/images command line", () => {
  it("exits 2 with the usage for a missing --registry, half-given credentials, a bad SOURCE_DATE_EPOCH or no command", () => {
    for (const args of [["push"], ["push", "--registry", "localhost:5000", "--username", "u"], []]) {
      const res = cli(args);
      expect(res.status, args.join(" ")).toBe(2);
      expect(res.stderr).toMatch(/^contrast-images: |^usage:/m);
    }
    const res = spawnSync(process.execPath, [CLI, "build", "--out", join(scratchDir(), "o")], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, SOURCE_DATE_EPOCH: "yesterday" },
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("SOURCE_DATE_EPOCH");
  });

  it("reports a damaged layout as OCI_LAYOUT_INVALID before pushing anything", () => {
    const dir = scratchDir();
    writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, "index.json"), "{not json");
    const res = cli(["push", "--layout", dir, "--registry", "127.0.0.1:1/x"]);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/^contrast-images: OCI_LAYOUT_INVALID: /m);
  });
});
