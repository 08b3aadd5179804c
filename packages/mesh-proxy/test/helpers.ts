import { connect, createServer, type Server, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import type { HostPort, MeshCredentialFiles } from "../src/index.js";

/** A plaintext application: counts connections, answers `reply(data)` per chunk or at the end. */
export interface App {
  readonly server: Server;
  readonly address: HostPort;
  readonly connections: Socket[];
  close(): Promise<void>;
}

export async function startApp(onConnection: (socket: Socket) => void): Promise<App> {
  const connections: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    connections.push(socket);
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const a = server.address() as { port: number };
  return {
    server,
    address: { host: "127.0.0.1", port: a.port },
    connections,
    close: () =>
      new Promise((resolve) => {
        for (const c of connections) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An app that reads until the client's end, then answers `echo:<what it read>` and ends. */
export function echoAtEnd(socket: Socket): void {
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.on("end", () => socket.end(`echo:${Buffer.concat(chunks).toString()}`));
}

export interface ClientResult {
  readonly secure: boolean;
  readonly data: string;
  readonly error: string | undefined;
}

/** A TLS client trusting `ca`, with optional credentials: sends `message`, ends, reads to the end. */
export function tlsRoundTrip(
  address: HostPort,
  options: { readonly ca: string; readonly client?: MeshCredentialFiles; readonly message?: string },
): Promise<ClientResult> {
  return new Promise((resolve) => {
    let secure = false;
    let data = "";
    let error: string | undefined;
    const socket: TLSSocket = tlsConnect({
      host: address.host,
      port: address.port,
      ca: options.ca,
      checkServerIdentity: () => undefined,
      ...(options.client ? { cert: String(options.client.certChain), key: String(options.client.key) } : {}),
    });
    socket.on("secureConnect", () => {
      secure = true;
      socket.end(options.message ?? "hello");
    });
    socket.on("data", (d: Buffer) => {
      data += d.toString();
    });
    socket.on("error", (e: Error & { code?: string }) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => resolve({ secure, data, error }));
  });
}

/** A plain TCP client: sends, ends, reads to the end. */
export function plainRoundTrip(address: HostPort, message: string): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    let data = "";
    let error: string | undefined;
    const socket = connect({ host: address.host, port: address.port, allowHalfOpen: true }, () => socket.end(message));
    socket.on("data", (d: Buffer) => {
      data += d.toString();
    });
    socket.on("end", () => socket.end());
    socket.on("error", (e: Error & { code?: string }) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => resolve(error === undefined ? { data } : { data, error }));
  });
}

/** Resolves when `socket` closes. */
export function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed && socket.closed) resolve();
    else socket.once("close", () => resolve());
  });
}

/** Polls `check` every 10 ms until it holds or `ms` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The value of one sample in the Prometheus text, or 0. */
export async function sample(
  text: string | Promise<string>,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of (await text).split("\n")) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = (m[2] as string).split(",").sort();
    if (have.length === want.length && have.every((l, i) => l === want[i])) return Number(m[3]);
  }
  return 0;
}

/** The sum of every sample of `name` whose labels include `labels`. */
export async function total(
  text: string | Promise<string>,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  let sum = 0;
  for (const line of (await text).split("\n")) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Set((m[2] as string).split(","));
    if (Object.entries(labels).every(([k, v]) => have.has(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
