import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { childEnv, scratchDir } from "@contrast/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { Deployment, type Running, startProxy, type WorkloadFiles } from "./helpers.js";

const deployment = new Deployment();
const other = new Deployment();
const running: Running[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.proc.kill("SIGKILL");
    await r.exited;
  }
  for (const s of servers.splice(0)) s.close();
});

/**
 * A plaintext app answering `app:<bytes>` to everything it reads, then ending; with `firstChunk`
 * it answers the first chunk at once (for clients that wait for the server to close, as
 * `openssl s_client -quiet` does).
 */
async function app(firstChunk = false): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer({ allowHalfOpen: true }, (s) => {
    connections++;
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => {
      chunks.push(d);
      if (firstChunk) s.end(`app:${d.toString()}`);
    });
    s.on("end", () => {
      if (!firstChunk) s.end(`app:${Buffer.concat(chunks).toString()}`);
    });
    s.on("error", () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

/** Runs openssl asynchronously (the app under test lives in this process's event loop). */
function opensslClient(
  args: string[],
  input: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("openssl", args, { env: childEnv(), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end(input);
  });
}

async function standalone(
  tlsDir: string,
  upstream: number,
  extra: string[] = [],
): Promise<{ proxy: Running; port: number }> {
  const proxy = startProxy([
    "ingress",
    "--tls-dir",
    tlsDir,
    "--listen",
    "127.0.0.1:0",
    "--upstream",
    `127.0.0.1:${upstream}`,
    ...extra,
  ]);
  running.push(proxy);
  const line = await proxy.waitFor((l) => l.msg === "ingress listening", "ingress listening");
  return { proxy, port: line.port as number };
}

function request(port: number, client: WorkloadFiles | undefined, ca: string, message: string): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    const s = tlsConnect({
      host: "127.0.0.1",
      port,
      ca,
      checkServerIdentity: () => undefined,
      ...(client ? { cert: client.certChain, key: client.key } : {}),
    });
    s.on("secureConnect", () => s.end(message));
    s.on("data", (d: Buffer) => {
      data += d.toString();
    });
    s.on("error", () => {});
    s.on("close", () => resolve(data));
  });
}

describe("service-mesh ingress (standalone)", () => {
  it("terminates mTLS with the Coordinator's mesh certificates and forwards to the upstream", async () => {
    const dir = scratchDir();
    const server = deployment.workload(join(dir, "server"), "server");
    const client = deployment.workload(join(dir, "client"), "client");
    const stranger = other.workload(join(dir, "stranger"), "client");
    const target = await app();
    const { port } = await standalone(server.dir, target.port);
    expect(await request(port, client, server.meshCa, "hi")).toBe("app:hi");
    expect(await request(port, undefined, server.meshCa, "hi")).toBe("");
    expect(await request(port, stranger, server.meshCa, "hi")).toBe("");
    expect(target.connections()).toBe(1);
  });

  it("egress (standalone) → ingress (standalone) → app: a mesh hop between two processes", async () => {
    const dir = scratchDir();
    const server = deployment.workload(join(dir, "server"), "server");
    const client = deployment.workload(join(dir, "client"), "client");
    const target = await app();
    const { port: ingressPort } = await standalone(server.dir, target.port);
    const egress = startProxy([
      "egress",
      "--tls-dir",
      client.dir,
      "--listen",
      "127.0.0.1:0",
      "--remote",
      `127.0.0.1:${ingressPort}`,
    ]);
    running.push(egress);
    const line = await egress.waitFor((l) => l.msg === "egress listening", "egress listening");
    const { connect } = await import("node:net");
    const answer = await new Promise<string>((resolve) => {
      let data = "";
      const s = connect({ host: "127.0.0.1", port: line.port as number, allowHalfOpen: true }, () => s.end("hop"));
      s.on("data", (d: Buffer) => {
        data += d.toString();
      });
      s.on("end", () => s.end());
      s.on("error", () => {});
      s.on("close", () => resolve(data));
    });
    expect(answer).toBe("app:hop");
    expect(target.connections()).toBe(1);
  });

  it("--no-client-auth: openssl s_client -CAfile mesh-ca.pem -verify_return_error reaches the app", async () => {
    const dir = scratchDir();
    const server = deployment.workload(join(dir, "server"), "server");
    const target = await app(true);
    const { port } = await standalone(server.dir, target.port, ["--no-client-auth"]);
    const sClient = (caFile: string) => [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-CAfile",
      caFile,
      "-verify_return_error",
      "-quiet",
    ];
    const result = await opensslClient(sClient(join(server.dir, "mesh-ca.pem")), "plain question");
    expect(result).toMatchObject({ status: 0, stdout: "app:plain question" });
    expect(target.connections()).toBe(1);
    // The same check against another deployment's CA fails: the server is verified, not just reached.
    const wrong = await opensslClient(sClient(join(other.workload(join(dir, "o"), "o").dir, "mesh-ca.pem")), "x");
    expect(wrong.status).not.toBe(0);
    expect(target.connections()).toBe(1);
  });

  it("serves /metrics, /stats/prometheus, /healthz and /ready on the admin port; SIGTERM drains and exits 0", async () => {
    const dir = scratchDir();
    const server = deployment.workload(join(dir, "server"), "server");
    const client = deployment.workload(join(dir, "client"), "client");
    const target = await app();
    const ready = join(dir, "ready");
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const adminPort = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { proxy, port } = await standalone(server.dir, target.port, [
      "--admin-port",
      String(adminPort),
      "--admin-address",
      "127.0.0.1",
      "--ready-file",
      ready,
    ]);
    await proxy.waitFor((l) => l.msg === "ready", "ready");
    expect(existsSync(ready)).toBe(true);
    await request(port, client, server.meshCa, "12345");
    await request(port, undefined, server.meshCa, "x");
    const get = async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${adminPort}${path}`);
      return { status: r.status, text: await r.text() };
    };
    const metrics = await get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('contrast_mesh_connections_total{listener="ingress"} 2');
    expect(metrics.text).toContain(
      'contrast_mesh_handshake_failures_total{listener="ingress",reason="no_client_cert"} 1',
    );
    expect(metrics.text).toContain(
      'contrast_mesh_bytes_total{listener="ingress",direction="downstream_to_upstream"} 5',
    );
    expect((await get("/stats/prometheus")).text).toContain("contrast_mesh_connections_total");
    expect(await get("/healthz")).toEqual({ status: 200, text: "ok\n" });
    expect((await get("/ready")).status).toBe(200);
    expect((await get("/nope")).status).toBe(404);
    proxy.proc.kill("SIGTERM");
    expect(await proxy.exited).toBe(0);
    expect(proxy.logs.some((l) => l.msg === "drained")).toBe(true);
  });

  it("SIGHUP reloads the credentials for new connections; unusable files keep the old ones", async () => {
    const dir = scratchDir();
    const server = deployment.workload(join(dir, "server"), "first");
    const target = await app();
    const { proxy, port } = await standalone(server.dir, target.port, ["--no-client-auth"]);
    const subject = () =>
      new Promise<string | undefined>((resolve) => {
        const s = tlsConnect({ host: "127.0.0.1", port, ca: server.meshCa, checkServerIdentity: () => undefined });
        s.on("secureConnect", () => {
          resolve(s.getPeerX509Certificate()?.subject);
          s.destroy();
        });
        s.on("error", () => resolve(undefined));
      });
    expect(await subject()).toBe("CN=first");
    deployment.workload(server.dir, "second");
    proxy.proc.kill("SIGHUP");
    await proxy.waitFor((l) => l.msg === "credentials reloaded", "credentials reloaded");
    expect(await subject()).toBe("CN=second");
    writeFileSync(join(server.dir, "key.pem"), "not a key");
    proxy.proc.kill("SIGHUP");
    await proxy.waitFor((l) => l.msg.startsWith("credentials not reloaded"), "credentials not reloaded");
    expect(await subject()).toBe("CN=second");
  });

  it("refuses bad flags and unreadable credentials with a code and a hint", async () => {
    const dir = scratchDir();
    const bad = startProxy(["ingress", "--tls-dir", dir, "--listen", "127.0.0.1", "--upstream", "127.0.0.1:1"]);
    expect(await bad.exited).toBe(2);
    expect(bad.logs.at(-1)?.error).toMatchObject({ code: "PROXY_ADDRESS_INVALID" });
    const empty = startProxy(["ingress", "--tls-dir", dir, "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1"]);
    expect(await empty.exited).toBe(1);
    const error = empty.logs.at(-1)?.error as { code: string; hint: string };
    expect(error.code).toBe("PROXY_CREDENTIALS_INVALID");
    expect(error.hint).toContain("initializer");
  });
});
