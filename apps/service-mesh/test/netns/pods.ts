// Test "pods" for the netns end-to-end tests: network namespaces joined by a veth pair, each with
// the pod-VM image's default-deny rule, the real proxy (the built bundle, pod mode), a small app
// and a client agent running inside as separate processes. Everything a test starts is killed
// when its namespace is deleted: when the test finishes, or by twoPods' dispose for pods made in
// beforeAll (testkit's createNetns cannot register its own cleanup from inside a hook).
import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock, utf8 } from "@contrast/core";
import { CoordinatorCa, cryptoRandom, generateSeed, SeedEngine } from "@contrast/mesh-pki";
import {
  childEnv,
  collectLogs,
  connectNetns,
  createNetns,
  execIn,
  type LoggedProcess,
  type Netns,
  spawnIn,
} from "@contrast/testkit";
import { credentialFiles, nodeCredentialFs, writeCredentials } from "@contrast/workload";
import { expect, onTestFinished } from "vitest";

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROXY_BUNDLE = join(HERE, "../../dist/service-mesh.cjs");
const APP_SCRIPT = join(HERE, "app-server.mjs");
const AGENT_SCRIPT = join(HERE, "client-agent.mjs");

/** The pod-VM image's default-deny rule (reference §8.4), as `iptables -A INPUT` arguments. */
export const DEFAULT_DENY = ["-m", "conntrack", "!", "--ctstate", "ESTABLISHED,RELATED", "-j", "DROP"] as const;

/**
 * Whether the kernel has IPv6 (the proxy then intercepts it too). Without it the pods get IPv4
 * only and the IPv6 checks are skipped, saying so.
 */
export const IPV6 = existsSync("/proc/net/if_inet6");

export interface Pod {
  readonly ns: Netns;
  readonly ipv4: string;
  /** Its IPv6 address; not configured where the kernel has no IPv6 (see IPV6). */
  readonly ipv6: string;
  /** A scratch directory for this pod's files (credentials, ready file). */
  readonly dir: string;
}

/**
 * Two pods on one link: `client` (10.16.0.1, fd16::1) and `server` (10.16.0.2, fd16::2). Each
 * call makes new namespaces, so the addresses never collide across tests or files. `dispose()`
 * deletes both namespaces (killing what runs in them) and their directories; call it from
 * `afterAll` when the pods are made in `beforeAll` (inside a test, it also runs when the test
 * finishes). Idempotent.
 */
export function twoPods(): { readonly client: Pod; readonly server: Pod; dispose(): void } {
  const dirs: string[] = [];
  const pod = (ns: Netns, ipv4: string, ipv6: string): Pod => {
    const dir = mkdtempSync(join(tmpdir(), `netns-${ipv4.replaceAll(".", "-")}-`));
    dirs.push(dir);
    return { ns, ipv4, ipv6, dir };
  };
  const clientNs = createNetns("client");
  const serverNs = createNetns("server");
  const dispose = () => {
    clientNs.delete();
    serverNs.delete();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    for (const ns of [clientNs, serverNs]) rmSync(etcNetns(ns), { recursive: true, force: true });
  };
  if (expect.getState().currentTestName !== undefined) onTestFinished(dispose);
  try {
    connectNetns(
      { ns: clientNs, ipv4: "10.16.0.1/24", ...(IPV6 ? { ipv6: "fd16::1/64" } : {}) },
      { ns: serverNs, ipv4: "10.16.0.2/24", ...(IPV6 ? { ipv6: "fd16::2/64" } : {}) },
    );
    return { client: pod(clientNs, "10.16.0.1", "fd16::1"), server: pod(serverNs, "10.16.0.2", "fd16::2"), dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

const etcNetns = (ns: Netns) => join("/etc/netns", ns.name);

/**
 * The pod's own /etc/hosts (`ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts
 * for what it starts), so that names such as a Kubernetes service's resolve inside the pod. Write
 * it before starting the processes that need it; twoPods' dispose removes it.
 */
export function setHosts(pod: Pod, hosts: Readonly<Record<string, string>>): void {
  mkdirSync(etcNetns(pod.ns), { recursive: true });
  const lines = ["127.0.0.1 localhost", "::1 localhost", ...Object.entries(hosts).map(([n, a]) => `${a} ${n}`)];
  writeFileSync(join(etcNetns(pod.ns), "hosts"), `${lines.join("\n")}\n`);
}

/** Installs the default-deny rule for IPv4 and IPv6, as the pod-VM image does before any container runs. */
export async function installDefaultDeny(pod: Pod): Promise<void> {
  for (const bin of IPV6 ? ["iptables", "ip6tables"] : ["iptables"])
    await execIn(pod.ns, [bin, "-w", "-A", "INPUT", ...DEFAULT_DENY]);
}

/** Whether the default-deny rule is in the pod's INPUT chain (`-C` answers 0 when it is). */
export async function hasDefaultDeny(pod: Pod, bin: "iptables" | "ip6tables" = "iptables"): Promise<boolean> {
  const r = await execIn(pod.ns, [bin, "-w", "-C", "INPUT", ...DEFAULT_DENY], { allowFailure: true });
  return r.code === 0;
}

/** `iptables-save` (or `ip6tables-save`) inside the pod. */
export async function ruleset(pod: Pod, bin: "iptables-save" | "ip6tables-save" = "iptables-save"): Promise<string> {
  return (await execIn(pod.ns, [bin])).stdout;
}

export type JsonLine = Record<string, unknown>;

/** A child process in a pod whose stdout and stderr lines are collected (testkit collectLogs), named in errors. */
export class Proc {
  readonly #logged: LoggedProcess;

  constructor(
    readonly what: string,
    readonly child: ChildProcess,
  ) {
    this.#logged = collectLogs(child, { stdout: true, label: what });
  }

  /** Every line on stdout and stderr so far (JSON objects; other text as `{ level: "RAW", msg }`). */
  get lines(): readonly JsonLine[] {
    return this.#logged.logs;
  }

  get exited(): Promise<number | string> {
    return this.#logged.exited;
  }

  dump(): string {
    return this.lines.map((l) => JSON.stringify(l)).join("\n");
  }

  /** The first line (already seen or coming) that `match` accepts. */
  waitFor(match: (l: JsonLine) => boolean, what: string, timeoutMs = 30_000): Promise<JsonLine> {
    return this.#logged.waitFor(match, what, timeoutMs);
  }
}

/** The pod's application: plain TCP on `ports`, announcing every accepted connection. */
export class App extends Proc {
  /** Connections the app accepted so far, with the peer it saw. */
  accepts(port?: number): { port: number; remoteAddress: string; localAddress: string }[] {
    return this.lines
      .filter((l) => l.event === "accept" && (port === undefined || l.port === port))
      .map((l) => ({
        port: l.port as number,
        remoteAddress: l.remoteAddress as string,
        localAddress: l.localAddress as string,
      }));
  }
}

export async function startApp(pod: Pod, ports: readonly number[]): Promise<App> {
  const child = spawnIn(pod.ns, [process.execPath, APP_SCRIPT, ...ports.map(String)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const app = new App(`app in ${pod.ns.name}`, child);
  await app.waitFor((l) => l.event === "listening", "listening");
  return app;
}

export interface TlsFiles {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface ExchangeResult {
  readonly connected: boolean;
  readonly secure: boolean;
  readonly authorized: boolean;
  readonly data: string;
  readonly error: string | null;
  readonly closed: "end" | "error" | "timeout";
}

/** A long-lived client process inside a pod; see client-agent.mjs for its commands. */
export class Agent extends Proc {
  #next = 0;

  async #send(cmd: JsonLine, timeoutMs: number): Promise<JsonLine> {
    const id = ++this.#next;
    const answer = this.waitFor((l) => l.id === id, `an answer to ${JSON.stringify(cmd)}`, timeoutMs + 10_000);
    this.child.stdin?.write(`${JSON.stringify({ ...cmd, id, timeoutMs })}\n`);
    return answer;
  }

  /** Connects, sends `send`, half-closes and collects the answer until the peer closes. */
  async exchange(host: string, port: number, send: string, tls?: TlsFiles, timeoutMs = 5000): Promise<ExchangeResult> {
    return (await this.#send({ op: "exchange", host, port, send, tls }, timeoutMs)) as unknown as ExchangeResult;
  }

  /** Connects, sends `send`, waits for the first answer and keeps the connection open. */
  async open(host: string, port: number, send: string, tls?: TlsFiles, timeoutMs = 5000) {
    const r = (await this.#send({ op: "open", host, port, send, tls }, timeoutMs)) as unknown as ExchangeResult & {
      id: number;
    };
    return {
      ...r,
      /** Sends more on the kept connection, half-closes and collects until the peer closes. */
      finish: async (more: string) =>
        (await this.#send({ op: "finish", ref: r.id, send: more }, timeoutMs)) as unknown as ExchangeResult,
    };
  }
}

export async function startAgent(pod: Pod): Promise<Agent> {
  const child = spawnIn(pod.ns, [process.execPath, AGENT_SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
  const agent = new Agent(`client agent in ${pod.ns.name}`, child);
  await agent.waitFor((l) => l.event === "ready", "ready");
  return agent;
}

export interface ProxyOptions {
  readonly tlsDir: string;
  readonly ingress?: string;
  readonly egress?: string;
  readonly adminPort?: number;
  readonly args?: readonly string[];
}

export class MeshProxy extends Proc {
  constructor(
    what: string,
    child: ChildProcess,
    readonly readyFile: string,
  ) {
    super(what, child);
  }

  /** Resolves once the proxy has written its ready file; rejects if it exits first. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited: number | string | undefined;
    void this.exited.then((c) => {
      exited = c;
    });
    while (!existsSync(this.readyFile)) {
      if (exited !== undefined) throw new Error(`${this.what} exited (${exited}) before ready:\n${this.dump()}`);
      if (Date.now() > deadline) throw new Error(`${this.what}: no ready file within ${timeoutMs} ms:\n${this.dump()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Starts the built proxy in pod mode inside `pod`, configured through the CONTRAST_* environment. */
export function startProxy(pod: Pod, options: ProxyOptions): MeshProxy {
  if (!existsSync(PROXY_BUNDLE)) throw new Error(`${PROXY_BUNDLE} is missing: run pnpm build`);
  const readyFile = join(pod.dir, "ready");
  // A restarted container starts without the /ready of the one before.
  rmSync(readyFile, { force: true });
  const env: NodeJS.ProcessEnv = { ...childEnv() };
  for (const k of Object.keys(env)) if (k.startsWith("CONTRAST_")) delete env[k];
  if (options.ingress !== undefined) env.CONTRAST_INGRESS_PROXY_CONFIG = options.ingress;
  if (options.egress !== undefined) env.CONTRAST_EGRESS_PROXY_CONFIG = options.egress;
  if (options.adminPort !== undefined) env.CONTRAST_ADMIN_PORT = String(options.adminPort);
  const child = spawnIn(
    pod.ns,
    [
      process.execPath,
      PROXY_BUNDLE,
      "run",
      "--tls-dir",
      options.tlsDir,
      "--ready-file",
      readyFile,
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env },
  );
  return new MeshProxy(`proxy in ${pod.ns.name}`, child, readyFile);
}

/** A mesh CA as the Coordinator makes one (root, intermediate, mesh CA), from a fresh seed. */
export function meshCa(): CoordinatorCa {
  const { seed, salt } = generateSeed(cryptoRandom);
  return CoordinatorCa.create(SeedEngine.fromSeed(seed, salt), { clock: systemClock, random: cryptoRandom });
}

export interface WorkloadCredentials {
  /** `<root>/tls-config`, the proxy's `--tls-dir`. */
  readonly tlsDir: string;
  readonly meshCa: string;
  readonly certChain: string;
  readonly key: string;
}

/**
 * Issues a mesh certificate for a fresh P-256 workload key and writes the files exactly as the
 * initializer does (same checks, names, modes, atomic writes): `<root>/tls-config/*.pem`.
 */
export async function writeWorkloadCredentials(ca: CoordinatorCa, root: string, sans: readonly string[]) {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const leaf = ca.issueLeaf({ publicKey, sans });
  const files = credentialFiles(
    {
      MeshCACert: utf8(ca.meshCaPem),
      CertChain: utf8(leaf.certChainPem),
      RootCACert: utf8(ca.rootCaPem),
      WorkloadSecret: new Uint8Array(0),
    },
    {
      publicKeyDer: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
      privateKeyPem: (privateKey as KeyObject).export({ type: "pkcs8", format: "pem" }).toString(),
    },
  );
  await writeCredentials(nodeCredentialFs, root, files);
  const tlsDir = join(root, "tls-config");
  return {
    tlsDir,
    meshCa: join(tlsDir, "mesh-ca.pem"),
    certChain: join(tlsDir, "certChain.pem"),
    key: join(tlsDir, "key.pem"),
  } satisfies WorkloadCredentials;
}

/** The client side of a TLS connection presenting `creds` and trusting its mesh CA. */
export const meshClient = (creds: WorkloadCredentials): TlsFiles => ({
  ca: creds.meshCa,
  cert: creds.certChain,
  key: creds.key,
});
