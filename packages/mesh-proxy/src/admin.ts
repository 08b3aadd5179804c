import { createServer, type Server } from "node:http";
import type { HostPort } from "./config.js";
import { listenOn } from "./listen.js";
import type { MeshMetrics } from "./metrics.js";

export interface AdminOptions {
  readonly metrics: MeshMetrics;
  /** True once the proxy's listeners (and, in a pod, its iptables rules) are up. */
  readonly isReady: () => boolean;
}

/**
 * The admin interface: `/metrics` and `/stats/prometheus` (Envoy's path, so scrape configs written
 * for upstream's sidecar keep working) serve the Prometheus text; `/healthz` answers while the
 * process runs; `/ready` answers 200 once ready, 503 before and while draining.
 */
export class AdminServer {
  readonly #server: Server;

  constructor(options: AdminOptions) {
    this.#server = createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0];
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/metrics" || path === "/stats/prometheus") {
        options.metrics.registry.metrics().then(
          (text) => response.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(text),
          () => response.writeHead(500).end(),
        );
        return;
      }
      if (path === "/healthz") {
        response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        return;
      }
      if (path === "/ready") {
        const ready = options.isReady();
        response.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "ready\n" : "not ready\n");
        return;
      }
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    });
    this.#server.keepAliveTimeout = 5_000;
  }

  listen(address: HostPort): Promise<HostPort> {
    return listenOn(this.#server, address, "admin");
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
