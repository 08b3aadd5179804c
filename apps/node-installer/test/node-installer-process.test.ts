// The built bundle as the DaemonSet's init container runs it: a process with HOST_MOUNT and
// CONFIG_DIR, the platform as its argument, and a restart command that records its argv.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { integrityOf } from "@contrast/node-installer";
import { scratchDir, testdataPath } from "@contrast/testkit";
import { describe, expect, it } from "vitest";

const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), "../dist/node-installer.cjs");
const HANDLER = "contrast-cc-metal-qemu-snp-1a2b3c4d";
const CONFIG = "etc/containerd/config.toml";

interface Node {
  readonly host: string;
  readonly configDir: string;
  readonly record: string;
  readonly restartCommand: string;
}

function fakeNode(config: unknown): Node {
  const dir = scratchDir("contrast-ni-process-");
  const host = join(dir, "host");
  const configDir = join(dir, "config");
  mkdirSync(join(host, "etc/containerd"), { recursive: true });
  mkdirSync(configDir);
  writeFileSync(join(host, CONFIG), readFileSync(testdataPath("node-installer/containerd/default-1.7.toml")));
  writeFileSync(join(configDir, "contrast-node-install.json"), JSON.stringify(config));
  const record = join(dir, "restarts");
  const restartCommand = join(dir, "record-restart");
  // Stands in for `nsenter --target 1 --mount -- systemctl restart`: one line per call, its argv.
  writeFileSync(restartCommand, `#!/bin/sh\necho "$*" >> "${record}"\n`);
  chmodSync(restartCommand, 0o755);
  return { host, configDir, record, restartCommand };
}

function run(node: Node, args: readonly string[]) {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm build`);
  const result = spawnSync(process.execPath, [BUNDLE, ...args], {
    env: { PATH: process.env.PATH ?? "", HOST_MOUNT: node.host, CONFIG_DIR: node.configDir },
    encoding: "utf8",
    timeout: 60_000,
  });
  const logs = result.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: string; msg: string; error?: { code?: string } });
  return {
    status: result.status,
    logs,
    stdout: result.stdout,
    codes: logs.flatMap((l) => (l.error?.code ? [l.error.code] : [])),
  };
}

const restarts = (node: Node) => (existsSync(node.record) ? readFileSync(node.record, "utf8").trim().split("\n") : []);

function shimConfig(dir: string, integrity?: string) {
  const payload = join(dir, "shim");
  writeFileSync(payload, "#!/bin/sh\nexit 0\n");
  return {
    runtimeHandler: HANDLER,
    files: [
      {
        url: `file://${payload}`,
        path: "/opt/edgeless/@@runtimeName@@/bin/containerd-shim-contrast-cc-v2",
        integrity: integrity ?? integrityOf(readFileSync(payload)),
        executable: true,
      },
    ],
  };
}

describe("node-installer bundle", () => {
  it("installs, restarts containerd once through the configured command, and is a no-op the second time", () => {
    const node = fakeNode(shimConfig(scratchDir()));
    const first = run(node, ["metal-qemu-snp", "--restart-command", node.restartCommand]);
    expect(first.status, JSON.stringify(first.logs)).toBe(0);
    expect(restarts(node)).toEqual(["containerd.service"]);
    const config = readFileSync(join(node.host, CONFIG), "utf8");
    expect(config).toContain(`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${HANDLER}]`);
    expect(existsSync(join(node.host, `opt/edgeless/${HANDLER}/bin/containerd-shim-contrast-cc-v2`))).toBe(true);
    expect(existsSync(join(node.host, `opt/edgeless/${HANDLER}/etc/configuration-qemu-snp.toml`))).toBe(true);
    const second = run(node, ["metal-qemu-snp", "--restart-command", node.restartCommand]);
    expect(second.status).toBe(0);
    expect(restarts(node)).toEqual(["containerd.service"]);
    expect(readFileSync(join(node.host, CONFIG), "utf8")).toBe(config);
  });

  it("-restart=false (upstream's spelling) and --no-restart change the config without running the command", () => {
    for (const flag of ["-restart=false", "--no-restart"]) {
      const node = fakeNode(shimConfig(scratchDir()));
      const result = run(node, ["metal-qemu-snp", flag, "--restart-command", node.restartCommand]);
      expect(result.status).toBe(0);
      expect(readFileSync(join(node.host, CONFIG), "utf8")).toContain(HANDLER);
      expect(restarts(node)).toEqual([]);
    }
  });

  it("exit 2 for input errors (http without integrity, no platform, wrong handler), exit 1 for a digest mismatch", () => {
    const http = fakeNode({
      runtimeHandler: HANDLER,
      files: [{ url: "https://example.com/shim", path: "/opt/edgeless/@@runtimeName@@/bin/x" }],
    });
    const r1 = run(http, ["metal-qemu-snp", "--restart-command", http.restartCommand]);
    expect(r1.status).toBe(2);
    expect(r1.codes).toEqual(["NODE_INSTALL_INTEGRITY_REQUIRED"]);

    const usage = fakeNode(shimConfig(scratchDir()));
    const r2 = run(usage, ["--restart-command", usage.restartCommand]);
    expect(r2.status).toBe(2);
    expect(r2.codes).toEqual(["NODE_INSTALL_USAGE"]);
    const r3 = run(usage, ["metal-qemu-tdx", "--restart-command", usage.restartCommand]);
    expect(r3.status).toBe(2);
    expect(r3.codes).toEqual(["NODE_INSTALL_PLATFORM_MISMATCH"]);

    const tampered = fakeNode(shimConfig(scratchDir(), integrityOf(new Uint8Array([1]))));
    const before = readFileSync(join(tampered.host, CONFIG), "utf8");
    const r4 = run(tampered, ["metal-qemu-snp", "--restart-command", tampered.restartCommand]);
    expect(r4.status).toBe(1);
    expect(r4.codes).toEqual(["NODE_INSTALL_INTEGRITY_MISMATCH"]);
    expect(readFileSync(join(tampered.host, CONFIG), "utf8")).toBe(before);
    const installed = readdirSync(join(tampered.host, "opt"), { recursive: true, withFileTypes: true }).filter((d) =>
      d.isFile(),
    );
    expect(installed).toEqual([]);
    expect(restarts(tampered)).toEqual([]);
  });

  it("exit 1 when the restart command fails", () => {
    const node = fakeNode(shimConfig(scratchDir()));
    const result = run(node, ["metal-qemu-snp", "--restart-command", "false"]);
    expect(result.status).toBe(1);
    expect(result.codes).toEqual(["NODE_INSTALL_RESTART_FAILED"]);
  });

  it("pause idles until SIGTERM and exits 0; --version prints the version", async () => {
    const node = fakeNode({});
    expect(run(node, ["--version"]).stdout).toMatch(/^node-installer \d+\.\d+\.\d+/);
    const proc = spawn(process.execPath, [BUNDLE, "pause"], { stdio: ["ignore", "ignore", "pipe"] });
    // Signal only once it is pausing, i.e. its handlers are in place.
    await new Promise<void>((resolve) => proc.stderr.on("data", () => resolve()));
    await new Promise((r) => setTimeout(r, 200));
    expect(proc.exitCode).toBeNull();
    const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe("the image section", () => {
  it("names the node-installer image, and the built files it ships exist; the entrypoint runs the shipped bundle", () => {
    const pkg = JSON.parse(readFileSync(join(dirname(BUNDLE), "../package.json"), "utf8")) as {
      image: { name: string; files: Record<string, string>; entrypoint: string[] };
    };
    expect(pkg.image.name).toBe("node-installer");
    expect(pkg.image.entrypoint).toEqual(["/usr/local/bin/node", "/opt/contrast/node-installer.cjs"]);
    expect(Object.values(pkg.image.files)).toContain("/opt/contrast/node-installer.cjs");
    for (const source of Object.keys(pkg.image.files))
      expect(existsSync(join(dirname(BUNDLE), "..", source)), source).toBe(true);
  });
});
