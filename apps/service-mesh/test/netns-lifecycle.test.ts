// The proxy's start and restart in a pod, with real iptables: it fails closed (a proxy that cannot
// start leaves the default-deny rule and writes no /ready), and a sidecar that dies and is started
// again (Kubernetes restarts native sidecars) finds its rules in place, and while it is down no
// protected port is reachable in plaintext.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execIn, netnsAvailable } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import {
  hasDefaultDeny,
  IPV6,
  installDefaultDeny,
  meshCa,
  meshClient,
  type Pod,
  startAgent,
  startApp,
  startProxy,
  twoPods,
  writeWorkloadCredentials,
} from "./netns/pods.js";

const available = netnsAvailable();
const natRules = async (pod: Pod, bin: "iptables" | "ip6tables" = "iptables") =>
  (await execIn(pod.ns, [bin, "-w", "-t", "nat", "-S"])).stdout;

describe.skipIf(!available.ok)(
  `the proxy's start and restart in a pod${available.ok ? "" : ` (skipped: ${available.reason})`}`,
  { timeout: 60_000 },
  () => {
    it("fails closed: a bad configuration, no credentials or no addon leave the default-deny and no /ready", async () => {
      const { client, server } = twoPods();
      await installDefaultDeny(server);
      const creds = await writeWorkloadCredentials(meshCa(), join(server.dir, "contrast"), ["web"]);
      const app = await startApp(server, [9090]);
      const agent = await startAgent(client);
      const cases = [
        {
          what: "a grammar error in CONTRAST_INGRESS_PROXY_CONFIG",
          options: { tlsDir: creds.tlsDir, ingress: "metrics#9090#true##web#http#false" },
          exit: 2,
          code: "PROXY_CONFIG_INVALID",
        },
        {
          what: "no credentials",
          options: { tlsDir: join(server.dir, "missing"), ingress: "metrics#9090#true" },
          exit: undefined,
          code: undefined,
        },
        {
          what: "no SO_ORIGINAL_DST addon",
          options: {
            tlsDir: creds.tlsDir,
            ingress: "metrics#9090#true",
            args: ["--addon", join(server.dir, "nowhere", "original_dst.node")],
          },
          exit: 1,
          code: "NETFILTER_ADDON_UNAVAILABLE",
        },
      ];
      for (const c of cases) {
        const proxy = startProxy(server, c.options);
        const exit = await proxy.exited;
        if (c.exit !== undefined) expect(exit, c.what).toBe(c.exit);
        else expect([1, 2], c.what).toContain(exit);
        const failure = proxy.lines.find((l) => l.msg === "cannot start" || l.level === "ERROR");
        expect(failure, `${c.what}:\n${proxy.dump()}`).toBeDefined();
        const error = (failure?.error ?? {}) as { code?: string; hint?: string };
        if (c.code !== undefined) expect(error.code, c.what).toBe(c.code);
        else expect(error.code, c.what).toMatch(/^[A-Z][A-Z0-9_]+$/);
        expect(error.hint, c.what).toBeTruthy();
        expect(existsSync(proxy.readyFile), c.what).toBe(false);
        expect(await hasDefaultDeny(server), c.what).toBe(true);
        if (IPV6) expect(await hasDefaultDeny(server, "ip6tables"), c.what).toBe(true);
        expect(await natRules(server), c.what).not.toContain("CONTRAST_INBOUND");
      }
      // And so the pod stays closed, even on its passthrough port.
      const r = await agent.exchange(server.ipv4, 9090, "anyone?", undefined, 1500);
      expect(r).toMatchObject({ connected: false, error: "TIMEOUT" });
      expect(app.accepts()).toEqual([]);
    });

    it("a sidecar killed and started again: plaintext stays refused while it is down; the same rules after; it serves again", async () => {
      const { client, server } = twoPods();
      await installDefaultDeny(server);
      const ca = meshCa();
      const serverCreds = await writeWorkloadCredentials(ca, join(server.dir, "contrast"), ["web"]);
      const clientCreds = await writeWorkloadCredentials(ca, join(client.dir, "contrast"), ["client"]);
      const app = await startApp(server, [8080, 9090]);
      const agent = await startAgent(client);
      const ingress = "metrics#9090#true";
      // Upstream starts its sidecar with Envoy's `-l debug`: accepted.
      // The admin port is not excluded from TLS here: from outside the pod it is redirected like
      // any other (reference §2.2.2: to reach it, list it as passthrough).
      const first = startProxy(server, { tlsDir: serverCreds.tlsDir, ingress, adminPort: 9901, args: ["-l", "debug"] });
      await first.ready();
      const metrics = await agent.exchange(
        server.ipv4,
        9901,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      expect(metrics.data).toBe("");
      const rules4 = await natRules(server);
      const rules6 = IPV6 ? await natRules(server, "ip6tables") : "";
      expect((await agent.exchange(server.ipv4, 8080, "one", meshClient(clientCreds))).data).toBe("8080|one");

      first.child.kill("SIGKILL");
      await first.exited;
      // Down: the redirect still holds, so plaintext lands on a closed proxy port (refused), not on the app.
      const before = app.accepts(8080).length;
      const plain = await agent.exchange(server.ipv4, 8080, "while down");
      expect(plain).toMatchObject({ connected: false, data: "", error: "ECONNREFUSED" });
      if (IPV6) {
        const plain6 = await agent.exchange(server.ipv6, 8080, "while down");
        expect(plain6).toMatchObject({ connected: false, data: "", error: "ECONNREFUSED" });
      }
      expect(app.accepts(8080).length).toBe(before);
      expect((await agent.exchange(server.ipv4, 9090, "pass")).data).toBe("9090|pass");

      const second = startProxy(server, { tlsDir: serverCreds.tlsDir, ingress });
      await second.ready();
      expect(await natRules(server)).toBe(rules4);
      if (IPV6) expect(await natRules(server, "ip6tables")).toBe(rules6);
      expect((await agent.exchange(server.ipv4, 8080, "two", meshClient(clientCreds))).data).toBe("8080|two");
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    });
  },
);
