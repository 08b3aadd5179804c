import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { connectNetns, createNetns, execIn, execInSync, netnsAvailable, spawnIn } from "../src/index.js";

const available = netnsAvailable();

// A server that answers each connection with the peer's address, and a client that prints it.
const ECHO_SERVER = `require("node:net").createServer((s) => s.end("from " + s.remoteAddress.replace(/^::ffff:/, ""))).listen(7070, "::", () => console.log("up"));`;
const CLIENT = `const s = require("node:net").connect(7070, process.argv[1]); s.pipe(process.stdout); s.on("error", (e) => { console.error(e.message); process.exit(1); });`;

describe("netns", () => {
  it.skipIf(!available.ok)(
    `two namespaces joined by veth reach each other over IPv4 and IPv6 (${available.ok ? "root" : available.reason})`,
    async () => {
      const a = createNetns("a");
      const b = createNetns("b");
      connectNetns(
        { ns: a, ipv4: "10.231.0.1/24", ipv6: "fd00:231::1/64" },
        { ns: b, ipv4: "10.231.0.2/24", ipv6: "fd00:231::2/64" },
      );
      expect(execInSync(a, ["ip", "-br", "addr", "show", "veth0"])).toContain("10.231.0.1/24");
      const server = spawnIn(b, [process.execPath, "-e", ECHO_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise((resolve) => server.stdout?.once("data", resolve));
      for (const [server, client] of [
        ["10.231.0.2", "10.231.0.1"],
        ["fd00:231::2", "fd00:231::1"],
      ]) {
        expect((await execIn(a, [process.execPath, "-e", CLIENT, server as string])).stdout).toBe(`from ${client}`);
      }
      // Isolation: nothing listens on that port in the client's own namespace.
      const refused = await execIn(a, [process.execPath, "-e", CLIENT, "127.0.0.1"], { allowFailure: true });
      expect(refused.code).not.toBe(0);
    },
  );

  it.skipIf(!available.ok)("delete kills the processes started in it and removes the namespace", async () => {
    const ns = createNetns("del");
    const child = spawnIn(ns, ["sleep", "60"], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    expect(existsSync(`/run/netns/${ns.name}`)).toBe(true);
    ns.delete();
    expect(await exited).toBe("SIGKILL");
    expect(existsSync(`/run/netns/${ns.name}`)).toBe(false);
    ns.delete();
  });

  it.skipIf(!available.ok)("execIn rejects on a non-zero exit unless allowFailure", async () => {
    const ns = createNetns();
    await expect(execIn(ns, ["false"])).rejects.toThrow(/exited 1/);
    expect(await execIn(ns, ["sh", "-c", "echo out; echo err >&2; exit 3"], { allowFailure: true })).toEqual({
      code: 3,
      stdout: "out\n",
      stderr: "err\n",
    });
    expect((await execIn(ns, ["cat"], { input: "piped" })).stdout).toBe("piped");
  });
});
