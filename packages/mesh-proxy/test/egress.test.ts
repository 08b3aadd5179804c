import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EgressListener, fixedTarget, IngressListener, loadMeshCredentials, MeshMetrics } from "../src/index.js";
import { type App, closed, echoAtEnd, eventually, plainRoundTrip, sample, startApp } from "./helpers.js";
import { TestMeshCa } from "./mesh-ca.js";

const ca = new TestMeshCa();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function app(handler: (s: Socket) => void = echoAtEnd): Promise<App> {
  const a = await startApp(handler);
  cleanups.push(() => a.close());
  return a;
}

/** client pod's egress → server pod's mTLS ingress → app, all on loopback. */
async function mesh(
  target: App,
  clientCredentials = ca.issue({ commonName: "client" }),
  serverCa = ca,
): Promise<{
  egress: EgressListener;
  ingress: IngressListener;
  metrics: MeshMetrics;
  address: { host: string; port: number };
}> {
  const metrics = new MeshMetrics();
  const ingress = new IngressListener({
    name: "ingress",
    credentials: loadMeshCredentials(serverCa.issue({ commonName: "server" })),
    clientAuth: "required",
    resolveTarget: fixedTarget(target.address),
    metrics,
  });
  const remote = await ingress.listen({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => ingress.close(100));
  const egress = new EgressListener({
    name: "backend",
    credentials: loadMeshCredentials(clientCredentials),
    remote,
    metrics,
  });
  const address = await egress.listen({ host: "127.0.0.2", port: 0 });
  cleanups.push(() => egress.close(100));
  return { egress, ingress, metrics, address };
}

describe("egress", () => {
  it("carries the app's plaintext over mTLS to the peer's ingress and back", async () => {
    const target = await app();
    const { address, metrics } = await mesh(target);
    expect(await plainRoundTrip(address, "over the mesh")).toEqual({ data: "echo:over the mesh" });
    expect(target.connections).toHaveLength(1);
    await eventually(
      async () =>
        (await sample(metrics.text(), "contrast_mesh_connections_closed_total", {
          listener: "backend",
          reason: "done",
        })) === 1,
    );
    expect(
      await sample(metrics.text(), "contrast_mesh_bytes_total", {
        listener: "backend",
        direction: "downstream_to_upstream",
      }),
    ).toBe(13);
  });

  it("refuses a server whose certificate is from another mesh CA, before reading the app's bytes", async () => {
    const target = await app();
    const { address, metrics } = await mesh(target, ca.issue(), new TestMeshCa());
    const result = await plainRoundTrip(address, "secret");
    expect(result.data).toBe("");
    expect(target.connections).toHaveLength(0);
    expect(
      await sample(metrics.text(), "contrast_mesh_handshake_failures_total", {
        listener: "backend",
        reason: "unknown_ca",
      }),
    ).toBe(1);
  });

  it("counts an unreachable remote as an upstream connect failure", async () => {
    const metrics = new MeshMetrics();
    const gone = await app();
    const remote = gone.address;
    await gone.close();
    const egress = new EgressListener({ name: "gone", credentials: loadMeshCredentials(ca.issue()), remote, metrics });
    const address = await egress.listen({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => egress.close(100));
    expect((await plainRoundTrip(address, "x")).data).toBe("");
    expect(await sample(metrics.text(), "contrast_mesh_upstream_connect_failures_total", { listener: "gone" })).toBe(1);
  });
});

describe("backpressure", () => {
  it("a client that does not read stops the proxy reading from the app: the app's writes stall", async () => {
    const total = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    let stalled = false;
    const target = await app((s) => {
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!s.write(chunk)) {
            stalled = true;
            s.once("drain", pump);
            return;
          }
        }
        s.end();
      };
      pump();
    });
    const { address } = await mesh(target);
    const client = connect(address.port, address.host);
    client.on("error", () => {});
    client.pause();
    await eventually(() => stalled);
    // Let every buffer on the way fill up, then check the app is held back far below what it wants to send.
    let before = -1;
    await eventually(async () => {
      const now = written;
      const settled = now === before;
      before = now;
      await new Promise((r) => setTimeout(r, 100));
      return settled;
    }, 10_000);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    // Reading resumes the flow: the client receives everything.
    let received = 0;
    client.on("data", (d: Buffer) => {
      received += d.length;
    });
    client.resume();
    await closed(client);
    expect(received).toBe(total);
  }, 60_000);
});

describe("drain", () => {
  it("stops accepting, lets an open connection finish, and resolves when it closed", async () => {
    const target = await app((s) => {
      s.resume();
      s.on("end", () => s.end());
    });
    const { ingress, address } = await mesh(target);
    const client = connect(address.port, address.host);
    client.on("error", () => {});
    await eventually(() => target.connections.length === 1);
    let drained = false;
    const closing = ingress.close(10_000).then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(drained).toBe(false);
    expect(ingress.openConnections).toBe(1);
    await expect(plainRoundTrip(address, "late")).resolves.toMatchObject({ data: "" });
    expect(target.connections).toHaveLength(1);
    client.destroy();
    await closing;
    expect(drained).toBe(true);
  });

  it("destroys what is still open at the deadline and counts it as drain", async () => {
    const target = await app((s) => s.resume());
    const { ingress, address, metrics } = await mesh(target);
    const client = connect(address.port, address.host);
    client.on("error", () => {});
    await eventually(() => target.connections.length === 1);
    await ingress.close(150);
    await closed(client);
    await eventually(
      async () =>
        (await sample(metrics.text(), "contrast_mesh_connections_closed_total", {
          listener: "ingress",
          reason: "drain",
        })) === 1,
    );
  });
});
