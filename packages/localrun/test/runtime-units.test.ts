import { readFileSync, statSync } from "node:fs";
import {
  type BuiltLayer,
  buildImage,
  buildLayer,
  gzipDeterministic,
  type LayerEntry,
  nodeLayoutFileSystem,
  sha256Digest,
  writeOciLayout,
} from "@contrast/oci";
import { afterAll, describe, expect, it } from "vitest";
import { type Host, nodeHost, startLocalCluster, unpackImage } from "../src/index.js";
import { renderHosts } from "../src/runtime/etc-files.js";
import { containerScript, type LaunchSpec } from "../src/runtime/launch.js";
import { probeOnce } from "../src/runtime/probes.js";
import { chooseSubnet, usedPrefixes } from "../src/runtime/subnet.js";
import { scratchDir } from "./runtime-helpers.js";

describe("pod network choice", () => {
  const addr = [
    "1: lo    inet 127.0.0.1/8 scope host lo",
    "2: eth0    inet 10.200.0.7/16 brd 10.200.255.255 scope global eth0",
  ].join("\n");
  const routes = [
    "default via 10.200.0.1 dev eth0",
    "10.201.0.0/16 dev docker0 proto kernel",
    "local 10.200.0.7 dev eth0 table local",
  ].join("\n");

  it("never picks a /24 the host routes or addresses touch, and ignores the default route", () => {
    const used = usedPrefixes(addr, routes);
    for (const seed of ["a", "b", "c", "/srv/demo", "x".repeat(100)]) {
      const subnet = chooseSubnet(used, seed);
      expect(subnet).toMatch(/^10\.2[0-4]\d\.\d+\.0\/24$/);
      expect(subnet.startsWith("10.200.")).toBe(false);
      expect(subnet.startsWith("10.201.")).toBe(false);
    }
    // Different work directories spread over the range.
    expect(new Set(["a", "b", "c", "d"].map((s) => chooseSubnet(used, s))).size).toBeGreaterThan(1);
  });

  it("checks a requested network", () => {
    const used = usedPrefixes(addr, routes);
    expect(chooseSubnet(used, "s", "10.213.7.0/24")).toBe("10.213.7.0/24");
    expect(() => chooseSubnet(used, "s", "10.201.3.0/24")).toThrow(
      expect.objectContaining({ code: "LOCALRUN_SUBNET_UNAVAILABLE" }),
    );
    expect(() => chooseSubnet(used, "s", "10.213.7.5/24")).toThrow(
      expect.objectContaining({ code: "LOCALRUN_SUBNET_UNAVAILABLE" }),
    );
    expect(() => chooseSubnet(used, "s", "10.213.0.0/16")).toThrow(
      expect.objectContaining({ code: "LOCALRUN_SUBNET_UNAVAILABLE" }),
    );
  });
});

describe("cluster DNS hosts file", () => {
  it("maps the four Service names to the newest matching pod of the Service's namespace", () => {
    const text = renderHosts(
      { ip: "10.9.9.5", hostname: "web-0", namespace: "default" },
      [
        { name: "coordinator", namespace: "default", selector: { app: "coordinator" } },
        { name: "nobody-home", namespace: "default", selector: { app: "missing" } },
        { name: "empty", namespace: "default", selector: {} },
      ],
      [
        { name: "coordinator-0", namespace: "default", ip: "10.9.9.2", labels: { app: "coordinator" }, startedAt: 1 },
        {
          name: "coordinator-0",
          namespace: "default",
          ip: "10.9.9.7",
          labels: { app: "coordinator", x: "y" },
          startedAt: 2,
        },
        { name: "other", namespace: "other", ip: "10.9.9.8", labels: { app: "coordinator" }, startedAt: 3 },
      ],
    );
    expect(text.split("\n").slice(1)).toEqual([
      "127.0.0.1\tlocalhost",
      "::1\tlocalhost ip6-localhost ip6-loopback",
      "10.9.9.5\tweb-0",
      "10.9.9.7\tcoordinator coordinator.default coordinator.default.svc coordinator.default.svc.cluster.local",
      "",
    ]);
  });
});

describe("container setup script", () => {
  const spec: LaunchSpec = {
    imageDir: "/w/images/app",
    rootDir: "/w/pods/p/containers/c/root",
    scratchDir: "/w/pods/p/containers/c/scratch",
    podEtcDir: "/w/pods/p/etc",
    layout: {
      topLevel: { lib: "usr/lib", bin: "usr/bin" },
      systemDirs: ["/usr/lib", "/usr/bin"],
      etcFiles: [],
      nodeBinary: "/opt/node",
    },
    rootless: false,
    mounts: [{ source: "/w/claims/state", target: "/var/lib/state", readOnly: false, file: false }],
    cwd: "/app",
    uid: 1000,
    gid: 1000,
    env: ["A=it's here", "B=$HOME"],
    args: ["/usr/local/bin/node", "arg with space"],
  };

  it("execs exactly the admitted process, quoted for the shell, as the admitted user", () => {
    const last = containerScript(spec).trimEnd().split("\n").at(-1);
    expect(last).toBe(
      "exec chroot /w/pods/p/containers/c/root /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups -- /usr/bin/env -i -C /app 'A=it'\\''s here' 'B=$HOME' /usr/local/bin/node 'arg with space'",
    );
  });

  it("mounts through no symlink of the image and gives the kubelet's /etc files the last word", () => {
    const script = containerScript(spec);
    expect(script).toContain(
      "through var\nthrough var/lib\nat_dir var/lib/state\nbind /w/claims/state var/lib/state rw",
    );
    expect(script.indexOf("etc/hosts")).toBeGreaterThan(script.indexOf("var/lib/state"));
    expect(script).toContain('ln -s usr/lib "$R/lib"');
  });

  it("keeps uid 0 in a user namespace, where no other id is mapped", () => {
    const last = containerScript({ ...spec, rootless: true })
      .trimEnd()
      .split("\n")
      .at(-1);
    expect(last).not.toContain("setpriv");
  });
});

describe("unpackImage", () => {
  const scratch = scratchDir("unpack");
  afterAll(() => scratch.remove());
  const te = new TextEncoder();
  const file = (path: string, text: string, mode?: number): LayerEntry => ({
    type: "file",
    path,
    content: te.encode(text),
    ...(mode === undefined ? {} : { mode }),
  });

  async function layout(name: string, layers: LayerEntry[][]): Promise<{ dir: string; digest: string }> {
    const dir = `${scratch.path}/${name}`;
    const image = buildImage({ layers: layers.map((l) => buildLayer(l)), config: {} });
    await writeOciLayout(nodeLayoutFileSystem, dir, [{ name: `localhost/test/${name}:1`, image }]);
    return { dir, digest: image.digest };
  }

  it("applies layers in order with whiteouts and opaque directories, by tag or by digest", async () => {
    const { dir, digest } = await layout("layers", [
      [
        { type: "directory", path: "/app" },
        file("/app/keep", "v1"),
        file("/app/drop", "x"),
        { type: "directory", path: "/cache" },
        file("/cache/old", "x"),
        file("/bin-tool", "#!/bin/sh\n", 0o755),
      ],
      [file("/app/.wh.drop", ""), file("/app/keep", "v2"), file("/cache/.wh..wh..opq", ""), file("/cache/new", "n")],
    ]);
    const out = `${scratch.path}/rootfs`;
    await unpackImage(dir, `localhost/test/layers:1@${digest}`, out);
    expect(readFileSync(`${out}/app/keep`, "utf8")).toBe("v2");
    expect(() => statSync(`${out}/app/drop`)).toThrow();
    expect(() => statSync(`${out}/cache/old`)).toThrow();
    expect(readFileSync(`${out}/cache/new`, "utf8")).toBe("n");
    expect(statSync(`${out}/bin-tool`).mode & 0o777).toBe(0o755);

    // Concurrent calls for one directory share one unpacking.
    const again = `${scratch.path}/rootfs-concurrent`;
    const results = await Promise.all(
      [1, 2, 3].map(() => unpackImage(dir, `localhost/test/layers:1@${digest}`, again)),
    );
    expect(results).toEqual([again, again, again]);
    expect(readFileSync(`${again}/app/keep`, "utf8")).toBe("v2");

    // The same image again is reused as it is: no file is written.
    let writes = 0;
    const counting: Host = {
      ...nodeHost,
      fs: {
        ...nodeHost.fs,
        writeFile: async (...a) => {
          writes++;
          return nodeHost.fs.writeFile(...a);
        },
      },
    };
    await unpackImage(dir, "localhost/test/layers:1", out, { host: counting });
    expect(writes).toBe(0);
  });

  /** A one-member ustar, written by hand: buildLayer would add the parent directory entries. */
  function rawTar(path: string, content: string): Uint8Array {
    const header = new Uint8Array(512);
    const put = (offset: number, text: string) => header.set(te.encode(text), offset);
    const data = te.encode(content);
    put(0, path);
    put(100, "0000644\0");
    put(108, "0000000\0");
    put(116, "0000000\0");
    put(124, `${data.length.toString(8).padStart(11, "0")}\0`);
    put(136, "00000000000\0");
    put(148, "        ");
    put(156, "0");
    put(257, "ustar\0");
    put(263, "00");
    const sum = header.reduce((a, b) => a + b, 0);
    put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
    const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
    body.set(data);
    const out = new Uint8Array(512 + body.length + 1024);
    out.set(header);
    out.set(body, 512);
    return out;
  }

  it("refuses a layer that writes through a symlink a lower layer planted", async () => {
    const tar = rawTar("evil/owned", "x");
    const gz = gzipDeterministic(tar);
    const raw: BuiltLayer = {
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      tar,
      gz,
      diffId: sha256Digest(tar),
      digest: sha256Digest(gz),
      size: gz.length,
    };
    const target = `${scratch.path}/outside`;
    const dir = `${scratch.path}/escape`;
    const image = buildImage({ layers: [buildLayer([{ type: "symlink", path: "/evil", target }]), raw], config: {} });
    await writeOciLayout(nodeLayoutFileSystem, dir, [{ name: "localhost/test/escape:1", image }]);
    await expect(unpackImage(dir, "localhost/test/escape:1", `${scratch.path}/escape-root`)).rejects.toMatchObject({
      code: "LOCALRUN_IMAGE_LAYER_INVALID",
    });
    expect(() => statSync(`${target}/owned`)).toThrow();
  });

  it("names the layout's images when a reference is missing", async () => {
    const { dir } = await layout("named", [[file("/x", "x")]]);
    await expect(unpackImage(dir, "localhost/test/other:1", `${scratch.path}/none`)).rejects.toMatchObject({
      code: "LOCALRUN_IMAGE_NOT_FOUND",
      hint: expect.stringContaining("localhost/test/named:1@sha256:"),
    });
  });
});

describe("startLocalCluster preconditions", () => {
  it("refuses to run without root, naming the user-namespace way", async () => {
    const host: Host = { ...nodeHost, uid: () => 1000 };
    await expect(startLocalCluster({ workDir: "/nonexistent/never-created", host })).rejects.toMatchObject({
      code: "LOCALRUN_NOT_ROOT",
      hint: expect.stringContaining("user namespace"),
    });
  });

  it("reports a missing host tool by name", async () => {
    const scratch = scratchDir("tools");
    try {
      const host: Host = {
        ...nodeHost,
        uid: () => 0,
        run: async (argv) =>
          argv[0] === "ip" ? { code: 127, stdout: "", stderr: "ip: spawn ip ENOENT" } : nodeHost.run(argv),
      };
      await expect(startLocalCluster({ workDir: scratch.path, host })).rejects.toMatchObject({
        code: "LOCALRUN_TOOL_MISSING",
        message: expect.stringContaining("ip is not installed"),
      });
    } finally {
      scratch.remove();
    }
  });
});

describe("probes", () => {
  const exec = { kind: "exec", command: ["cat", "/run/ready"] } as const;
  const probe = {
    type: "readiness",
    action: exec,
    initialDelaySeconds: 0,
    periodSeconds: 1,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 1,
  } as const;
  it("fails an exec probe the policy denies without running it, and runs an allowed one", async () => {
    const ran: string[][] = [];
    const target = {
      host: nodeHost,
      podIp: "127.0.0.1",
      exec: async (command: readonly string[]) => {
        ran.push([...command]);
        return 0;
      },
    };
    expect(await probeOnce({ ...probe, allowed: false }, target)).toMatch(/denied by the agent policy/);
    expect(ran).toEqual([]);
    expect(await probeOnce(probe, target)).toBeUndefined();
    expect(await probeOnce({ ...probe, allowed: true }, target)).toBeUndefined();
    expect(ran).toEqual([
      ["cat", "/run/ready"],
      ["cat", "/run/ready"],
    ]);
  });
});
