// The service mesh end to end with real networking: two "pods" (network namespaces joined by a
// veth pair, IPv4 and IPv6), each with the pod-VM image's default-deny rule, the real proxy
// process in pod mode (the built bundle, its own iptables rules and the SO_ORIGINAL_DST addon), a
// plain TCP app in the server pod that announces every connection it accepts, and a client agent
// in the client pod. Credentials come from a real mesh CA, written as the initializer writes them.
//
// The tests of this file share one pair of pods and run in order: the first one starts the server
// proxy (checking what holds before /ready), the last one stops it (SIGTERM drains).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { netnsAvailable } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Agent,
  type App,
  hasDefaultDeny,
  IPV6,
  installDefaultDeny,
  type MeshProxy,
  meshCa,
  meshClient,
  type Pod,
  ruleset,
  setHosts,
  startAgent,
  startApp,
  startProxy,
  twoPods,
  type WorkloadCredentials,
  writeWorkloadCredentials,
} from "./netns/pods.js";

const available = netnsAvailable();
const PROTECTED = 8080; // not listed: TLS with a required mesh client certificate (15006)
const TLS_ONLY = 8443; // web#8443#false: TLS without client auth (15007)
const PASSTHROUGH = 9090; // metrics#9090#true: plain, never redirected
const UNDECLARED = 5432; // an app port the annotation does not name: mTLS required, as every unlisted port
const ADMIN = 9901; // CONTRAST_ADMIN_PORT, reachable from outside only because it is passthrough too
const INGRESS = `web#${TLS_ONLY}#false##metrics#${PASSTHROUGH}#true##admin#${ADMIN}#true`;
const EGRESS_LISTEN = "127.137.0.1";
const EGRESS_BY_NAME = "127.137.0.2";
const EGRESS_PORT = 8081;

let client: Pod;
let server: Pod;
let app: App;
let agent: Agent;
let serverCreds: WorkloadCredentials;
let clientCreds: WorkloadCredentials;
let strangerCreds: WorkloadCredentials;
let serverProxy: MeshProxy | undefined;
let clientProxy: MeshProxy | undefined;

/** Runs `sh -c script` inside the client pod (for openssl s_client with a delayed stdin). */
function shInClient(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "ip",
      ["netns", "exec", client.ns.name, "sh", "-c", script],
      { timeout: 20_000, encoding: "utf8" },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
    );
  });
}

/** Whether the server's iptables hold the proxy's interception (the chains with their redirects). */
const intercepting = (saved: string) =>
  /-A PREROUTING .*-p tcp .*-j CONTRAST_INBOUND/.test(saved) &&
  /-A CONTRAST_INBOUND .*-j CONTRAST_IN_REDIRECT/.test(saved) &&
  /-A CONTRAST_IN_REDIRECT .*--dport 8443 .*REDIRECT --to-ports 15007/.test(saved) &&
  /-A CONTRAST_IN_REDIRECT .*REDIRECT --to-ports 15006/.test(saved);

async function startServerProxy(): Promise<MeshProxy> {
  serverProxy ??= startProxy(server, { tlsDir: serverCreds.tlsDir, ingress: INGRESS, adminPort: ADMIN });
  await serverProxy.ready();
  return serverProxy;
}

describe.skipIf(!available.ok)(
  `the proxy in pod mode between two network namespaces${available.ok ? "" : ` (skipped: ${available.reason})`}`,
  { timeout: 60_000 },
  () => {
    let dispose = () => {};
    afterAll(() => dispose());
    beforeAll(async () => {
      ({ client, server, dispose } = twoPods());
      // As the pod-VM image does, before anything of ours runs.
      await installDefaultDeny(client);
      await installDefaultDeny(server);
      const ca = meshCa();
      serverCreds = await writeWorkloadCredentials(ca, join(server.dir, "contrast"), ["web", "*"]);
      clientCreds = await writeWorkloadCredentials(ca, join(client.dir, "contrast"), ["client", "*"]);
      // A workload of another deployment: a valid mesh certificate, from another mesh CA.
      strangerCreds = await writeWorkloadCredentials(meshCa(), join(client.dir, "stranger"), ["web", "*"]);
      app = await startApp(server, [PROTECTED, TLS_ONLY, PASSTHROUGH, UNDECLARED]);
      // Egress remotes are usually a service's DNS name; the client pod resolves this one.
      setHosts(client, { "web-svc": server.ipv4 });
      agent = await startAgent(client);
    }, 60_000);

    it("before /ready the default-deny holds: nothing reaches the app; it is lifted only once the redirects are in place", async () => {
      // Dropped SYNs: neither a passthrough nor a protected port answers from the other pod.
      for (const port of [PASSTHROUGH, PROTECTED]) {
        const r = await agent.exchange(server.ipv4, port, "early", undefined, 1500);
        expect(r).toMatchObject({ connected: false, error: "TIMEOUT" });
      }
      expect(app.accepts()).toEqual([]);

      // Sample the server's rulesets (both families) while the proxy starts: every sample either
      // still has the default-deny rule or already has the whole interception.
      const samples: string[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push(await ruleset(server));
          if (IPV6) samples.push(await ruleset(server, "ip6tables-save"));
        }
      })();
      const proxy = startProxy(server, { tlsDir: serverCreds.tlsDir, ingress: INGRESS, adminPort: ADMIN });
      serverProxy = proxy;
      try {
        await proxy.ready();
      } finally {
        sampling = false;
        await sampler;
      }
      const denyRule = /-A INPUT -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP/;
      expect(samples.length).toBeGreaterThanOrEqual(1);
      expect(samples.filter((s) => !denyRule.test(s) && !intercepting(s))).toEqual([]);
      const after = await ruleset(server);
      expect(intercepting(after)).toBe(true);
      expect(await hasDefaultDeny(server, "iptables")).toBe(false);

      // Now the passthrough port answers in plaintext, and the app saw the client pod itself.
      const r = await agent.exchange(server.ipv4, PASSTHROUGH, "ping");
      expect(r).toMatchObject({ connected: true, data: `${PASSTHROUGH}|ping`, closed: "end" });
      expect(app.accepts(PASSTHROUGH).at(-1)?.remoteAddress).toBe(client.ipv4);
    });

    it("client pod -> egress listener -> server pod ingress (mTLS) -> server app: it works", async () => {
      await startServerProxy();
      clientProxy ??= startProxy(client, {
        tlsDir: clientCreds.tlsDir,
        egress: `web#${EGRESS_LISTEN}:${EGRESS_PORT}#${server.ipv4}:${PROTECTED}##websvc#${EGRESS_BY_NAME}:${EGRESS_PORT}#web-svc:${UNDECLARED}`,
      });
      await clientProxy.ready();
      const before = app.accepts(PROTECTED).length;
      const r = await agent.exchange(EGRESS_LISTEN, EGRESS_PORT, "hello through the mesh");
      expect(r).toMatchObject({ connected: true, secure: false, data: `${PROTECTED}|hello through the mesh` });
      const seen = app.accepts(PROTECTED).slice(before);
      // One connection, made by the server pod's proxy after terminating TLS, to the original
      // destination: the app sees its own pod's address, not the client pod's.
      expect(seen).toEqual([{ port: PROTECTED, remoteAddress: server.ipv4, localAddress: server.ipv4 }]);
      // A remote given by name, as annotations name a Kubernetes service.
      const byName = await agent.exchange(EGRESS_BY_NAME, EGRESS_PORT, "by name");
      expect(byName).toMatchObject({ connected: true, data: `${UNDECLARED}|by name` });
    });

    it("a client with a mesh certificate reaches the protected port directly and verifies the server against the mesh CA", async () => {
      await startServerProxy();
      const r = await agent.exchange(server.ipv4, PROTECTED, "direct", meshClient(clientCreds));
      expect(r).toMatchObject({ connected: true, secure: true, authorized: true, data: `${PROTECTED}|direct` });
      // Any port of the app, named in the annotation or not, is reached at its original destination.
      const other = await agent.exchange(server.ipv4, UNDECLARED, "other", meshClient(clientCreds));
      expect(other).toMatchObject({ authorized: true, data: `${UNDECLARED}|other` });
    });

    it("a client without a mesh certificate, or with one from another mesh CA: refused, and the app never sees it", async () => {
      await startServerProxy();
      const before = app.accepts().length;
      const noCert = await agent.exchange(server.ipv4, PROTECTED, "no cert", { ca: serverCreds.meshCa });
      expect(noCert.data).toBe("");
      expect(noCert.closed).not.toBe("timeout");
      const stranger = await agent.exchange(server.ipv4, PROTECTED, "stranger", {
        ca: serverCreds.meshCa,
        cert: strangerCreds.certChain,
        key: strangerCreds.key,
      });
      expect(stranger.data).toBe("");
      expect(stranger.closed).not.toBe("timeout");
      // The other way round: a client that trusts only the other mesh CA does not accept our server.
      const wrongTrust = await agent.exchange(server.ipv4, TLS_ONLY, "wrong trust", { ca: strangerCreds.meshCa });
      expect(wrongTrust).toMatchObject({ secure: false, data: "" });
      expect(wrongTrust.error).toMatch(/CERT|VERIFY|SIGNATURE|ISSUER/);
      expect(app.accepts().length).toBe(before);
    });

    it("plaintext to a protected port from the other pod: refused, and never reaches the app", async () => {
      await startServerProxy();
      const before = app.accepts().length;
      // The app's ports, and ports where nothing listens (redirected all the same), low and high.
      for (const port of [PROTECTED, TLS_ONLY, UNDECLARED, 7777, 22, 80, 443, 15000, 65535]) {
        const r = await agent.exchange(server.ipv4, port, "GET / HTTP/1.0\r\n\r\n");
        expect(r.data, `port ${port}`).toBe("");
        expect(r.closed, `port ${port}`).not.toBe("timeout");
      }
      expect(app.accepts().length).toBe(before);
    });

    it("a passthrough port is plain TCP, straight to the app", async () => {
      await startServerProxy();
      const r = await agent.exchange(server.ipv4, PASSTHROUGH, "metrics?");
      expect(r).toMatchObject({ connected: true, secure: false, data: `${PASSTHROUGH}|metrics?`, closed: "end" });
      expect(app.accepts(PASSTHROUGH).at(-1)).toEqual({
        port: PASSTHROUGH,
        remoteAddress: client.ipv4,
        localAddress: server.ipv4,
      });
    });

    it("openssl s_client -CAfile mesh-ca.pem -verify_return_error reaches the TLS-without-client-auth port", async () => {
      await startServerProxy();
      const before = app.accepts(TLS_ONLY).length;
      // stdin stays open a moment so that the app's answer arrives before s_client closes.
      const ok = await shInClient(
        `(printf 'hello openssl\\n'; sleep 1) | openssl s_client -connect ${server.ipv4}:${TLS_ONLY} -CAfile ${serverCreds.meshCa} -verify_return_error`,
      );
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain("Verify return code: 0 (ok)");
      expect(ok.stdout).toContain(`${TLS_ONLY}|hello openssl`);
      expect(app.accepts(TLS_ONLY).slice(before)).toEqual([
        { port: TLS_ONLY, remoteAddress: server.ipv4, localAddress: server.ipv4 },
      ]);
      // The same command trusting another mesh CA fails verification: the check above can fail.
      const refused = await shInClient(
        `(printf 'hello\\n'; sleep 1) | openssl s_client -connect ${server.ipv4}:${TLS_ONLY} -CAfile ${strangerCreds.meshCa} -verify_return_error`,
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).not.toContain("|hello");
    });

    it("a connection whose original destination is the proxy's own port is refused (no loop)", async () => {
      const proxy = await startServerProxy();
      const before = app.accepts().length;
      for (const port of [15006, 15007]) {
        const r = await agent.exchange(server.ipv4, port, "loop", meshClient(clientCreds));
        expect(r.data, `port ${port}`).toBe("");
        expect(r.closed, `port ${port}`).not.toBe("timeout");
      }
      expect(app.accepts().length).toBe(before);
      // Still serving.
      const ok = await agent.exchange(server.ipv4, PROTECTED, "after loop", meshClient(clientCreds));
      expect(ok.data).toBe(`${PROTECTED}|after loop`);
      expect(proxy.child.exitCode).toBeNull();
    });

    it("the admin port serves the metrics of what happened above: handshake failures by reason, refused loops", async () => {
      await startServerProxy();
      const r = await agent.exchange(
        server.ipv4,
        ADMIN,
        `GET /metrics HTTP/1.1\r\nHost: ${server.ipv4}\r\nConnection: close\r\n\r\n`,
      );
      expect(r.data).toMatch(/^HTTP\/1\.1 200/);
      // Sums a metric's samples over the lines whose labels include `label`.
      const total = (name: string, label = "") =>
        r.data
          .split("\n")
          .filter((l) => l.startsWith(`${name}{`) && l.includes(label))
          .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
      expect(total("contrast_mesh_handshake_failures_total", 'reason="no_client_cert"')).toBeGreaterThanOrEqual(1);
      expect(total("contrast_mesh_handshake_failures_total", 'reason="unknown_ca"')).toBeGreaterThanOrEqual(1);
      // Plaintext to redirected ports: not TLS.
      expect(total("contrast_mesh_handshake_failures_total", 'reason="protocol"')).toBeGreaterThanOrEqual(9);
      expect(total("contrast_mesh_target_refused_total")).toBeGreaterThanOrEqual(2);
      expect(total("contrast_mesh_connections_total")).toBeGreaterThanOrEqual(10);
      expect(total("contrast_mesh_bytes_total", 'direction="downstream_to_upstream"')).toBeGreaterThan(0);
      // Upstream's (Envoy's) path for the same.
      const envoyPath = await agent.exchange(
        server.ipv4,
        ADMIN,
        "GET /stats/prometheus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      expect(envoyPath.data).toMatch(/^HTTP\/1\.1 200[\s\S]*contrast_mesh_handshake_failures_total\{/);
      // The health endpoint answers too.
      const health = await agent.exchange(
        server.ipv4,
        ADMIN,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      expect(health.data).toMatch(/^HTTP\/1\.1 200/);
    });

    it.skipIf(!IPV6)(
      "IPv6 (skipped where the kernel has none): the same rules hold (mTLS works, plaintext refused, passthrough plain)",
      async () => {
        await startServerProxy();
        const saved6 = await ruleset(server, "ip6tables-save");
        expect(intercepting(saved6)).toBe(true);
        expect(await hasDefaultDeny(server, "ip6tables")).toBe(false);

        const mtls = await agent.exchange(server.ipv6, PROTECTED, "v6", meshClient(clientCreds));
        expect(mtls).toMatchObject({ connected: true, authorized: true, data: `${PROTECTED}|v6` });
        expect(app.accepts(PROTECTED).at(-1)).toMatchObject({ remoteAddress: server.ipv6, localAddress: server.ipv6 });

        const before = app.accepts().length;
        const plain = await agent.exchange(server.ipv6, PROTECTED, "plain v6");
        expect(plain.data).toBe("");
        expect(plain.closed).not.toBe("timeout");
        expect(app.accepts().length).toBe(before);

        const pass = await agent.exchange(server.ipv6, PASSTHROUGH, "pass v6");
        expect(pass.data).toBe(`${PASSTHROUGH}|pass v6`);
        expect(app.accepts(PASSTHROUGH).at(-1)?.remoteAddress).toBe(client.ipv6);
      },
    );

    it("SIGTERM drains: no new connections, the open one completes, then exit 0", async () => {
      const proxy = await startServerProxy();
      const held = await agent.open(server.ipv4, PROTECTED, "first", meshClient(clientCreds));
      expect(held).toMatchObject({ connected: true, data: `${PROTECTED}|first` });
      proxy.child.kill("SIGTERM");
      // Wait until it has stopped accepting: a new connection then gets no answer.
      let refused = false;
      for (let i = 0; i < 50 && !refused; i++) {
        const r = await agent.exchange(server.ipv4, PROTECTED, "late", meshClient(clientCreds), 2000);
        refused = r.data === "";
        if (!refused) await new Promise((res) => setTimeout(res, 100));
      }
      expect(refused).toBe(true);
      expect(proxy.child.exitCode).toBeNull();
      const rest = await held.finish("second");
      expect(rest).toMatchObject({ data: `${PROTECTED}|second`, closed: "end" });
      // Nothing else holds the drain: not even the handshakes that clients aborted above (a client
      // that did not trust the server) wait for the 10 s handshake timeout.
      const finished = Date.now();
      expect(await proxy.exited).toBe(0);
      expect(Date.now() - finished).toBeLessThan(5000);
    });
  },
);
