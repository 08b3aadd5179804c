import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";

export type Fault = "429" | "503" | "500" | "reset" | "truncate";

export interface ProxyOptions {
  /** Require a Bearer token obtained from /token (the distribution token flow). */
  readonly bearer?: { readonly user?: string; readonly password?: string };
  /** Faults served to the next /v2/ requests, one per request, in order. */
  readonly faults?: Fault[];
  /** Faults only for requests whose path contains this string. */
  readonly faultPath?: string;
}

/**
 * A tiny HTTP front for the real registry: speaks the Bearer token flow and injects 429, 5xx,
 * connection resets and truncated bodies, so the client's auth and retry paths meet real HTTP.
 */
export class RegistryProxy {
  readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  readonly tokenRequests: { query: string; authorization: string | undefined }[] = [];
  private constructor(
    private readonly server: Server,
    readonly host: string,
  ) {}

  static async start(target: string, options: ProxyOptions = {}): Promise<RegistryProxy> {
    const faults = options.faults ?? [];
    let proxy: RegistryProxy | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? "/";
      const p = proxy as RegistryProxy;
      if (path.startsWith("/token")) {
        p.tokenRequests.push({ query: path.slice(6), authorization: req.headers.authorization });
        const want = options.bearer;
        if (want?.user !== undefined) {
          const expected = `Basic ${Buffer.from(`${want.user}:${want.password ?? ""}`).toString("base64")}`;
          if (req.headers.authorization !== expected) {
            res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
            return;
          }
        }
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: "good-token" }));
        return;
      }
      p.requests.push({ method: req.method ?? "GET", path, authorization: req.headers.authorization });
      if (options.bearer && path.startsWith("/v2/") && req.headers.authorization !== "Bearer good-token") {
        const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(path)?.[1] ?? "";
        res
          .writeHead(401, {
            "WWW-Authenticate": `Bearer realm="http://${p.host}/token",service="test-registry",scope="repository:${repo}:pull"`,
            "Content-Type": "application/json",
          })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const fault = options.faultPath === undefined || path.includes(options.faultPath) ? faults.shift() : undefined;
      if (fault === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault === "429") {
        res.writeHead(429, { "Retry-After": "7" }).end("slow down");
        return;
      }
      if (fault === "503" || fault === "500") {
        res.writeHead(Number(fault)).end("unavailable");
        return;
      }
      const headers = { ...req.headers, host: target };
      delete headers.authorization;
      const upstream = request(
        { host: target.split(":")[0], port: Number(target.split(":")[1]), method: req.method, path, headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          if (fault === "truncate") {
            // Send a little of the body, then drop the connection mid-transfer.
            up.once("data", (chunk: Buffer) => {
              res.write(chunk.subarray(0, Math.min(100, chunk.length)));
              setTimeout(() => res.socket?.destroy(), 10);
            });
            return;
          }
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const a = server.address();
    if (typeof a !== "object" || a === null) throw new Error("no address");
    proxy = new RegistryProxy(server, `127.0.0.1:${a.port}`);
    return proxy;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
