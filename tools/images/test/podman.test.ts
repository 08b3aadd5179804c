// The images as containers under podman (rootful, runc, host network), end to end on the sim
// platform: the Coordinator image starts, is not ready until `contrast set` (the built CLI on the
// host) gives it a manifest, then is; the initializer image gets a workload's credentials from it
// and writes them into a mounted /contrast; the service-mesh image loads its SO_ORIGINAL_DST addon
// and terminates mTLS with those credentials. The images are built here from the built apps (the
// same code `pnpm images` runs), so the test exercises what would be pushed.
import { X509Certificate } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import {
  freePort,
  LocalRegistry,
  openssl,
  Podman,
  type PodmanContainer,
  podmanAvailable,
  REPO_ROOT,
} from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImages, pushLayout } from "../src/index.mjs";
import { echoApp, probe, until, Workspace } from "./podman/deployment.js";

const IMAGES = ["coordinator", "initializer", "service-mesh"] as const;
type ImageName = (typeof IMAGES)[number];

const avail = podmanAvailable();
// Generous budgets: in the full suite the image build and the CLI's key generation share two cores
// with every other test file.
const title = `the images under podman (sim platform)${avail.ok ? "" : ` (skipped: ${avail.reason})`}`;

describe.skipIf(!avail.ok)(title, { timeout: 300_000 }, () => {
  // Made in beforeAll, not while collecting: a describe that is skipped or filtered out runs no
  // afterAll to remove it.
  let tmp: string;
  let layout: string;
  let stateDir: string;
  let simDir: string;
  let ws: Workspace;
  let podman: Podman;
  let digests: Record<string, { digest: string }>;
  const ids = {} as Record<ImageName, string>;
  let coordinator: PodmanContainer;
  const ports = { userApi: 0, meshApi: 0, probe: 0 };
  let hashes: Map<string, string>;
  const servers: Server[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "contrast-podman-e2e-"));
    layout = join(tmp, "images");
    stateDir = join(tmp, "state");
    simDir = join(tmp, "sim");
    ws = new Workspace(join(tmp, "workspace"));
    const doc = (await buildImages({ root: REPO_ROOT, out: layout, only: [...IMAGES] })) as {
      images: Record<string, { digest: string }>;
    };
    digests = doc.images;
    podman = Podman.create();
    for (const name of IMAGES) ids[name] = await podman.pullOci(layout, name);
    ports.userApi = await freePort();
    ports.meshApi = await freePort();
    ports.probe = await freePort();
    mkdirSync(stateDir);
    mkdirSync(simDir);
  }, 600_000);
  afterAll(async () => {
    for (const s of servers) s.close();
    await podman?.destroy();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  /** The Coordinator image on sim, its state and sim directories mounted, on the test's ports. */
  function startCoordinator(name: string): Promise<PodmanContainer> {
    return podman.start({
      image: ids.coordinator,
      name,
      mounts: [
        { source: stateDir, target: "/mnt/state" },
        { source: simDir, target: "/mnt/sim" },
      ],
      env: { CONTRAST_PLATFORM: "sim", CONTRAST_LOG_LEVEL: "info" },
      args: [
        "--state-dir",
        "/mnt/state",
        "--sim-dir",
        "/mnt/sim",
        "--host",
        "127.0.0.1",
        "--user-api-port",
        String(ports.userApi),
        "--mesh-api-port",
        String(ports.meshApi),
        "--probe-port",
        String(ports.probe),
      ],
    });
  }

  it("podman holds each image under the manifest digest images.json names", async () => {
    for (const name of IMAGES) {
      const r = await podman.exec(["image", "inspect", "--format", "{{.Digest}}", ids[name]]);
      expect(r.stdout.trim()).toBe(digests[name]?.digest);
    }
  });

  it("pushed by tools/images to a registry with Basic auth, podman pulls the same image and runs it", async () => {
    const registry = await LocalRegistry.start({ htpasswd: { user: "ci", password: "s3cret" } });
    try {
      const pushed = await pushLayout({
        layout,
        target: `${registry.host}/contrast`,
        tag: "podman-test",
        insecure: true,
        credentials: { username: "ci", password: "s3cret" },
        only: ["coordinator"],
      });
      expect(pushed.map((p) => p.digest)).toEqual([digests.coordinator?.digest]);
      // Without credentials the registry refuses podman; with them, by tag, it gets that manifest.
      const anonymous = await podman.exec(
        [
          "pull",
          "--tls-verify=false",
          "--signature-policy",
          podman.paths.policy,
          `${registry.host}/contrast/coordinator:podman-test`,
        ],
        { allowFailure: true },
      );
      expect(anonymous.code).not.toBe(0);
      const id = await podman.pullInsecure(`${registry.host}/contrast/coordinator:podman-test`, {
        user: "ci",
        password: "s3cret",
      });
      expect(id).toBe(ids.coordinator);
      const version = await podman.run({ image: id, args: ["--version"] });
      expect(version.code, version.stderr).toBe(0);
      const appVersion = JSON.parse(readFileSync(join(REPO_ROOT, "apps/coordinator/package.json"), "utf8"))
        .version as string;
      expect(version.stdout).toContain(appVersion);
    } finally {
      await registry.stop();
    }
  });

  it("the Coordinator image runs on sim; the readiness probe says not ready until contrast set, then ready", async () => {
    coordinator = await startCoordinator("coordinator");
    const listening = await coordinator.logs.waitFor((l) => l.msg === "coordinator listening", "listening", 90_000);
    expect(listening).toMatchObject({ userApiPort: ports.userApi, meshApiPort: ports.meshApi });
    // The simulated TEE's authority was made inside the container, in the mounted directory.
    expect(existsSync(join(simDir, "authority.json"))).toBe(true);

    expect(await probe(ports.probe, "/probe/startup")).toMatchObject({ status: 200 });
    expect(await probe(ports.probe, "/probe/liveness")).toMatchObject({ status: 200 });
    const before = await probe(ports.probe, "/probe/readiness");
    expect(before).toEqual({ status: 503, body: "no manifest set\n" });

    hashes = ws.generate(simDir);
    expect([...hashes.keys()].sort()).toEqual(["db", "web"]);
    const set = ws.contrast("set", "-c", `127.0.0.1:${ports.userApi}`, "app.yaml");
    expect(set.status, set.stdout + set.stderr).toBe(0);
    expect(set.stdout).toContain("Manifest set successfully");

    const after = await until(
      () => probe(ports.probe, "/probe/readiness"),
      (r) => r.status === 200,
    );
    expect(after).toEqual({ status: 200, body: "ok\n" });
    const metrics = await probe(ports.probe, "/metrics");
    expect(metrics.status).toBe(200);
    // The history is in the mounted state directory, written by the container.
    expect(readdirSync(stateDir).length).toBeGreaterThan(0);
  });

  /** Runs the initializer image for a workload as its pod would; resolves with the mounted /contrast. */
  async function initializer(workload: string, run = workload): Promise<{ root: string; container: PodmanContainer }> {
    const root = join(tmp, `contrast-${run}`);
    mkdirSync(root);
    const container = await podman.start({
      image: ids.initializer,
      name: `initializer-${run}`,
      mounts: [
        { source: root, target: "/contrast" },
        { source: simDir, target: "/mnt/sim", readonly: true },
      ],
      env: {
        COORDINATOR_HOST: "127.0.0.1",
        CONTRAST_MESH_API_PORT: String(ports.meshApi),
        CONTRAST_PLATFORM: "sim",
        CONTRAST_SIM_DIR: "/mnt/sim",
        CONTRAST_SIM_POLICY_HASH: hashes.get(workload) ?? "",
        CONTRAST_RETRY_INITIAL: "0.1",
        CONTRAST_RETRY_MAX: "0.5",
      },
    });
    return { root, container };
  }

  it("the initializer image gets the workload's credentials from the Coordinator container and writes them", async () => {
    const { root, container } = await initializer("web");
    expect(await container.wait(), JSON.stringify(container.logs.logs)).toBe(0);

    const tls = join(root, "tls-config");
    const files = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(root.length + 1))
      .sort();
    expect(files).toEqual([
      "secrets/workload-secret-seed",
      "tls-config/certChain.pem",
      "tls-config/coordinator-root-ca.pem",
      "tls-config/key.pem",
      "tls-config/mesh-ca.pem",
    ]);
    expect(statSync(join(tls, "key.pem")).mode & 0o777).toBe(0o400);
    expect(readFileSync(join(root, "secrets/workload-secret-seed"), "utf8")).toMatch(/^[0-9a-f]{128}$/);

    // The leaf chains to the mesh CA, and through the intermediate to the Coordinator's root CA.
    const pems = readFileSync(join(tls, "certChain.pem"), "utf8").match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g,
    );
    expect(pems?.length).toBe(2);
    const leaf = join(tmp, "web-leaf.pem");
    const intermediate = join(tmp, "web-intermediate.pem");
    writeFileSync(leaf, pems?.[0] ?? "");
    writeFileSync(intermediate, pems?.[1] ?? "");
    expect(openssl(["verify", "-CAfile", join(tls, "mesh-ca.pem"), leaf]).toString()).toContain("OK");
    expect(
      openssl(["verify", "-CAfile", join(tls, "coordinator-root-ca.pem"), "-untrusted", intermediate, leaf]).toString(),
    ).toContain("OK");
    expect(new X509Certificate(pems?.[0] ?? "").subjectAltName).toContain("DNS:web");
    // The key is the leaf's.
    expect(openssl(["pkey", "-in", join(tls, "key.pem"), "-pubout"]).toString()).toBe(
      openssl(["x509", "-in", leaf, "-noout", "-pubkey"]).toString(),
    );

    // The done marker is in the container's own file system, where its pod's containers wait for it.
    const done = join(tmp, "web-done");
    await podman.exec(["cp", `${container.id}:/done`, done]);
    expect(statSync(done).size).toBe(0);
    await container.remove();
  });

  it("the service-mesh image loads its addon with the image's own libraries and reads a socket's destination", async () => {
    const program = `
      const net = require("net"), os = require("os");
      const m = { exports: {} };
      process.dlopen(m, "/opt/contrast/original_dst.node", os.constants.dlopen.RTLD_NOW);
      const server = net.createServer((s) => {
        let out;
        try { out = m.exports.originalDestination(s._handle.fd); } catch (e) { out = { error: e.code }; }
        console.log(JSON.stringify({ node: process.version, port: server.address().port, out }));
        s.destroy(); server.close();
      });
      server.listen(0, "127.0.0.1", () => net.connect(server.address().port, "127.0.0.1").on("error", () => {}));`;
    const r = await podman.run({
      image: ids["service-mesh"],
      entrypoint: ["/usr/local/bin/node"],
      args: ["-e", program],
    });
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as { node: string; port: number; out: Record<string, unknown> };
    // The runtime layer's Node (24), not the host's, ran the addon built against Node 20's headers.
    expect(seen.node).toMatch(/^v24\./);
    // Without a conntrack entry the kernel says ENOENT; with one (conntrack loaded), the socket's own
    // address. Either way the addon's getsockopt ran.
    if ("error" in seen.out) expect(seen.out).toEqual({ error: "ENOENT" });
    else expect(seen.out).toEqual({ family: 4, address: "127.0.0.1", port: seen.port });
  });

  it("the service-mesh image terminates mTLS with the initializer's credentials and forwards to the app", async () => {
    const db = await initializer("db");
    expect(await db.container.wait()).toBe(0);
    const web = join(tmp, "contrast-web", "tls-config");
    const app = await echoApp();
    servers.push(app.server);
    const port = await freePort();
    const mesh = await podman.start({
      image: ids["service-mesh"],
      name: "service-mesh-web",
      mounts: [{ source: web, target: "/contrast/tls-config", readonly: true }],
      args: [
        "ingress",
        "--tls-dir",
        "/contrast/tls-config",
        "--listen",
        `127.0.0.1:${port}`,
        "--upstream",
        `127.0.0.1:${app.port}`,
      ],
    });
    await mesh.logs.waitFor((l) => l.msg === "ingress listening", "ingress listening", 60_000);
    const client = join(tmp, "contrast-db", "tls-config");
    const request = (withCert: boolean) =>
      new Promise<string>((resolve) => {
        let data = "";
        const s = tlsConnect({
          host: "127.0.0.1",
          port,
          ca: readFileSync(join(web, "mesh-ca.pem")),
          checkServerIdentity: () => undefined,
          ...(withCert
            ? { cert: readFileSync(join(client, "certChain.pem")), key: readFileSync(join(client, "key.pem")) }
            : {}),
        });
        s.on("secureConnect", () => s.end("hi"));
        s.on("data", (d: Buffer) => {
          data += d.toString();
        });
        s.on("error", () => {});
        s.on("close", () => resolve(data));
      });
    expect(await request(true)).toBe("app:hi");
    expect(await request(false)).toBe("");
    expect(app.connections()).toBe(1);
    await mesh.stop(10);
    expect(await mesh.wait()).toBe(0);
  });

  it("the service-mesh image in pod mode (own network namespace, NET_ADMIN): its own iptables puts the interception in place", async () => {
    const tls = join(tmp, "contrast-web", "tls-config");
    const pod = await podman.start({
      image: ids["service-mesh"],
      name: "service-mesh-pod",
      network: "none",
      flags: ["--cap-add", "NET_ADMIN"],
      mounts: [{ source: tls, target: "/contrast/tls-config", readonly: true }],
    });
    await pod.logs.waitFor((l) => l.msg === "interception in place", "interception in place", 60_000);
    for (const bin of ["iptables", "ip6tables"]) {
      const rules = await podman.exec(["exec", pod.id, bin, "-w", "-t", "nat", "-S", "CONTRAST_IN_REDIRECT"]);
      expect(rules.stdout).toContain("-j REDIRECT --to-ports 15006");
    }
    await podman.exec(["exec", pod.id, "/usr/local/bin/node", "-e", 'require("fs").statSync("/ready")']);
    await pod.stop(10);
    expect(await pod.wait()).toBe(0);
    await pod.remove();
  });

  it("the service-mesh image in pod mode without NET_ADMIN fails closed: no interception, no proxy", async () => {
    const tls = join(tmp, "contrast-web", "tls-config");
    const pod = await podman.start({
      image: ids["service-mesh"],
      name: "service-mesh-pod-unprivileged",
      network: "none",
      flags: ["--cap-drop", "NET_ADMIN"],
      mounts: [{ source: tls, target: "/contrast/tls-config", readonly: true }],
    });
    expect(await pod.wait()).not.toBe(0);
    const failed = await pod.logs.waitFor((l) => l.msg === "cannot start", '"cannot start"');
    expect(failed.error).toMatchObject({ code: "NETFILTER_PERMISSION_DENIED" });
    await pod.remove();
  });

  it("the Coordinator container stops on SIGTERM with exit status 0", async () => {
    await coordinator.stop(20);
    expect(await coordinator.wait()).toBe(0);
    expect(coordinator.logs.logs.some((l) => l.level === "ERROR")).toBe(false);
    await coordinator.remove();
  });

  it("a new Coordinator container on the same state volume is in recovery until contrast recover, then serves again", async () => {
    const restarted = await startCoordinator("coordinator-restarted");
    await restarted.logs.waitFor((l) => l.msg === "coordinator listening", "listening", 90_000);
    const recovering = await probe(ports.probe, "/probe/readiness");
    expect(recovering.status).toBe(503);
    expect(recovering.body).toMatch(/^recovery: /);

    const recover = ws.contrast("recover", "-c", `127.0.0.1:${ports.userApi}`);
    expect(recover.status, recover.stdout + recover.stderr).toBe(0);
    expect(recover.stdout).toContain("Successfully recovered the Coordinator");
    expect(
      await until(
        () => probe(ports.probe, "/probe/readiness"),
        (r) => r.status === 200,
      ),
    ).toEqual({ status: 200, body: "ok\n" });

    // The recovered Coordinator serves the same deployment: its root CA has the key derived from
    // the same seed as before the restart.
    const again = await initializer("web", "web-again");
    expect(await again.container.wait()).toBe(0);
    const rootKey = (run: string) =>
      openssl(["x509", "-in", join(tmp, `contrast-${run}`, "tls-config/coordinator-root-ca.pem"), "-noout", "-pubkey"]);
    expect(rootKey("web-again").toString()).toBe(rootKey("web").toString());
    await restarted.stop(20);
    expect(await restarted.wait()).toBe(0);
  });
});
