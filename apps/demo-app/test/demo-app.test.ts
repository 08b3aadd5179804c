import { join } from "node:path";
import { fixedClock, noopLogger } from "@contrast/core";
import { expectCode, startBundle } from "@contrast/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_BACKEND_URL, type DemoAppConfig, parseCommandLine } from "../src/config.js";
import { type RunningDemoApp, startDemoApp } from "../src/server.js";

const clock = fixedClock(new Date("2026-01-02T03:04:05.000Z"));
const running: RunningDemoApp[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.close();
});

function config(role: DemoAppConfig["role"], more: Partial<DemoAppConfig> = {}): DemoAppConfig {
  return {
    role,
    port: 0,
    host: "127.0.0.1",
    backendUrl: DEFAULT_BACKEND_URL,
    pod: `${role}-pod`,
    logLevel: "info",
    ...more,
  };
}

async function start(c: DemoAppConfig, backendTimeoutMs?: number): Promise<RunningDemoApp> {
  const app = await startDemoApp(c, {
    clock,
    log: noopLogger,
    fetch: globalThis.fetch,
    ...(backendTimeoutMs === undefined ? {} : { backendTimeoutMs }),
  });
  running.push(app);
  return app;
}

describe("demo-app", () => {
  it("backend answers with its identity; frontend answers with the backend's answer inside", async () => {
    const backend = await start(config("backend"));
    const direct = await fetch(`http://127.0.0.1:${backend.port}/`);
    expect(direct.status).toBe(200);
    expect(await direct.json()).toEqual({ service: "backend", pod: "backend-pod", time: "2026-01-02T03:04:05.000Z" });

    const frontend = await start(config("frontend", { backendUrl: `http://127.0.0.1:${backend.port}/` }));
    const answer = await fetch(`http://127.0.0.1:${frontend.port}/`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({
      service: "frontend",
      pod: "frontend-pod",
      time: "2026-01-02T03:04:05.000Z",
      backend: { service: "backend", pod: "backend-pod", time: "2026-01-02T03:04:05.000Z" },
    });
    for (const app of [backend, frontend]) {
      const health = await fetch(`http://127.0.0.1:${app.port}/healthz`);
      expect(await health.json()).toEqual({ ok: true });
      expect((await fetch(`http://127.0.0.1:${app.port}/other`)).status).toBe(404);
    }
  });

  it("frontend answers 502 with the reason when the backend cannot be reached", async () => {
    // A port that was just free: nothing listens there.
    const gone = await start(config("backend"));
    const port = gone.port;
    await gone.close();
    running.splice(running.indexOf(gone), 1);
    const frontend = await start(config("frontend", { backendUrl: `http://127.0.0.1:${port}/` }));
    const answer = await fetch(`http://127.0.0.1:${frontend.port}/`);
    expect(answer.status).toBe(502);
    const body = (await answer.json()) as { service: string; error: string };
    expect(body.service).toBe("frontend");
    expect(body.error).toContain(`backend http://127.0.0.1:${port}/ unreachable`);
  });

  it("parses its command line and environment", () => {
    const p = parseCommandLine(["frontend"], { HOSTNAME: "web-1", PORT: "9000", BACKEND_URL: "http://b:1/" }, "1.0.0");
    expect(p).toEqual({
      kind: "run",
      config: {
        role: "frontend",
        port: 9000,
        host: undefined,
        backendUrl: "http://b:1/",
        pod: "web-1",
        logLevel: "info",
      },
    });
    const q = parseCommandLine(["backend", "--port", "81", "-l", "debug"], {}, "1.0.0");
    expect(q.kind === "run" && [q.config.port, q.config.backendUrl, q.config.logLevel]).toEqual([
      81,
      DEFAULT_BACKEND_URL,
      "debug",
    ]);
    expect(parseCommandLine(["--version"], {}, "1.2.3")).toEqual({ kind: "print", text: "demo-app 1.2.3\n" });
    for (const argv of [
      [],
      ["middle"],
      ["backend", "extra"],
      ["backend", "--port", "99999"],
      ["frontend", "--backend", "https://x/"],
      ["backend", "--nope"],
    ]) {
      expectCode(() => parseCommandLine(argv, {}, "1"), "LOCALRUN_DEMO_APP_USAGE");
    }
  });

  it("runs as a program: serves, then exits 0 on SIGTERM; a usage error exits 2", async () => {
    const bundle = join(import.meta.dirname, "..", "dist", "demo-app.cjs");
    const bad = startBundle(bundle, ["sideways"]);
    expect(await bad.exited).toBe(2);
    expect(bad.logs.some((l) => (l.error as { code?: string } | undefined)?.code === "LOCALRUN_DEMO_APP_USAGE")).toBe(
      true,
    );

    const p = startBundle(bundle, ["backend", "--port", "0", "--host", "127.0.0.1"], { HOSTNAME: "proc-pod" });
    const listening = await p.waitFor((l) => l.msg === "listening", "listening", 15_000);
    const answer = await fetch(`http://127.0.0.1:${listening.port as number}/`);
    expect(((await answer.json()) as { pod: string }).pod).toBe("proc-pod");
    p.proc.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });
});
