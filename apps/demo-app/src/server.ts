import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock, Logger } from "@contrast/core";
import type { DemoAppConfig } from "./config.js";

export interface DemoAppDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** How the frontend calls the backend (global fetch in the program). */
  readonly fetch: typeof globalThis.fetch;
  /** How long the frontend waits for the backend. */
  readonly backendTimeoutMs?: number;
}

export interface RunningDemoApp {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The app's HTTP server. Both roles answer `/healthz` (the probes'); `/` is the role's answer:
 * the backend's identity, or the frontend's with the backend's answer inside, fetched through the
 * mesh egress. A backend that cannot be reached makes the frontend answer 502 with the reason,
 * so a refused mesh hop is visible to whoever calls the frontend.
 */
export function handler(config: DemoAppConfig, deps: DemoAppDeps) {
  const timeout = deps.backendTimeoutMs ?? 5000;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://local").pathname;
    const base = { service: config.role, pod: config.pod, time: deps.clock.now().toISOString() };
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { ...base, error: "only GET" });
    if (path === "/healthz") return send(res, 200, { ok: true });
    if (path !== "/") return send(res, 404, { ...base, error: `no ${path}` });
    if (config.role === "backend") {
      deps.log.info("request", { path, from: req.socket.remoteAddress });
      return send(res, 200, base);
    }
    try {
      const answer = await deps.fetch(config.backendUrl, { signal: AbortSignal.timeout(timeout) });
      const body = (await answer.json()) as unknown;
      if (!answer.ok) throw new Error(`the backend answered ${answer.status}`);
      deps.log.info("request", { path, backend: answer.status });
      return send(res, 200, { ...base, backend: body });
    } catch (e) {
      const reason =
        e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
      deps.log.warn("backend unreachable", { backend: config.backendUrl, error: reason });
      return send(res, 502, { ...base, error: `backend ${config.backendUrl} unreachable: ${reason}` });
    }
  };
}

/** Starts listening; resolves once the port is bound. */
export async function startDemoApp(config: DemoAppConfig, deps: DemoAppDeps): Promise<RunningDemoApp> {
  const handle = handler(config, deps);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      deps.log.error("request failed", { error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) send(res, 500, { error: "internal" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: config.port, ...(config.host === undefined ? {} : { host: config.host }) }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  deps.log.info("listening", {
    role: config.role,
    port,
    ...(config.role === "frontend" ? { backend: config.backendUrl } : {}),
  });
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
