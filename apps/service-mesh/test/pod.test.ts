import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { jsonLogger, systemClock } from "@contrast/core";
import { scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import type { PodOptions } from "../src/options.js";
import { parseCommandLine } from "../src/options.js";
import { runPod } from "../src/pod.js";
import { Deployment, startProxy } from "./helpers.js";

const deployment = new Deployment();

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
      return s;
    }),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

describe("pod mode configuration", () => {
  it("exits 2 listing every bad entry of CONTRAST_* (code and hint), before binding anything", async () => {
    const proxy = startProxy(["-l", "debug"], {
      CONTRAST_INGRESS_PROXY_CONFIG: "web#80#maybe##metrics",
      CONTRAST_EGRESS_PROXY_CONFIG: "db#10.0.0.1:5432#db:5432",
      CONTRAST_ADMIN_PORT: "0",
    });
    expect(await proxy.exited).toBe(2);
    const error = proxy.logs.at(-1)?.error as { code: string; hint: string; details: { problems: string[] } };
    expect(error.code).toBe("PROXY_CONFIG_INVALID");
    expect(error.hint).toContain("name#port#true|false");
    expect(error.details.problems).toHaveLength(4);
  });

  it("fails closed without the SO_ORIGINAL_DST addon: exit 1, nothing bound, no ready file", async () => {
    const dir = scratchDir();
    const server = deployment.workload(join(dir, "tls"), "server");
    const ready = join(dir, "ready");
    const proxy = startProxy([
      "run",
      "--tls-dir",
      server.dir,
      "--ready-file",
      ready,
      "--addon",
      join(dir, "missing.node"),
    ]);
    expect(await proxy.exited).toBe(1);
    expect(proxy.logs.at(-1)?.error).toMatchObject({ code: "NETFILTER_ADDON_UNAVAILABLE" });
    expect(proxy.logs.some((l) => l.msg === "ingress listening")).toBe(false);
    expect(existsSync(ready)).toBe(false);
  });

  it("accepts upstream's Envoy arguments and maps -l onto the log level", () => {
    const parsed = parseCommandLine(["-l", "debug", "--component-log-level", "upstream:info"], "test") as PodOptions;
    expect(parsed.mode).toBe("run");
    expect(parsed.logLevel).toBe("debug");
    expect(parsed.tlsDir).toBe("/contrast/tls-config");
    expect(parsed.readyFile).toBe("/ready");
  });
});

describe("pod mode (interception injected)", () => {
  it("listens, sets up the interception, then writes the ready file; forwards to the resolved target; drains on SIGTERM", async () => {
    const dir = scratchDir();
    const server = deployment.workload(join(dir, "server"), "server");
    const client = deployment.workload(join(dir, "client"), "client");
    let appConnections = 0;
    const appServer = createServer({ allowHalfOpen: true }, (s) => {
      appConnections++;
      s.on("data", () => {});
      s.on("end", () => s.end("from app"));
    });
    await new Promise<void>((r) => appServer.listen(0, "127.0.0.1", r));
    const appPort = (appServer.address() as { port: number }).port;
    const [mtls, tls, egressPort] = await freePorts(3);
    const ready = join(dir, "ready");
    const events: string[] = [];
    const lines: string[] = [];
    const log = jsonLogger({ write: (l) => lines.push(l), clock: systemClock, level: "debug" });
    const signals = new (await import("node:events")).EventEmitter();
    const options = parseCommandLine(["run", "--tls-dir", server.dir, "--ready-file", ready], "test") as PodOptions;
    const done = runPod(
      options,
      {
        CONTRAST_INGRESS_PROXY_CONFIG: "web#8080#false",
        CONTRAST_EGRESS_PROXY_CONFIG: `self#127.0.0.1:${egressPort}#127.0.0.1:${mtls}`,
      },
      log,
      signals,
      {
        preflight: async () => {
          events.push("preflight");
        },
        proxyPorts: { mtls: mtls as number, tls: tls as number },
        startInterception: async (request) => {
          events.push(
            `interception ${request.ingress.map((e) => `${e.port}:${e.disableTLS}`).join(",")} ${request.proxyPorts.mtls}`,
          );
          expect(existsSync(ready)).toBe(false);
          return { resolveTarget: () => ({ host: "127.0.0.1", port: appPort }) };
        },
      },
    );
    const until = Date.now() + 10_000;
    while (!existsSync(ready) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(ready)).toBe(true);
    expect(events).toEqual(["preflight", `interception 8080:false ${mtls}`]);
    // A mesh peer on 15006 (here: mtls), through this pod's own egress listener.
    const { connect } = await import("node:net");
    const viaEgress = await new Promise<string>((resolve) => {
      let data = "";
      const s = connect({ host: "127.0.0.1", port: egressPort as number, allowHalfOpen: true }, () => s.end("q"));
      s.on("data", (d: Buffer) => {
        data += d.toString();
      });
      s.on("end", () => s.end());
      s.on("close", () => resolve(data));
    });
    expect(viaEgress).toBe("from app");
    // TLS without client auth on 15007 (here: tls).
    const anon = await new Promise<string>((resolve) => {
      let data = "";
      const s = tlsConnect({
        host: "127.0.0.1",
        port: tls as number,
        ca: client.meshCa,
        checkServerIdentity: () => undefined,
      });
      s.on("secureConnect", () => s.end("q"));
      s.on("data", (d: Buffer) => {
        data += d.toString();
      });
      s.on("error", () => {});
      s.on("close", () => resolve(data));
    });
    expect(anon).toBe("from app");
    expect(appConnections).toBe(2);
    signals.emit("SIGTERM");
    expect(await done).toBe(0);
    appServer.close();
  });
});
