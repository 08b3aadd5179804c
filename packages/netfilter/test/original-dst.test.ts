import { existsSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectCode, scratchDir } from "@contrast/testkit";
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { originalDestination, originalDestinationAvailable, redirectTarget } from "../src/index.js";

// The addon outside a namespace: loading, and the errors it reports for sockets it cannot answer
// for. What it answers for redirected connections is in netns.test.ts.

const ADDON = fileURLToPath(new URL("../dist/original_dst.node", import.meta.url));
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An accepted server-side socket for a fresh connection to `listen` (a port or a UNIX path). */
async function accepted(listen: { port: number; host: string } | { path: string }): Promise<Socket> {
  return new Promise((resolve) => {
    const server = createServer((socket) => resolve(socket));
    servers.push(server);
    server.listen(listen, () => {
      const address = server.address();
      const client =
        typeof address === "string" || address === null ? connect(address ?? "") : connect(address.port, "127.0.0.1");
      client.on("error", () => {});
      server.once("close", () => client.destroy());
    });
  });
}

describe("originalDestination (addon)", () => {
  beforeAll(() => {
    if (!existsSync(ADDON)) throw new Error(`${ADDON} is missing: run pnpm --filter @contrast/netfilter build`);
  });

  it("loads from the given path; a missing or foreign file is NETFILTER_ADDON_UNAVAILABLE", () => {
    expect(originalDestinationAvailable({ addonPath: ADDON })).toEqual({ ok: true });
    const dir = scratchDir();
    const notAnAddon = join(dir, "original_dst.node");
    writeFileSync(notAnAddon, "not a shared object");
    for (const addonPath of [join(dir, "missing.node"), notAnAddon]) {
      const check = originalDestinationAvailable({ addonPath });
      expect(check.ok).toBe(false);
      expect(check.ok ? undefined : check.error.code).toBe("NETFILTER_ADDON_UNAVAILABLE");
    }
  });

  it("a UNIX socket and a closed socket are NETFILTER_ORIGINAL_DST_FAILED", async () => {
    const unix = await accepted({ path: join(scratchDir(), "s.sock") });
    expectCode(() => originalDestination(unix, { addonPath: ADDON }), "NETFILTER_ORIGINAL_DST_FAILED");
    const tcp = await accepted({ port: 0, host: "127.0.0.1" });
    tcp.destroy();
    expectCode(() => originalDestination(tcp, { addonPath: ADDON }), "NETFILTER_ORIGINAL_DST_FAILED");
  });

  it("an accepted TCP socket answers with its destination or NETFILTER_NOT_REDIRECTED, never anything else", async () => {
    // Outside a namespace of our own, whether loopback is tracked depends on the host's rules.
    const socket = await accepted({ port: 0, host: "127.0.0.1" });
    onTestFinished(() => {
      socket.destroy();
    });
    let outcome: unknown;
    try {
      outcome = originalDestination(socket, { addonPath: ADDON });
    } catch (error) {
      outcome = (error as { code?: string }).code;
    }
    if (outcome === "NETFILTER_NOT_REDIRECTED") return;
    expect(outcome).toEqual({ family: 4, address: "127.0.0.1", port: socket.localPort });
    expectCode(
      () => redirectTarget(socket, { addonPath: ADDON, ownPorts: [socket.localPort ?? 0] }),
      "NETFILTER_PROXY_LOOP",
    );
  });
});
