import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { sha256Hex, utf8 } from "@contrast/core";
import { expectCodeAsync } from "@contrast/testkit";
import { parse } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { type HostFs, hostFsAt, integrityOf, nodeFetcher } from "../src/index.js";
import { at, containerdDump, FakeNode, handlerFor, NOW, serve, shimConfig, vendored } from "./host.js";

const CONFIG = "/etc/containerd/config.toml";
const K3S_DIR = "/var/lib/rancher/k3s/agent/etc/containerd";
const RKE2_DIR = "/var/lib/rancher/rke2/agent/etc/containerd";

type Table = Record<string, unknown>;

function expectRuntime(text: string, platform: string, version: 2 | 3 = 2): Table {
  const plugin = version === 3 ? "io.containerd.cri.v1.runtime" : "io.containerd.grpc.v1.cri";
  const handler = handlerFor(platform);
  const table = at(parse(text), "plugins", plugin, "containerd", "runtimes", handler) as Table;
  expect(table).toMatchObject({
    runtime_type: "io.containerd.contrast-cc.v2",
    runtime_path: `/opt/edgeless/${handler}/bin/containerd-shim-contrast-cc-v2`,
    privileged_without_host_devices: true,
  });
  expect(table.pod_annotations).toContain("io.katacontainers.*");
  return table;
}

/** The lines of `before` that `after` must still hold in order (all of them but the changed ones). */
function expectLinesKept(before: string, after: string, changed: readonly string[]): void {
  const afterLines = after.split("\n");
  let i = 0;
  for (const line of before.split("\n")) {
    if (changed.some((c) => line.includes(c))) continue;
    while (i < afterLines.length && afterLines[i] !== line) i++;
    expect(i, `line kept: ${line}`).toBeLessThan(afterLines.length);
    i++;
  }
}

describe("installRuntime on plain containerd", () => {
  it("on a node without a config: installs the payload, the Kata config and a new config; containerd reads it", async () => {
    const node = new FakeNode();
    const report = await node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp"));
    const handler = handlerFor("metal-qemu-snp");
    expect(node.files()).toEqual([
      CONFIG,
      `/opt/edgeless/${handler}/bin/containerd-shim-contrast-cc-v2`,
      `/opt/edgeless/${handler}/etc/configuration-qemu-snp.toml`,
    ]);
    expect(node.mode(`/opt/edgeless/${handler}/bin/containerd-shim-contrast-cc-v2`)).toBe(0o755);
    expect(node.mode(CONFIG)).toBe(0o644);
    expect(report.containerd).toMatchObject({
      how: "created",
      changed: true,
      backup: undefined,
      service: "containerd",
    });
    expect(node.restarts).toEqual(["containerd"]);
    const config = node.read(CONFIG);
    const table = expectRuntime(config, "metal-qemu-snp");
    expect(table.options).toEqual({ ConfigPath: `/opt/edgeless/${handler}/etc/configuration-qemu-snp.toml` });
    expect(at(parse(config), "proxy_plugins", `nydus-${handler}`)).toEqual({
      type: "snapshot",
      address: `/run/containerd/containerd-nydus-grpc-${handler}.sock`,
    });
    const kata = parse(node.read(`/opt/edgeless/${handler}/etc/configuration-qemu-snp.toml`));
    expect(at(kata, "hypervisor", "qemu")).toMatchObject({
      path: `/opt/edgeless/${handler}/snp/bin/qemu-system-x86_64`,
      firmware: `/opt/edgeless/${handler}/snp/share/OVMF.fd`,
      confidential_guest: true,
      sev_snp_guest: true,
      shared_fs: "none",
      enable_debug: false,
    });
    // containerd 1.6 itself loads the file and lists the runtime with our settings.
    const dump = containerdDump(join(node.root, CONFIG));
    expect(dump).toContain(`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${handler}]`);
    expect(dump).toContain(`runtime_type = "io.containerd.contrast-cc.v2"`);
    expect(dump).toContain(`ConfigPath = "/opt/edgeless/${handler}/etc/configuration-qemu-snp.toml"`);
  });

  it("keeps the other runtimes and every other line of containerd 1.7's default config, backs it up, keeps its mode", async () => {
    const node = new FakeNode();
    const original = vendored("containerd/default-1.7.toml");
    node.put(CONFIG, original, 0o600);
    const report = await node.install("aks-clh-snp", shimConfig(node, "aks-clh-snp"));
    const after = node.read(CONFIG);
    expect(report.containerd).toMatchObject({ how: "edited", changed: true, backup: `${CONFIG}.${NOW}.bak` });
    expect(node.read(`${CONFIG}.${NOW}.bak`)).toBe(original);
    expect(node.mode(CONFIG)).toBe(0o600);
    expect(after.startsWith(original.split("disable_snapshot_annotations")[0] as string)).toBe(true);
    expectLinesKept(original, after, ["disable_snapshot_annotations"]);
    const doc = parse(after);
    expect(at(doc, "plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes", "runc", "runtime_type")).toBe(
      "io.containerd.runc.v2",
    );
    expect(at(doc, "plugins", "io.containerd.grpc.v1.cri", "containerd", "disable_snapshot_annotations")).toBe(false);
    const table = expectRuntime(after, "aks-clh-snp");
    expect(table.snapshotter).toBe(`tardev-${handlerFor("aks-clh-snp")}`);
    const dump = containerdDump(join(node.root, CONFIG));
    expect(dump).toContain(`runtimes.${handlerFor("aks-clh-snp")}]`);
    expect(dump).toContain('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]');
  });

  it('snapshotter "none": only appended tables, every original byte kept; Kata pulls images in the guest', async () => {
    const node = new FakeNode();
    const original = vendored("containerd/default-1.7.toml");
    node.put(CONFIG, original);
    const report = await node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp", { snapshotter: "none" }));
    expect(report.containerd.how).toBe("edited");
    const after = node.read(CONFIG);
    expect(after.startsWith(original)).toBe(true);
    const table = expectRuntime(after, "metal-qemu-snp");
    expect(table.snapshotter).toBeUndefined();
    expect(at(parse(after), "proxy_plugins")).toEqual(at(parse(original), "proxy_plugins"));
    const kata = parse(node.read(`/opt/edgeless/${handlerFor("metal-qemu-snp")}/etc/configuration-qemu-snp.toml`));
    expect(at(kata, "runtime", "force_guest_pull")).toBe(true);
    containerdDump(join(node.root, CONFIG));
  });

  it("a second run changes no byte, writes no backup and restarts nothing", async () => {
    const node = new FakeNode();
    node.put(CONFIG, vendored("containerd/default-1.7.toml"));
    const config = shimConfig(node, "metal-qemu-tdx");
    await node.install("metal-qemu-tdx", config);
    const files = node.files();
    const snapshot = files.map((f) => [f, node.read(f), node.mode(f)]);
    expect(node.restarts).toEqual(["containerd"]);
    const second = await node.install("metal-qemu-tdx", config);
    expect(second.containerd).toMatchObject({ changed: false, how: "unchanged", backup: undefined });
    expect(second.files.every((f) => !f.changed)).toBe(true);
    expect(second.kataConfig.changed).toBe(false);
    expect(second.restarted).toBeUndefined();
    expect(node.restarts).toEqual(["containerd"]);
    expect(node.files()).toEqual(files);
    expect(files.map((f) => [f, node.read(f), node.mode(f)])).toEqual(snapshot);
  });

  it("patches containerd 2's version 3 config under io.containerd.cri.v1.runtime, comments kept", async () => {
    const node = new FakeNode();
    const original = vendored("containerd/default-2.x.toml");
    node.put(CONFIG, original);
    const report = await node.install("metal-qemu-snp-gpu", shimConfig(node, "metal-qemu-snp-gpu"));
    expect(report.containerd.how).toBe("edited");
    const after = node.read(CONFIG);
    expectLinesKept(original, after, ["disable_snapshot_annotations"]);
    expect(after).toContain("# - Version 3 (Recommended for containerd 2.x)");
    const table = expectRuntime(after, "metal-qemu-snp-gpu", 3);
    expect(table.pod_annotations).toEqual(["io.katacontainers.*", "cdi.k8s.io/*"]);
    expect(at(parse(after), "plugins", "io.containerd.cri.v1.images", "disable_snapshot_annotations")).toBe(false);
    expect(at(parse(after), "plugins", "io.containerd.grpc.v1.cri", "containerd")).toBeUndefined();
  });

  it("a corrupt config: a clear code, the file untouched, no backup, no temporary file left", async () => {
    const node = new FakeNode();
    const corrupt = `${vendored("containerd/default-1.7.toml")}\n[plugins."io.containerd.grpc.v1.cri"\n`;
    node.put(CONFIG, corrupt);
    await expectCodeAsync(
      () => node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp")),
      "NODE_INSTALL_CONTAINERD_CONFIG_INVALID",
      "input",
    );
    expect(node.read(CONFIG)).toBe(corrupt);
    expect(node.files().filter((f) => f.startsWith("/etc"))).toEqual([CONFIG]);
    expect(node.restarts).toEqual([]);
  });

  it("refuses a version 1 config (no version key) and an unknown version", async () => {
    for (const text of ['root = "/var/lib/containerd"\n[plugins.cri]\n', "version = 4\n"]) {
      const node = new FakeNode();
      node.put(CONFIG, text);
      await expectCodeAsync(
        () => node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp")),
        "NODE_INSTALL_CONTAINERD_CONFIG_VERSION",
      );
      expect(node.read(CONFIG)).toBe(text);
    }
  });

  it("rewrites a changed entry of its own handler (a new payload layout) and backs the old file up", async () => {
    const node = new FakeNode();
    const handler = handlerFor("metal-qemu-snp");
    node.put(
      CONFIG,
      `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${handler}]\n  runtime_type = "io.containerd.kata.v2"\n`,
    );
    const report = await node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp"));
    expect(report.containerd.how).toBe("rewritten");
    expectRuntime(node.read(CONFIG), "metal-qemu-snp");
    expect(node.exists(`${CONFIG}.${NOW}.bak`)).toBe(true);
  });

  it("a failing restart command is reported with its own code after the config is written", async () => {
    const node = new FakeNode();
    await expectCodeAsync(
      () =>
        node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp"), {
          restart: async () => {
            throw new Error("Unit containerd.service not found.");
          },
        }),
      "NODE_INSTALL_RESTART_FAILED",
      "io",
    );
    expectRuntime(node.read(CONFIG), "metal-qemu-snp");
  });

  it("with restarting disabled, changes the config and runs nothing", async () => {
    const node = new FakeNode();
    const report = await node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp"), { restart: undefined });
    expect(report.containerd.changed).toBe(true);
    expect(report.restarted).toBeUndefined();
    expect(node.logs.some((l) => l.level === "warn")).toBe(true);
  });

  it("the post-check fails loudly when the written file does not register the runtime", async () => {
    const node = new FakeNode();
    const real = hostFsAt(node.root);
    // A host whose renames onto the containerd config silently do nothing (think: a file bind-mounted read-only).
    const lossy: HostFs = {
      ...real,
      rename: async (from, to) => (to === CONFIG ? real.remove(from) : real.rename(from, to)),
    };
    node.put(
      CONFIG,
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n',
    );
    await expectCodeAsync(
      () => node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp"), { fs: lossy }),
      "NODE_INSTALL_RUNTIME_NOT_REGISTERED",
    );
    expect(node.restarts).toEqual([]);
  });

  it("debugRuntime turns on Kata's debug switches", async () => {
    const node = new FakeNode();
    await node.install("metal-qemu-tdx", shimConfig(node, "metal-qemu-tdx", { debugRuntime: true }));
    const kata = parse(node.read(`/opt/edgeless/${handlerFor("metal-qemu-tdx")}/etc/configuration-qemu-tdx.toml`));
    expect(at(kata, "hypervisor", "qemu", "enable_debug")).toBe(true);
    expect(at(kata, "hypervisor", "qemu", "sev_snp_guest")).toBeUndefined();
    expect(at(kata, "agent", "kata", "debug_console_enabled")).toBe(true);
    expect(at(kata, "runtime", "enable_debug")).toBe(true);
  });
});

describe("installRuntime on K3s and RKE2", () => {
  it("K3s without a template: writes config.toml.tmpl from the generated config.toml, which stays untouched", async () => {
    const node = new FakeNode();
    const generated = vendored("k3s/config.toml");
    node.put(`${K3S_DIR}/config.toml`, generated);
    const report = await node.install("k3s-qemu-snp", shimConfig(node, "k3s-qemu-snp"));
    expect(report.containerd).toMatchObject({
      flavour: "k3s",
      how: "created",
      path: `${K3S_DIR}/config.toml.tmpl`,
      service: "k3s",
      backup: undefined,
    });
    expect(node.read(`${K3S_DIR}/config.toml`)).toBe(generated);
    const template = node.read(`${K3S_DIR}/config.toml.tmpl`);
    expectLinesKept(generated, template, ["disable_snapshot_annotations"]);
    expectRuntime(template, "k3s-qemu-snp");
    expect(node.restarts).toEqual(["k3s"]);
    containerdDump(join(node.root, `${K3S_DIR}/config.toml.tmpl`));
    await node.install("k3s-qemu-snp", shimConfig(node, "k3s-qemu-snp"));
    expect(node.restarts).toEqual(["k3s"]);
  });

  it("K3s with a base template: appends a marked block once, and restarts the agent unit on an agent node", async () => {
    const node = new FakeNode();
    const template =
      '{{ template "base" . }}\n\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]\n  runtime_type = "io.containerd.kata.v2"\n';
    node.put(`${K3S_DIR}/config.toml.tmpl`, template);
    node.put("/etc/systemd/system/k3s-agent.service", "[Unit]\n");
    const report = await node.install("k3s-qemu-tdx", shimConfig(node, "k3s-qemu-tdx"));
    expect(report.containerd).toMatchObject({
      how: "appended-to-template",
      service: "k3s-agent",
      backup: `${K3S_DIR}/config.toml.tmpl.${NOW}.bak`,
    });
    const after = node.read(`${K3S_DIR}/config.toml.tmpl`);
    expect(after.startsWith(template)).toBe(true);
    const handler = handlerFor("k3s-qemu-tdx");
    const block = after.slice(after.indexOf(`# BEGIN contrast runtime ${handler}`));
    expectRuntime(block, "k3s-qemu-tdx");
    await node.install("k3s-qemu-tdx", shimConfig(node, "k3s-qemu-tdx"));
    expect(node.read(`${K3S_DIR}/config.toml.tmpl`)).toBe(after);
    expect(node.restarts).toEqual(["k3s-agent"]);
  });

  it("prefers config-v3.toml.tmpl and the version 3 plugin when that template exists", async () => {
    const node = new FakeNode();
    node.put(`${K3S_DIR}/config-v3.toml.tmpl`, "version = 3\n");
    node.put(`${K3S_DIR}/config.toml`, vendored("k3s/config.toml"));
    const report = await node.install("k3s-qemu-snp", shimConfig(node, "k3s-qemu-snp"));
    expect(report.containerd.path).toBe(`${K3S_DIR}/config-v3.toml.tmpl`);
    expectRuntime(node.read(`${K3S_DIR}/config-v3.toml.tmpl`), "k3s-qemu-snp", 3);
    expect(node.exists(`${K3S_DIR}/config.toml.tmpl`)).toBe(false);
  });

  it("a base-template config-v3.toml.tmpl gets the runtime under containerd 2's plugin id", async () => {
    const node = new FakeNode();
    node.put(`${K3S_DIR}/config-v3.toml.tmpl`, '{{ template "base" . }}\n');
    await node.install("k3s-qemu-snp", shimConfig(node, "k3s-qemu-snp"));
    const text = node.read(`${K3S_DIR}/config-v3.toml.tmpl`);
    expectRuntime(text.slice(text.indexOf("# BEGIN")), "k3s-qemu-snp", 3);
  });

  it("RKE2: the template next to RKE2's generated config, restarting rke2-server", async () => {
    const node = new FakeNode();
    node.put(`${RKE2_DIR}/config.toml`, vendored("rke2/config.toml"));
    const report = await node.install("rke2-qemu-tdx", shimConfig(node, "rke2-qemu-tdx"));
    expect(report.containerd).toMatchObject({
      flavour: "rke2",
      path: `${RKE2_DIR}/config.toml.tmpl`,
      service: "rke2-server",
    });
    expectRuntime(node.read(`${RKE2_DIR}/config.toml.tmpl`), "rke2-qemu-tdx");
    expect(node.read(`${RKE2_DIR}/config.toml.tmpl`)).toContain('runtimes."nvidia"]');
  });

  it("a Metal platform on a K3s node patches K3s's template, not /etc/containerd", async () => {
    const node = new FakeNode();
    node.put(`${K3S_DIR}/config.toml`, vendored("k3s/config.toml"));
    const report = await node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp"));
    expect(report.containerd.flavour).toBe("k3s");
    expect(node.exists(CONFIG)).toBe(false);
  });
});

describe("installing the payload", () => {
  const payload = utf8("kernel bytes ".repeat(5000));
  let closeServer: (() => void) | undefined;
  afterAll(() => closeServer?.());

  it("downloads over http with a matching SRI value, and skips the download when the file is already right", async () => {
    const { url, server } = await serve({ "/kernel": payload });
    closeServer = () => server.close();
    const node = new FakeNode();
    const config = {
      runtimeHandler: handlerFor("metal-qemu-snp"),
      files: [
        {
          url: `${url}/kernel`,
          path: "/opt/edgeless/@@runtimeName@@/share/kata-kernel",
          integrity: integrityOf(payload, "sha512"),
        },
      ],
    };
    const first = await node.install("metal-qemu-snp", config);
    expect(first.files).toEqual([
      { path: `/opt/edgeless/${handlerFor("metal-qemu-snp")}/share/kata-kernel`, changed: true },
    ]);
    expect(sha256Hex(utf8(node.read(first.files[0]?.path as string)))).toBe(sha256Hex(payload));
    expect(node.mode(first.files[0]?.path as string)).toBe(0o644);
    server.close();
    // The server is gone: a second run must not need it.
    const second = await node.install("metal-qemu-snp", config);
    expect(second.files[0]?.changed).toBe(false);
  });

  it("an SRI mismatch installs nothing: no target, no temporary file, no config change", async () => {
    const { url, server } = await serve({ "/kernel": payload });
    const node = new FakeNode();
    const handler = handlerFor("metal-qemu-snp");
    await expectCodeAsync(
      () =>
        node.install("metal-qemu-snp", {
          runtimeHandler: handler,
          files: [
            {
              url: `${url}/kernel`,
              path: "/opt/edgeless/@@runtimeName@@/share/kata-kernel",
              integrity: integrityOf(utf8("other")),
            },
          ],
        }),
      "NODE_INSTALL_INTEGRITY_MISMATCH",
      "crypto",
    );
    server.close();
    expect(node.files()).toEqual([]);
  });

  it("a file:// payload with a wrong integrity value keeps an existing good file", async () => {
    const node = new FakeNode();
    const config = shimConfig(node, "metal-qemu-snp");
    await node.install("metal-qemu-snp", config);
    const target = `/opt/edgeless/${handlerFor("metal-qemu-snp")}/bin/containerd-shim-contrast-cc-v2`;
    const before = node.read(target);
    const wrong = { ...config, files: [{ ...config.files[0], integrity: integrityOf(utf8("tampered")) }] };
    await expectCodeAsync(() => node.install("metal-qemu-snp", wrong), "NODE_INSTALL_INTEGRITY_MISMATCH");
    expect(node.read(target)).toBe(before);
    expect(node.files().some((f) => f.includes("contrast-tmp"))).toBe(false);
  });

  it("a file:// payload without integrity: unchanged when equal, replaced when its bytes change", async () => {
    const node = new FakeNode();
    const handler = handlerFor("metal-qemu-snp");
    const target = `/opt/edgeless/${handler}/share/OVMF.fd`;
    const config = () => ({
      runtimeHandler: handler,
      files: [{ url: `file://${join(node.payloadDir, "ovmf")}`, path: "/opt/edgeless/@@runtimeName@@/share/OVMF.fd" }],
    });
    node.payload("ovmf", "firmware v1");
    expect((await node.install("metal-qemu-snp", config())).files[0]?.changed).toBe(true);
    expect((await node.install("metal-qemu-snp", config())).files[0]?.changed).toBe(false);
    node.payload("ovmf", "firmware v2");
    expect((await node.install("metal-qemu-snp", config())).files[0]?.changed).toBe(true);
    expect(node.read(target)).toBe("firmware v2");
    expect(node.files().some((f) => f.includes("contrast-tmp"))).toBe(false);
  });

  it("an HTTP error and a missing file:// source fail with the fetch code", async () => {
    const { url, server } = await serve({});
    const node = new FakeNode();
    const file = (u: string) => ({
      runtimeHandler: handlerFor("metal-qemu-snp"),
      files: [{ url: u, path: "/opt/edgeless/@@runtimeName@@/x", integrity: integrityOf(payload) }],
    });
    await expectCodeAsync(
      () => node.install("metal-qemu-snp", file(`${url}/missing`)),
      "NODE_INSTALL_FETCH_FAILED",
      "io",
    );
    server.close();
    await expectCodeAsync(
      () => node.install("metal-qemu-snp", file("file:///nonexistent/payload")),
      "NODE_INSTALL_FETCH_FAILED",
    );
    expect(node.files()).toEqual([]);
  });

  it("a stalled download (no response, or a body that stops) is aborted, leaving nothing behind", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const server = createServer((req, res) => {
      if (req.url === "/half") {
        res.writeHead(200, { "content-length": 1000 });
        res.write("only the first bytes");
      }
      // "/silent": never answers.
    });
    server.on("connection", (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const path of ["/silent", "/half"]) {
        const node = new FakeNode();
        const started = Date.now();
        await expectCodeAsync(
          () =>
            node.install(
              "metal-qemu-snp",
              {
                runtimeHandler: handlerFor("metal-qemu-snp"),
                files: [
                  { url: `${base}${path}`, path: "/opt/edgeless/@@runtimeName@@/x", integrity: integrityOf(payload) },
                ],
              },
              { fetch: nodeFetcher({ stallTimeoutMs: 300 }) },
            ),
          "NODE_INSTALL_FETCH_FAILED",
        );
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(node.files()).toEqual([]);
      }
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it("checks the handler against the platform and refuses the simulated platform", async () => {
    const node = new FakeNode();
    await expectCodeAsync(
      () => node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-tdx")),
      "NODE_INSTALL_PLATFORM_MISMATCH",
    );
    await expectCodeAsync(() => node.install("metal-qemu-snp", { files: [] }), "NODE_INSTALL_PLATFORM_MISMATCH");
    await expectCodeAsync(
      () =>
        node.install("metal-qemu-snp", shimConfig(node, "metal-qemu-snp"), {
          runtimeHandler: handlerFor("metal-qemu-tdx"),
        }),
      "NODE_INSTALL_PLATFORM_MISMATCH",
    );
    await expectCodeAsync(() => node.install("sim", { files: [] }), "NODE_INSTALL_PLATFORM_UNSUPPORTED");
    expect(node.files()).toEqual([]);
  });
});
