// The demo's own pieces, each on its own: the working directory's rules, the resources'
// placeholders, finding the checkout, the narration, and the TLS requests against real servers
// (certificates made with openssl). The whole demo runs in demo.test.ts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer, type Server } from "node:tls";
import { errorCode } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDeployment } from "../src/demo/deploy.js";
import { Narrator } from "../src/demo/narrator.js";
import { checkDemoTools } from "../src/demo/preflight.js";
import { meshGet, parseHttpResponse, plainGet, requestWithoutClientCertificate } from "../src/demo/requests.js";
import { DEMO_APPS, findDemoSource, RESOURCES_DIR } from "../src/demo/source.js";
import { DEMO_MARKER, mountPointsUnder, prepareDemoDir, writeResources } from "../src/demo/workspace.js";
import { Output } from "../src/output.js";
import { cli, REPO, tempDir } from "./helpers.js";

const noMounts = async () => "";
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => "no error",
    (e: { code?: string }) => e.code,
  );

describe("the demo's directory", () => {
  it("is created, refused when it holds someone else's files, emptied when it is an earlier run's", async () => {
    const base = tempDir();
    const dir = join(base, "demo");
    await prepareDemoDir(dir, noMounts);
    expect(readdirSync(dir)).toEqual([DEMO_MARKER]);
    mkdirSync(join(dir, "cluster/pods"), { recursive: true });
    writeFileSync(join(dir, "manifest.json"), "{}");
    await prepareDemoDir(dir, noMounts);
    expect(readdirSync(dir)).toEqual([DEMO_MARKER]);

    const foreign = join(base, "mine");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "thesis.tex"), "precious");
    expect(await codeOf(prepareDemoDir(foreign, noMounts))).toBe("CLI_DEMO_DIR_NOT_EMPTY");
    expect(readFileSync(join(foreign, "thesis.tex"), "utf8")).toBe("precious");
  });

  it("is never emptied while the demo that made it still runs", async () => {
    const dir = join(tempDir(), "demo");
    await prepareDemoDir(dir, noMounts, { pid: 4242, alive: () => true });
    expect(readFileSync(join(dir, DEMO_MARKER), "utf8")).toContain("pid 4242\n");
    writeFileSync(join(dir, "keep"), "x");
    expect(await codeOf(prepareDemoDir(dir, noMounts, { pid: 7, alive: (pid) => pid === 4242 }))).toBe(
      "CLI_DEMO_DIR_NOT_EMPTY",
    );
    expect(existsSync(join(dir, "keep"))).toBe(true);
    // Once it has ended, the next run takes the directory over.
    await prepareDemoDir(dir, noMounts, { pid: 7, alive: () => false });
    expect(existsSync(join(dir, "keep"))).toBe(false);
  });

  it("is never emptied while something is mounted under it", async () => {
    const dir = join(tempDir(), "demo");
    await prepareDemoDir(dir, noMounts);
    writeFileSync(join(dir, "keep"), "x");
    const mountinfo = `36 25 0:32 / /proc rw - proc proc rw\n912 36 8:1 /usr ${dir}/cluster/rootfs/a\\040b/usr ro - ext4 /dev/sda1 ro\n`;
    expect(await codeOf(prepareDemoDir(dir, async () => mountinfo))).toBe("CLI_DEMO_DIR_NOT_EMPTY");
    expect(existsSync(join(dir, "keep"))).toBe(true);
  });

  it("finds mount points at or under a directory, octal escapes decoded, siblings with the same prefix not", () => {
    const info = [
      "1 0 0:1 / / rw - ext4 /dev/root rw",
      "2 1 0:2 / /srv/demo rw - tmpfs t rw",
      "3 1 0:3 / /srv/demo/cluster/rootfs/x\\040y rw - tmpfs t rw",
      "4 1 0:4 / /srv/demo-other rw - tmpfs t rw",
    ].join("\n");
    expect(mountPointsUnder(info, "/srv/demo")).toEqual(["/srv/demo", "/srv/demo/cluster/rootfs/x y"]);
  });
});

describe("the programs the demo needs", () => {
  it("are looked up in PATH and the sbin directories; every missing one is named with its package", () => {
    const have = (files: string[]) => (f: string) => files.includes(f);
    expect(() =>
      checkDemoTools("/opt/bin", have(["/opt/bin/unshare", "/opt/bin/nsenter", "/sbin/ip", "/usr/sbin/iptables"])),
    ).not.toThrow();
    let err: { code?: string; hint?: string; details?: unknown } = {};
    try {
      checkDemoTools("/opt/bin", have(["/opt/bin/unshare", "/sbin/ip"]));
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe("CLI_DEMO_TOOL_MISSING");
    expect(err.details).toEqual({
      missing: [
        { tool: "nsenter", package: "util-linux" },
        { tool: "iptables", package: "iptables" },
      ],
    });
    expect(err.hint).toContain("apt-get install util-linux iptables");
    // This machine has them all (CI installs them).
    expect(() => checkDemoTools(process.env.PATH)).not.toThrow();
  });
});

describe("the sample app's resources", () => {
  it("get the pinned references of the images built; an image the demo does not build is refused", async () => {
    const from = join(tempDir(), "from");
    const to = join(tempDir(), "to");
    mkdirSync(from);
    writeFileSync(join(from, "a.yml"), 'image: "{{image:demo-app}}"\nother: "{{ image:coordinator }}"\n');
    writeFileSync(join(from, "notes.txt"), "{{image:nope}}");
    const refs = new Map([
      ["demo-app", "localhost/contrast-demo/demo-app:1@sha256:aa"],
      ["coordinator", "localhost/contrast-demo/coordinator:1@sha256:bb"],
    ]);
    expect(await writeResources(from, to, refs)).toEqual([join(to, "a.yml")]);
    expect(readFileSync(join(to, "a.yml"), "utf8")).toBe(
      'image: "localhost/contrast-demo/demo-app:1@sha256:aa"\nother: "localhost/contrast-demo/coordinator:1@sha256:bb"\n',
    );
    writeFileSync(join(from, "b.yml"), "image: {{image:nope}}\n");
    expect(await codeOf(writeResources(from, to, refs))).toBe("CLI_DEMO_CHECK_FAILED");
  });

  it("are split as the demo deploys them: workloads, Services with their selectors", async () => {
    const coordinator = await readDeployment(join(REPO, RESOURCES_DIR, "coordinator.yml"));
    expect(coordinator.workloads.map((w) => [w.kind, w.name, w.namespace])).toEqual([
      ["StatefulSet", "coordinator", "default"],
    ]);
    expect(coordinator.services.map((s) => s.name).sort()).toEqual(["coordinator", "coordinator-ready"]);
    for (const file of ["backend.yml", "frontend.yml"]) {
      const d = await readDeployment(join(REPO, RESOURCES_DIR, file));
      expect(d.workloads.map((w) => w.kind)).toEqual(["Deployment"]);
      const [w] = d.workloads;
      // The text handed to admission is the document exactly as written.
      expect(readFileSync(join(REPO, RESOURCES_DIR, file), "utf8")).toContain(w?.yaml.trim() ?? "none");
      expect(d.services).toEqual([
        { name: w?.name, namespace: "default", selector: { "app.kubernetes.io/name": w?.name } },
      ]);
    }
  });
});

describe("finding the checkout", () => {
  it("walks up from the CLI's location to pnpm-workspace.yaml and finds every app and the resources", () => {
    const s = findDemoSource(undefined, ["/nonexistent/dir", join(REPO, "apps/cli/dist")]);
    expect(s.root).toBe(REPO);
    expect(s.apps.map((a) => a.name)).toEqual(Object.keys(DEMO_APPS));
    expect(s.resourcesDir).toBe(join(REPO, RESOURCES_DIR));
  });

  it("refuses a directory that is no checkout, and a checkout whose apps are not built", () => {
    const fake = tempDir();
    expect(errorCode(() => findDemoSource(fake, []))).toBe("CLI_DEMO_SOURCE_NOT_FOUND");
    expect(errorCode(() => findDemoSource(undefined, [fake]))).toBe("CLI_DEMO_SOURCE_NOT_FOUND");
    writeFileSync(join(fake, "pnpm-workspace.yaml"), "packages: []\n");
    for (const dir of Object.values(DEMO_APPS)) {
      mkdirSync(join(fake, dir), { recursive: true });
      writeFileSync(
        join(fake, dir, "package.json"),
        JSON.stringify({ image: { files: { "dist/app.cjs": "/opt/app.cjs" } } }),
      );
    }
    expect(errorCode(() => findDemoSource(fake, []))).toBe("CLI_DEMO_SOURCE_NOT_FOUND");
    for (const dir of Object.values(DEMO_APPS)) {
      mkdirSync(join(fake, dir, "dist"), { recursive: true });
      writeFileSync(join(fake, dir, "dist/app.cjs"), "");
    }
    // Built, but without the resources.
    expect(errorCode(() => findDemoSource(fake, []))).toBe("CLI_DEMO_SOURCE_NOT_FOUND");
    mkdirSync(join(fake, RESOURCES_DIR), { recursive: true });
    expect(findDemoSource(fake, []).root).toBe(fake);
  });
});

describe("the narration", () => {
  class Capture {
    text = "";
    constructor(readonly isTTY: boolean) {}
    write(s: string) {
      this.text += s;
      return true;
    }
  }

  it("prints a ✔ line per step with its time, records every step, and records and rethrows a failure", async () => {
    const stdout = new Capture(true);
    const stderr = new Capture(false);
    let t = 1000;
    const n = new Narrator(new Output({ format: "text", stdout, stderr, env: { NO_COLOR: "1" } }), {}, () => t);
    await n.step("one", "Step one", async () => {
      t += 1500;
      return { line: "did one", more: ["a detail"], details: { x: 1 } };
    });
    const failed = n.step("two", "Step two", async () => {
      t += 500;
      throw Object.assign(new Error("boom"), {});
    });
    await expect(failed).rejects.toMatchObject({ code: "INTERNAL" });
    expect(stdout.text).toBe("✔ did one (1.5 s)\n    a detail\n✖ Step two: failed\n");
    expect(n.steps).toMatchObject([
      { step: "one", ok: true, seconds: 1.5, details: { x: 1 } },
      { step: "two", ok: false, seconds: 0.5, error: { code: "INTERNAL" } },
    ]);
    expect(n.elapsedSeconds).toBe(2);
  });
});

describe("the requests the demo makes", () => {
  const dir = tempDir();
  const ossl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const servers: Server[] = [];
  let ca = "";
  let otherCa = "";
  let key = "";
  let cert = "";

  beforeAll(() => {
    for (const name of ["ca", "other"]) {
      ossl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        `/CN=${name}`,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
      );
    }
    ossl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=frontend",
      "-keyout",
      "srv.key",
      "-out",
      "srv.csr",
    );
    ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "1", "-out", "srv.pem");
    ca = readFileSync(join(dir, "ca.pem"), "utf8");
    otherCa = readFileSync(join(dir, "other.pem"), "utf8");
    key = readFileSync(join(dir, "srv.key"), "utf8");
    cert = readFileSync(join(dir, "srv.pem"), "utf8");
  });
  afterAll(() => {
    for (const s of servers) s.close();
  });

  /** A TLS server answering every request with `body`; with `mtls`, only clients with a certificate of `ca`. */
  const serve = async (mtls: boolean, body = '{"service":"frontend","backend":{"service":"backend"}}') => {
    const server = createTlsServer({ key, cert, ca, requestCert: mtls, rejectUnauthorized: mtls }, (socket) => {
      socket.once("data", () => {
        socket.end(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
        );
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return (server.address() as AddressInfo).port;
  };

  it("GET over TLS verifies the server against the given CA only, and reads a chunked answer", async () => {
    const port = await serve(false);
    const r = await meshGet({ host: "127.0.0.1", port, ca, timeoutMs: 10_000 });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ service: "frontend", backend: { service: "backend" } });
    expect(r.server).toMatchObject({ subject: "frontend", issuer: "ca" });
    await expect(meshGet({ host: "127.0.0.1", port, ca: otherCa, timeoutMs: 10_000 })).rejects.toMatchObject({
      code: expect.stringMatching(/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/),
    });
  });

  it("a server that requires a client certificate refuses a request without one; one that does not answers", async () => {
    const strict = await serve(true);
    const refused = await requestWithoutClientCertificate({ host: "127.0.0.1", port: strict, timeoutMs: 10_000 });
    expect(refused.refused).toBe(true);
    const open = await serve(false);
    const answered = await requestWithoutClientCertificate({ host: "127.0.0.1", port: open, timeoutMs: 10_000 });
    expect(answered).toEqual({ refused: false, how: "the server answered 200" });
  });

  it("plain HTTP GET for the Coordinator's probes", async () => {
    const server = createHttpServer((_req, res) => {
      res.statusCode = 503;
      res.end("in recovery mode\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      expect(await plainGet("127.0.0.1", port, "/probe/readiness", 5000)).toEqual({
        status: 503,
        body: "in recovery mode\n",
      });
    } finally {
      server.close();
    }
  });

  it("parses HTTP/1.1 answers by length, chunks or close, and nothing from a partial head", () => {
    const b = (s: string) => Buffer.from(s, "latin1");
    expect(parseHttpResponse(b("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"))).toEqual({ status: 200, body: "hi" });
    const utf = Buffer.concat([
      b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n"),
      Buffer.from("ü", "utf8"),
      b("ab\r\n0\r\n\r\n"),
    ]);
    expect(parseHttpResponse(utf)?.body).toBe("üab");
    expect(parseHttpResponse(b("HTTP/1.1 503 Service Unavailable\r\n\r\nno"))).toEqual({ status: 503, body: "no" });
    expect(parseHttpResponse(b("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n"))).toBeUndefined();
    expect(parseHttpResponse(b("SSH-2.0-OpenSSH\r\n\r\n"))).toBeUndefined();
  });
});

// As root the command runs in this process (without root it would re-execute itself first).
describe.skipIf(process.getuid?.() !== 0)("contrast demo's checks before it starts anything", () => {
  const run = async (...args: string[]) => {
    const env = { NO_COLOR: "1", PATH: path ?? "" };
    const r = await cli(["demo", "-o", "json", ...args], { cwd: tempDir(), env });
    return { status: r.status, error: JSON.parse(r.stdout).error as { code: string; hint: string } };
  };

  let path = process.env.PATH;

  it("refuses a bad --step-timeout, a directory that is no checkout, and someone else's directory", async () => {
    expect(await run("--step-timeout", "soon")).toMatchObject({ status: 1, error: { code: "CLI_USAGE" } });
    expect(await run("--source-dir", tempDir())).toMatchObject({
      status: 1,
      error: { code: "CLI_DEMO_SOURCE_NOT_FOUND" },
    });
    const mine = tempDir();
    writeFileSync(join(mine, "notes.txt"), "mine");
    expect(await run("--source-dir", REPO, "--dir", mine)).toMatchObject({
      status: 1,
      error: { code: "CLI_DEMO_DIR_NOT_EMPTY" },
    });
    expect(readFileSync(join(mine, "notes.txt"), "utf8")).toBe("mine");
    // Without unshare and nsenter on the PATH (only the sbin directories are searched besides).
    path = "/nonexistent";
    expect(await run("--source-dir", REPO)).toMatchObject({ status: 1, error: { code: "CLI_DEMO_TOOL_MISSING" } });
  });
});
