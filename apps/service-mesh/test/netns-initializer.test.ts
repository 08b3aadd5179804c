// The whole pod start-up chain with real processes and real networking: a Coordinator (sim) in the
// root namespace; in each pod (a network namespace with the default-deny rule installed) the
// initializer attests and writes the credentials, then the proxy starts on exactly those files;
// the client pod's app then reaches the server pod's app through egress -> ingress (mTLS).
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { netnsAvailable, scratchDir } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  linkToRoot,
  policy,
  type RunningCoordinator,
  startCoordinator,
  startCoordinatorIn,
  startInitializer,
} from "./netns/coordinator.js";
import {
  hasDefaultDeny,
  IPV6,
  installDefaultDeny,
  type Pod,
  startAgent,
  startApp,
  startProxy,
  twoPods,
  type WorkloadCredentials,
} from "./netns/pods.js";

const available = netnsAvailable();
let coordinator: RunningCoordinator;
let simDir: string;
const web = policy("web");
const shop = policy("shop");
const plain = policy("plain");
let manifestSet = false;
const setManifest = async () => {
  if (manifestSet) return;
  await coordinator.setManifest([
    { ...web, sans: ["web", "*"] },
    { ...shop, sans: ["shop", "*"] },
    { ...plain, sans: ["plain"] },
  ]);
  manifestSet = true;
};

const mode = (path: string) => statSync(path).mode & 0o777;
const credentialsUnder = (root: string): WorkloadCredentials => {
  const tlsDir = join(root, "tls-config");
  return {
    tlsDir,
    meshCa: join(tlsDir, "mesh-ca.pem"),
    certChain: join(tlsDir, "certChain.pem"),
    key: join(tlsDir, "key.pem"),
  };
};

const initializer = (pod: Pod, host: string, hash: string, root: string, env?: Record<string, string>) =>
  startInitializer(pod, {
    coordinatorHost: host,
    meshApiPort: coordinator.meshApiPort,
    simDir,
    policyHash: hash,
    root,
    ...(env === undefined ? {} : { env }),
  });

describe.skipIf(!available.ok)(
  `initializer -> proxy in network namespaces, against a real Coordinator${available.ok ? "" : ` (skipped: ${available.reason})`}`,
  { timeout: 120_000 },
  () => {
    // Made while collecting, so that its removal is registered for after the file.
    const tmp = scratchDir("netns-initializer-");
    beforeAll(async () => {
      simDir = join(tmp, "sim");
      coordinator = await startCoordinator(join(tmp, "state"), simDir);
    }, 90_000);
    afterAll(() => {
      coordinator?.child.kill("SIGKILL");
    });

    it("the initializers retry until the manifest is set and write the files; the proxies then carry mTLS on them", async () => {
      const { client, server } = twoPods();
      await installDefaultDeny(client);
      await installDefaultDeny(server);
      const serverSide = linkToRoot(server, "10.17.0.1/30", "10.17.0.2/30");
      const clientSide = linkToRoot(client, "10.17.0.5/30", "10.17.0.6/30");
      const serverRoot = join(server.dir, "contrast");
      const clientRoot = join(client.dir, "contrast");
      const serverInit = initializer(server, serverSide, web.hash, serverRoot);
      const clientInit = initializer(client, clientSide, shop.hash, clientRoot);
      // Under the default-deny rule a pod still connects out (the answers are ESTABLISHED): the
      // Coordinator answers that it has no manifest yet, and each initializer keeps retrying.
      for (const p of [serverInit, clientInit]) {
        await p.waitFor((l) => l.reason === "not-ready" && (l.attempt as number) >= 2, "a second not-ready retry");
      }
      await setManifest();
      expect(await serverInit.exited).toBe(0);
      expect(await clientInit.exited).toBe(0);
      // The initializer does not touch the firewall when a service mesh runs in the pod.
      expect(await hasDefaultDeny(server)).toBe(true);

      const serverCreds = credentialsUnder(serverRoot);
      const clientCreds = credentialsUnder(clientRoot);
      expect(mode(serverCreds.key)).toBe(0o400);
      expect(mode(serverCreds.certChain)).toBe(0o444);
      const leaf = new X509Certificate(readFileSync(serverCreds.certChain));
      expect(leaf.subjectAltName).toContain("DNS:web");
      expect(leaf.checkIssued(new X509Certificate(readFileSync(serverCreds.meshCa)))).toBe(true);

      const app = await startApp(server, [8080]);
      const agent = await startAgent(client);
      const serverProxy = startProxy(server, { tlsDir: serverCreds.tlsDir });
      const clientProxy = startProxy(client, {
        tlsDir: clientCreds.tlsDir,
        egress: `web#127.137.0.1:8081#${server.ipv4}:8080`,
      });
      await serverProxy.ready();
      await clientProxy.ready();
      expect(await hasDefaultDeny(server)).toBe(false);

      const r = await agent.exchange("127.137.0.1", 8081, "order #1");
      expect(r).toMatchObject({ connected: true, data: "8080|order #1", closed: "end" });
      expect(app.accepts(8080)).toEqual([{ port: 8080, remoteAddress: server.ipv4, localAddress: server.ipv4 }]);
      // Plaintext from the other pod still does not get through.
      const plain = await agent.exchange(server.ipv4, 8080, "plain");
      expect(plain.data).toBe("");
      expect(app.accepts(8080).length).toBe(1);
    });

    it("with CONTRAST_SERVICE_MESH_DISABLED (no sidecar) the initializer lifts the default-deny itself: the app is reachable", async () => {
      await setManifest();
      const { client, server } = twoPods();
      await installDefaultDeny(server);
      const serverSide = linkToRoot(server, "10.17.0.9/30", "10.17.0.10/30");
      const app = await startApp(server, [8080]);
      const agent = await startAgent(client);
      const before = await agent.exchange(server.ipv4, 8080, "early", undefined, 1500);
      expect(before).toMatchObject({ connected: false, error: "TIMEOUT" });
      expect(app.accepts()).toEqual([]);

      const root = join(server.dir, "contrast");
      const init = initializer(server, serverSide, plain.hash, root, { CONTRAST_SERVICE_MESH_DISABLED: "1" });
      expect(await init.exited).toBe(0);
      expect(await hasDefaultDeny(server, "iptables")).toBe(false);
      if (IPV6) expect(await hasDefaultDeny(server, "ip6tables")).toBe(false);
      expect(mode(credentialsUnder(root).key)).toBe(0o400);
      // No proxy: nothing is redirected, the app answers in plaintext on IPv4 and IPv6.
      const r4 = await agent.exchange(server.ipv4, 8080, "v4");
      expect(r4.data).toBe("8080|v4");
      if (IPV6) {
        const r6 = await agent.exchange(server.ipv6, 8080, "v6");
        expect(r6.data).toBe("8080|v6");
      }
      expect(app.accepts().map((a) => a.remoteAddress)).toEqual(IPV6 ? [client.ipv4, client.ipv6] : [client.ipv4]);
    });

    it("the Coordinator's own pod: with --default-deny keep nothing reaches it; with remove the initializer of another pod does", async () => {
      const { client: coordinatorPod, server: workloadPod } = twoPods();
      await installDefaultDeny(coordinatorPod);
      await installDefaultDeny(workloadPod);
      const state = join(coordinatorPod.dir, "state");
      const sim = join(coordinatorPod.dir, "sim");
      const kept = await startCoordinatorIn(coordinatorPod, state, sim, ["--default-deny", "keep"]);
      expect(await hasDefaultDeny(coordinatorPod)).toBe(true);
      const init = startInitializer(workloadPod, {
        coordinatorHost: coordinatorPod.ipv4,
        meshApiPort: 7777,
        simDir: sim,
        policyHash: web.hash,
        root: join(workloadPod.dir, "contrast"),
        // A dropped SYN never answers: each attempt ends at its deadline.
        args: ["--call-timeout", "1"],
      });
      await init.waitFor((l) => l.reason === "unreachable", "an unreachable retry");
      kept.child.kill("SIGTERM");
      await kept.exited;

      // The same Coordinator (same state) started again, lifting the rule once it listens: the
      // initializer, still retrying, now reaches it and is told there is no manifest yet.
      const lifting = await startCoordinatorIn(coordinatorPod, state, sim, ["--default-deny", "remove"]);
      await lifting.waitFor((l) => l.msg === "default-deny rule removed", '"default-deny rule removed"');
      expect(await hasDefaultDeny(coordinatorPod)).toBe(false);
      await init.waitFor((l) => l.reason === "not-ready", "a not-ready retry");
      expect(init.child.exitCode).toBeNull();
    });
  },
);
