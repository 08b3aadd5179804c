import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "@contrast/core";
import type { Registry } from "prom-client";

/** One probe's answer: 200 when `ok`, else 503 with the reason as the body. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface Probes {
  /** Both gRPC listeners are up. */
  startup(): ProbeResult;
  /** The history store answers (a failed read means the process cannot recover by itself). */
  liveness(): Promise<ProbeResult>;
  /** The Coordinator has a manifest and its view of the history is current (not stale). */
  readiness(): Promise<ProbeResult>;
}

export interface ProbeServerOptions {
  readonly probes: Probes;
  readonly registry: Registry;
  readonly logger: Logger;
}

/**
 * The probe and metrics HTTP server (upstream's port 9102): `/probe/startup`, `/probe/liveness`,
 * `/probe/readiness` and `/metrics` in the Prometheus text format. Anything else is 404; methods
 * other than GET and HEAD are 405.
 */
export function createProbeServer(options: ProbeServerOptions): Server {
  const server = createServer((req, res) => {
    handle(options, req, res).catch((e: unknown) => {
      options.logger.error("probe server failed", { error: e, path: req.url });
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
    });
  });
  // A scraper or kubelet that stops reading cannot hold sockets open forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

async function handle(options: ProbeServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    send(res, 405, "method not allowed\n");
    return;
  }
  let result: ProbeResult;
  switch (path) {
    case "/metrics": {
      const body = await options.registry.metrics();
      res.setHeader("content-type", options.registry.contentType);
      send(res, 200, body, req.method === "HEAD");
      return;
    }
    case "/probe/startup":
      result = options.probes.startup();
      break;
    case "/probe/liveness":
      result = await options.probes.liveness();
      break;
    case "/probe/readiness":
      result = await options.probes.readiness();
      break;
    default:
      send(res, 404, "not found\n");
      return;
  }
  send(res, result.ok ? 200 : 503, `${result.ok ? "ok" : (result.reason ?? "not ready")}\n`, req.method === "HEAD");
}

function send(res: ServerResponse, status: number, body: string, headOnly = false): void {
  res.statusCode = status;
  if (!res.hasHeader("content-type")) res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(headOnly ? undefined : body);
}
