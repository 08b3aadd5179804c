// The podman helper against the real podman: a tiny image (this machine's node binary and the
// libraries it links, built with testkit's buildImage into an OCI layout) pulled into private
// storage and run in the foreground and detached, with its limits, mounts, logs and exit codes.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltImage,
  buildImage,
  type FileSpec,
  hardLimits,
  Podman,
  podmanAvailable,
  podmanContainersConf,
  podmanPaths,
  scratchDir,
} from "../src/index.js";

describe("podman configuration", () => {
  it("reads the hard limits from /proc/self/limits text (the column ulimit -H shows)", () => {
    const text = `Limit                     Soft Limit           Hard Limit           Units
Max processes             4096                 96367                processes
Max open files            1024                 20000                files
`;
    expect(hardLimits(text)).toEqual({ nofile: 20000, nproc: 96367 });
    expect(hardLimits(text.replace("96367", "unlimited")).nproc).toBe(Number.POSITIVE_INFINITY);
  });

  it("keeps the ulimits at or below the hard limits, and points every path into its own directory", () => {
    const paths = podmanPaths("/scratch/p");
    const conf = podmanContainersConf(paths, { nofile: 20000, nproc: Number.POSITIVE_INFINITY });
    expect(conf).toContain('default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]');
    expect(conf).toContain('runtime = "runc"');
    expect(conf).toContain('cgroup_manager = "cgroupfs"');
    expect(conf).toContain('events_logger = "file"');
    expect(conf).toContain('log_driver = "k8s-file"');
    expect(conf).toContain('tmp_dir = "/scratch/p/tmp"');
    expect(conf).toContain('"CONTAINERS_CONF=/scratch/p/containers.conf"');
    // Every absolute path in it is under the instance's directory, except PATH's entries.
    const paths_ = [...conf.matchAll(/"(\/[^"]*)"/g)].map((m) => m[1] as string);
    expect(paths_.length).toBeGreaterThan(3);
    for (const p of paths_) expect(p.startsWith("/scratch/p/")).toBe(true);
  });
});

/** The host's node and the shared libraries ldd names for it, as one layer. */
function hostNodeLayer(): FileSpec[] {
  const node = realpathSync(process.execPath);
  const libs = execFileSync("ldd", [node], { encoding: "utf8" })
    .split("\n")
    .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
  const files = new Map<string, FileSpec>();
  const dir = (p: string) => {
    for (let d = dirname(p); d !== "/" && d !== "."; d = dirname(d)) {
      files.set(`${d.slice(1)}/`, { name: `${d.slice(1)}/`, type: "directory" });
    }
  };
  for (const lib of libs) {
    dir(lib);
    files.set(lib.slice(1), { name: lib.slice(1), content: readFileSync(realpathSync(lib)), mode: 0o755 });
  }
  dir("/usr/local/bin/node");
  files.set("usr/local/bin/node", { name: "usr/local/bin/node", content: readFileSync(node), mode: 0o755 });
  files.set("tmp/", { name: "tmp/", type: "directory", mode: 0o1777 });
  return [...files.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A one-image OCI layout whose index names the image `name`. */
function writeLayout(dir: string, name: string, image: BuiltImage): void {
  mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
  const put = (digest: string, bytes: Buffer) => writeFileSync(join(dir, "blobs/sha256", digest.slice(7)), bytes);
  put(image.configDigest, image.config);
  put(image.manifestDigest, image.manifest);
  for (const l of image.layers) put(l.digest, l.gz);
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: image.manifestDigest,
          size: image.manifest.length,
          annotations: { "org.opencontainers.image.ref.name": name },
        },
      ],
    }),
  );
}

const avail = podmanAvailable();

// Off CI the podman tests skip with the reason; .ci/run installs podman, so there a skip would hide
// that none of them ran.
it.runIf(process.env.CI !== undefined)("on CI, podman can run (the podman tests are not skipped)", () => {
  expect(avail).toEqual({ ok: true });
});

describe.skipIf(!avail.ok)(`podman runs a tiny node image${avail.ok ? "" : ` (skipped: ${avail.reason})`}`, () => {
  let podman: Podman;
  let image: string;
  // Made in beforeAll, not while collecting: a skipped or filtered-out describe runs no afterAll.
  let layout: string;

  beforeAll(async () => {
    layout = mkdtempSync(join(tmpdir(), "contrast-podman-layout-"));
    const built = await buildImage([hostNodeLayer()], {
      config: { Entrypoint: ["/usr/local/bin/node"], Cmd: ["--version"], WorkingDir: "/" },
    });
    writeLayout(layout, "tiny", built);
    podman = Podman.create();
    image = await podman.pullOci(layout, "tiny");
  }, 120_000);
  afterAll(async () => {
    await podman?.destroy();
    if (layout !== undefined) rmSync(layout, { recursive: true, force: true });
  });

  it("pulls the layout's image into private storage only", async () => {
    expect(image).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(podman.paths.root, "overlay-images"))).toBe(true);
    const names = await podman.exec(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(names.stdout).toContain("localhost/tiny:test");
    // Another instance sees none of it.
    const other = Podman.create();
    try {
      const exists = await other.exec(["image", "exists", "localhost/tiny:test"], { allowFailure: true });
      expect(exists.code).toBe(1);
    } finally {
      await other.destroy();
    }
    expect(existsSync(other.paths.dir)).toBe(false);
  });

  it("runs it in the foreground: output, exit code and the configured ulimits", async () => {
    const version = await podman.run({ image });
    expect(version).toMatchObject({ code: 0, stdout: `${process.version}\n` });
    const limits = await podman.run({
      image,
      args: ["-e", "process.stdout.write(require('fs').readFileSync('/proc/self/limits','utf8')); process.exit(3)"],
    });
    expect(limits.code).toBe(3);
    const inside = hardLimits(limits.stdout);
    const outside = hardLimits();
    expect(inside.nofile).toBe(Math.min(outside.nofile, 1_048_576));
    expect(inside.nproc).toBe(Math.min(outside.nproc, 32_768));
  });

  it("runs it detached on the host network with a bind mount; logs, SIGTERM, exit code, removal", async () => {
    const dir = scratchDir("contrast-podman-mount-");
    writeFileSync(join(dir, "in.txt"), "from the host");
    const program = `
      const fs = require("fs"), http = require("http");
      const s = http.createServer((q, r) => r.end(fs.readFileSync("/data/in.txt")));
      s.listen(0, "127.0.0.1", () => console.error(JSON.stringify({ level: "INFO", msg: "listening", port: s.address().port })));
      process.on("SIGTERM", () => { fs.writeFileSync("/data/out.txt", "stopped"); process.exit(7); });`;
    const c = await podman.start({ image, args: ["-e", program], mounts: [{ source: dir, target: "/data" }] });
    const line = await c.logs.waitFor((l) => l.msg === "listening", "listening", 60_000);
    const res = await fetch(`http://127.0.0.1:${line.port as number}/`);
    expect(await res.text()).toBe("from the host");
    expect(((await c.inspect()).State as { Status: string }).Status).toBe("running");
    await c.stop(10);
    expect(await c.wait()).toBe(7);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("stopped");
    await c.remove();
    const gone = await podman.exec(["container", "exists", c.id], { allowFailure: true });
    expect(gone.code).toBe(1);
  });

  it("sweeps the instance of a test process that died: its containers are removed, its directory deleted", async () => {
    // The "test process" is a child that lives while its instance is set up (so that no test file
    // running in parallel sweeps it early), then dies by SIGKILL.
    const owner = spawn("sleep", ["600"], { stdio: "ignore" });
    const dir = join(tmpdir(), `contrast-podman-${owner.pid}-0123abcd`);
    const orphan = Podman.create({ dir });
    const orphanImage = await orphan.pullOci(layout, "tiny");
    const c = await orphan.start({ image: orphanImage, args: ["-e", "setInterval(() => {}, 1000)"] });
    expect(((await c.inspect()).State as { Status: string }).Status).toBe("running");
    const conmons = () =>
      spawnSync("pgrep", ["-f", `conmon.*${dir}`], { encoding: "utf8" })
        .stdout.trim()
        .split("\n")
        .filter(Boolean);
    expect(conmons().length).toBeGreaterThan(0);
    await new Promise((resolve) => {
      owner.on("exit", resolve);
      owner.kill("SIGKILL");
    });
    const next = Podman.create();
    try {
      // Swept by this create, or by a test file in parallel that got to it first.
      for (let i = 0; i < 120 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 250));
      expect(existsSync(dir)).toBe(false);
      expect(conmons()).toEqual([]);
    } finally {
      await next.destroy();
    }
  });

  it("a failing podman command rejects with podman's own message", async () => {
    await expect(podman.exec(["image", "inspect", "localhost/no-such-image:test"])).rejects.toThrow(/no-such-image/);
  });
});
