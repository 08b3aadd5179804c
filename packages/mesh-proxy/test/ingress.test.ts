import { connect } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import {
  fixedTarget,
  HandshakeLimiter,
  IngressListener,
  type IngressOptions,
  loadMeshCredentials,
  MeshMetrics,
} from "../src/index.js";
import {
  type App,
  closed,
  echoAtEnd,
  eventually,
  plainRoundTrip,
  sample,
  startApp,
  tlsRoundTrip,
  total,
} from "./helpers.js";
import { TestMeshCa } from "./mesh-ca.js";

const ca = new TestMeshCa();
const otherCa = new TestMeshCa();
const server = ca.issue({ commonName: "server" });
const client = ca.issue({ commonName: "client" });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(
  app: App,
  options: Partial<IngressOptions> = {},
): Promise<{ listener: IngressListener; metrics: MeshMetrics; address: { host: string; port: number } }> {
  const metrics = options.metrics ?? new MeshMetrics();
  const listener = new IngressListener({
    name: "ingress",
    credentials: loadMeshCredentials(server),
    clientAuth: "required",
    resolveTarget: fixedTarget(app.address),
    metrics,
    ...options,
  });
  const address = await listener.listen({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => listener.close(100));
  return { listener, metrics, address };
}

async function echoApp(): Promise<App> {
  const app = await startApp(echoAtEnd);
  cleanups.push(() => app.close());
  return app;
}

const failures = (metrics: MeshMetrics, reason: string, listener = "ingress") =>
  sample(metrics.text(), "contrast_mesh_handshake_failures_total", { listener, reason });

const closedWith = (metrics: MeshMetrics, reason: string) =>
  sample(metrics.text(), "contrast_mesh_connections_closed_total", { listener: "ingress", reason });

/** A mesh peer with the client chain, connected to the listener; errors are the test's to observe. */
function meshClient(address: { host: string; port: number }): TLSSocket {
  const socket = tlsConnect({
    host: address.host,
    port: address.port,
    ca: ca.meshCaPem,
    cert: String(client.certChain),
    key: String(client.key),
    checkServerIdentity: () => undefined,
  });
  socket.on("error", () => {});
  return socket;
}

describe("ingress with a required client certificate", () => {
  it("forwards a mesh peer's bytes to the app and back, with half-close both ways", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app);
    const result = await tlsRoundTrip(address, { ca: ca.meshCaPem, client, message: "ping" });
    expect(result).toEqual({ secure: true, data: "echo:ping", error: undefined });
    expect(app.connections).toHaveLength(1);
    await eventually(async () => (await closedWith(metrics, "done")) === 1);
    const text = await metrics.text();
    expect(
      await sample(text, "contrast_mesh_bytes_total", { listener: "ingress", direction: "downstream_to_upstream" }),
    ).toBe(4);
    expect(
      await sample(text, "contrast_mesh_bytes_total", { listener: "ingress", direction: "upstream_to_downstream" }),
    ).toBe(9);
    expect(await sample(text, "contrast_mesh_connections_total", { listener: "ingress" })).toBe(1);
    expect(await sample(text, "contrast_mesh_connections_active", { listener: "ingress" })).toBe(0);
  });

  it("refuses a client without a certificate: nothing reaches the app", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app);
    const result = await tlsRoundTrip(address, { ca: ca.meshCaPem });
    expect(result.data).toBe("");
    expect(app.connections).toHaveLength(0);
    expect(await failures(metrics, "no_client_cert")).toBe(1);
  });

  it("refuses a certificate from another mesh CA (unknown_ca)", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app);
    const result = await tlsRoundTrip(address, { ca: ca.meshCaPem, client: otherCa.issue() });
    expect(result.data).toBe("");
    expect(app.connections).toHaveLength(0);
    expect(await failures(metrics, "unknown_ca")).toBe(1);
  });

  it("refuses an expired certificate of the right mesh CA (cert_expired)", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app);
    const expired = ca.issue({ notAfter: new Date(Date.now() - 3_600_000) });
    const result = await tlsRoundTrip(address, { ca: ca.meshCaPem, client: expired });
    expect(result.data).toBe("");
    expect(app.connections).toHaveLength(0);
    expect(await failures(metrics, "cert_expired")).toBe(1);
  });

  it("refuses plaintext (protocol) and never forwards it", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app);
    const result = await plainRoundTrip(address, "GET / HTTP/1.1\r\n\r\n");
    expect(result.data).toBe("");
    expect(app.connections).toHaveLength(0);
    await eventually(async () => (await failures(metrics, "protocol")) === 1);
  });

  it("closes the client cleanly when the app is down, counting the failed connect", async () => {
    const app = await startApp(() => {});
    const address = app.address;
    await app.close();
    const { address: proxy, metrics } = await setUp({ ...app, address });
    const result = await tlsRoundTrip(proxy, { ca: ca.meshCaPem, client });
    expect(result.secure).toBe(true);
    expect(result.data).toBe("");
    expect(await sample(metrics.text(), "contrast_mesh_upstream_connect_failures_total", { listener: "ingress" })).toBe(
      1,
    );
  });

  it("refuses a connection whose target cannot be resolved, before any handshake", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app, { resolveTarget: () => new Error("not redirected") });
    const result = await tlsRoundTrip(address, { ca: ca.meshCaPem, client });
    expect(result.secure).toBe(false);
    expect(app.connections).toHaveLength(0);
    expect(await sample(metrics.text(), "contrast_mesh_target_refused_total", { listener: "ingress" })).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(await total(metrics.text(), "contrast_mesh_handshake_failures_total")).toBe(0);
    expect(await total(metrics.text(), "contrast_mesh_connections_active")).toBe(0);
  });
});

describe("gauges", () => {
  it("connections_active and handshakes_active return to zero after every kind of connection", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app, { timeouts: { handshakeMs: 150 } });
    await Promise.all([
      tlsRoundTrip(address, { ca: ca.meshCaPem, client }),
      tlsRoundTrip(address, { ca: ca.meshCaPem }),
      tlsRoundTrip(address, { ca: ca.meshCaPem, client: otherCa.issue() }),
      plainRoundTrip(address, "GET / HTTP/1.0\r\n\r\n"),
      (async () => {
        const silent = connect(address.port, address.host);
        silent.on("error", () => {});
        await closed(silent);
      })(),
      (async () => {
        const rude = connect(address.port, address.host, () => rude.destroy());
        rude.on("error", () => {});
        await closed(rude);
      })(),
    ]);
    await eventually(async () => (await total(metrics.text(), "contrast_mesh_connections_active")) === 0);
    expect(await total(metrics.text(), "contrast_mesh_handshakes_active")).toBe(0);
    expect(await total(metrics.text(), "contrast_mesh_connections_total")).toBe(6);
  });
});

describe("ingress without client auth", () => {
  it("serves a client without a certificate", async () => {
    const app = await echoApp();
    const { address } = await setUp(app, { clientAuth: "none", name: "ingressWithoutClientAuth" });
    expect(await tlsRoundTrip(address, { ca: ca.meshCaPem, message: "anon" })).toEqual({
      secure: true,
      data: "echo:anon",
      error: undefined,
    });
  });
});

describe("limits and timeouts", () => {
  it("closes connections beyond the handshake cap at once and counts them", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app, { handshakes: new HandshakeLimiter(2) });
    // Two raw connections that never speak hold both handshake slots.
    const holders = [connect(address.port, address.host), connect(address.port, address.host)];
    for (const h of holders) h.on("error", () => {});
    await eventually(
      async () => (await sample(metrics.text(), "contrast_mesh_handshakes_active", { listener: "ingress" })) === 2,
    );
    const refused = await tlsRoundTrip(address, { ca: ca.meshCaPem, client });
    expect(refused.secure).toBe(false);
    expect(await failures(metrics, "handshake_limit")).toBe(1);
    // Counted once, under its reason only.
    await new Promise((r) => setTimeout(r, 100));
    expect(await total(metrics.text(), "contrast_mesh_handshake_failures_total")).toBe(1);
    for (const h of holders) h.destroy();
    await eventually(
      async () => (await sample(metrics.text(), "contrast_mesh_handshakes_active", { listener: "ingress" })) === 0,
    );
    await eventually(async () => (await total(metrics.text(), "contrast_mesh_connections_active")) === 0);
    expect((await tlsRoundTrip(address, { ca: ca.meshCaPem, client })).data).toBe("echo:hello");
  });

  it("closes a connection that does not finish its handshake in time (timeout)", async () => {
    const app = await echoApp();
    const { address, metrics } = await setUp(app, { timeouts: { handshakeMs: 150 } });
    const silent = connect(address.port, address.host);
    silent.on("error", () => {});
    await closed(silent);
    expect(await failures(metrics, "timeout")).toBe(1);
  });

  it("closes a connection idle in both directions (idle_timeout)", async () => {
    const app = await startApp(() => {});
    cleanups.push(() => app.close());
    const { address, metrics } = await setUp(app, { timeouts: { idleMs: 200 } });
    const socket = meshClient(address);
    await closed(socket);
    await eventually(async () => (await closedWith(metrics, "idle_timeout")) === 1);
    expect(app.connections).toHaveLength(1);
  });

  it("closes a connection whose other direction does not end after one did (half_open_timeout)", async () => {
    // The app reads but never ends its side.
    const app = await startApp((s) => s.resume());
    cleanups.push(() => app.close());
    const { address, metrics } = await setUp(app, { timeouts: { halfOpenMs: 200 } });
    const result = await tlsRoundTrip(address, { ca: ca.meshCaPem, client });
    expect(result.secure).toBe(true);
    await eventually(async () => (await closedWith(metrics, "half_open_timeout")) === 1);
  });
});

describe("credential rotation", () => {
  it("updateCredentials: new connections get the new chain, an open one keeps flowing", async () => {
    const app = await startApp((s) => {
      s.on("data", (d: Buffer) => s.write(`echo:${d}`));
      s.on("end", () => s.end());
    });
    cleanups.push(() => app.close());
    const { listener, address } = await setUp(app);
    const open = meshClient(address);
    await new Promise((r) => open.once("secureConnect", r));
    expect(open.getPeerX509Certificate()?.subject).toBe("CN=server");
    listener.updateCredentials(loadMeshCredentials(ca.issue({ commonName: "rotated" })));
    const fresh = meshClient(address);
    await new Promise((r) => fresh.once("secureConnect", r));
    expect(fresh.getPeerX509Certificate()?.subject).toBe("CN=rotated");
    fresh.destroy();
    open.write("still here");
    const reply = await new Promise<string>((r) => open.once("data", (d: Buffer) => r(d.toString())));
    expect(reply).toBe("echo:still here");
    open.destroy();
  });
});
