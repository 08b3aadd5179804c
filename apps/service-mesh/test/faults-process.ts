// Harness of the fault tests: mesh credentials in the initializer's layout, the built proxy in
// standalone mode as its own process, and readings of that process from /proc and its admin port.
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createConnection } from "node:net";
import { join } from "node:path";
import { systemClock } from "@contrast/core";
import { CoordinatorCa, cryptoRandom, SeedEngine } from "@contrast/mesh-pki";
import { childEnv, freePort, repoPath } from "@contrast/testkit";

export const BUNDLE = repoPath("apps/service-mesh/dist/service-mesh.cjs");

export interface MeshFiles {
  readonly dir: string;
  readonly meshCaPem: string;
  readonly certChainPem: string;
  readonly keyPem: string;
}

/** A fresh mesh CA (the Coordinator's) and one workload leaf, written as the initializer does. */
export function meshCredentials(root: string, names: readonly string[]): Record<string, MeshFiles> {
  const engine = SeedEngine.fromSeed(randomBytes(32), randomBytes(32));
  const ca = CoordinatorCa.create(engine, { clock: systemClock, random: cryptoRandom });
  const out: Record<string, MeshFiles> = {};
  for (const name of names) {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const leaf = ca.issueLeaf({ publicKey, sans: [name, "127.0.0.1"] });
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const files = {
      dir,
      meshCaPem: ca.meshCaPem,
      certChainPem: leaf.certChainPem,
      keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
    writeFileSync(join(dir, "mesh-ca.pem"), files.meshCaPem);
    writeFileSync(join(dir, "certChain.pem"), files.certChainPem);
    writeFileSync(join(dir, "key.pem"), files.keyPem, { mode: 0o600 });
    out[name] = files;
  }
  return out;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.on("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.on("error", () => resolve(false));
  });
}

export interface RunningProxy {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly adminPort: number;
  output(): string;
  stop(): Promise<void>;
}

/** `service-mesh ingress` from the bundle, listening on a free loopback port, with an admin port. */
export async function startProxy(
  tlsDir: string,
  upstreamPort: number,
  options: { readonly noClientAuth?: boolean; readonly extraArgs?: readonly string[] } = {},
): Promise<RunningProxy> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`pnpm build\` first`);
  const port = await freePort();
  const adminPort = await freePort();
  const args = [
    BUNDLE,
    "ingress",
    "--tls-dir",
    tlsDir,
    "--listen",
    `127.0.0.1:${port}`,
    "--upstream",
    `127.0.0.1:${upstreamPort}`,
    "--admin-port",
    String(adminPort),
    ...(options.noClientAuth ? ["--no-client-auth"] : []),
    ...(options.extraArgs ?? []),
  ];
  const proc = spawn(process.execPath, args, { env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  let exited = false;
  proc.on("exit", () => {
    exited = true;
  });
  const deadline = Date.now() + 15_000;
  for (const p of [port, adminPort]) {
    while (!(await accepts(p))) {
      if (exited) throw new Error(`the proxy exited before listening:\n${out}`);
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`the proxy is not listening on ${p} after 15 s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    proc,
    port,
    adminPort,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGKILL");
      }),
  };
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * GET from the admin port; the body as text. Without keep-alive: a pooled connection would stay
 * open in the proxy for the admin server's keep-alive timeout and count as one of its file
 * descriptors.
 */
export function adminGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "GET", agent: false, headers: { connection: "close" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * The samples of a Prometheus text exposition: `name{labels}` → value. Labels are kept as
 * written, so callers match on the metric name and a label substring.
 */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+?(?:\{.*\})?)\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (m?.[1] && m[2]) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Sum of the samples of `name` whose labels contain every one of `labels` (`key="value"`). */
export function metricSum(metrics: Map<string, number>, name: string, labels: readonly string[] = []): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    const brace = key.indexOf("{");
    const metric = brace === -1 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    if (labels.every((l) => key.includes(l))) sum += value;
  }
  return sum;
}

export async function metrics(adminPort: number): Promise<Map<string, number>> {
  const r = await adminGet(adminPort, "/metrics");
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return parseMetrics(r.body);
}

/** Polls `check` every 50 ms until it holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
