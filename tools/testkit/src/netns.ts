import { type ChildProcess, execFile, execFileSync, type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { expect, onTestFinished } from "vitest";
import { childEnv } from "./tools.js";

/**
 * Network namespaces for tests with real networking (iptables, routing, two "pods" joined by a
 * veth pair). They need root (CAP_NET_ADMIN and CAP_SYS_ADMIN for `ip netns add`); tests check
 * `netnsAvailable()` and skip with its reason where that is missing. CI runs as root, so there
 * they run.
 *
 * Every namespace is named `ctk-<pid>-<random>` so that test files running in parallel never
 * collide, and is deleted (its processes killed first) when the test that made it finishes, or
 * after the test file when made outside a test, or at process exit. Namespaces left behind by a
 * test process that died (its pid is gone) are swept by the next `createNetns`.
 */

export interface Netns {
  /** The name `ip netns` knows it by. */
  readonly name: string;
  /** Deletes the namespace after killing the processes in it; idempotent. */
  delete(): void;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecInOptions {
  /** Bytes for the child's stdin. */
  readonly input?: string | Buffer;
  /** Resolve with a non-zero exit status instead of rejecting. */
  readonly allowFailure?: boolean;
  /** Kills the child after this many milliseconds (default 30 s). */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

const PREFIX = "ctk-";
const live = new Map<string, NetnsImpl>();
let exitHookInstalled = false;
let availability: { ok: true } | { ok: false; reason: string } | undefined;

/**
 * Whether this machine lets the test create namespaces: `{ ok: true }`, or the reason it cannot
 * (not root, no `ip`, namespaces refused), for `it.skipIf` messages. Checked once per process by
 * creating and deleting one namespace.
 */
export function netnsAvailable(): { ok: true } | { ok: false; reason: string } {
  if (availability !== undefined) return availability;
  availability = probe();
  return availability;
}

function probe(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== "linux")
    return { ok: false, reason: `network namespaces need Linux, not ${process.platform}` };
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return {
      ok: false,
      reason: "network namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); run as root, as CI does",
    };
  }
  const name = `${PREFIX}${process.pid}-probe${randomBytes(3).toString("hex")}`;
  const add = spawnSync("ip", ["netns", "add", name], { encoding: "utf8" });
  if (add.error !== undefined) return { ok: false, reason: `iproute2's ip is missing (${add.error.message})` };
  if (add.status !== 0) return { ok: false, reason: `ip netns add failed: ${add.stderr.trim()}` };
  spawnSync("ip", ["netns", "del", name]);
  return { ok: true };
}

/**
 * Creates a fresh namespace with its loopback up. `label` (letters and digits) is only woven into
 * the name to make it readable in `ip netns list`. Made inside a test, it is deleted when the test
 * finishes. Made in a hook (`beforeAll`), the caller deletes it in the matching `afterAll`: vitest
 * ignores hooks registered from inside another hook. The process's exit hook and the next run's
 * orphan sweep are the backstops.
 */
export function createNetns(label = "ns"): Netns {
  sweepOrphans();
  const safe = label.replace(/[^A-Za-z0-9]/g, "").slice(0, 12) || "ns";
  const name = `${PREFIX}${process.pid}-${safe}-${randomBytes(3).toString("hex")}`;
  ip(["netns", "add", name]);
  const ns = new NetnsImpl(name);
  live.set(name, ns);
  installExitHook();
  try {
    ip(["-n", name, "link", "set", "lo", "up"]);
  } catch (error) {
    ns.delete();
    throw error;
  }
  if (expect.getState().currentTestName !== undefined) onTestFinished(() => ns.delete());
  return ns;
}

export interface VethEnd {
  readonly ns: Netns;
  /** The interface name inside `ns` (default `veth0`; at most 15 characters). */
  readonly ifname?: string;
  /** IPv4 address with prefix length, e.g. `10.77.0.1/24`. */
  readonly ipv4?: string;
  /** IPv6 address with prefix length, e.g. `fd77::1/64`; added without duplicate address detection so it is usable at once. */
  readonly ipv6?: string;
}

/** Joins two namespaces by a veth pair and brings both ends up with their addresses. */
export function connectNetns(a: VethEnd, b: VethEnd): { readonly aIf: string; readonly bIf: string } {
  const aIf = a.ifname ?? "veth0";
  const bIf = b.ifname ?? "veth0";
  ip(["link", "add", aIf, "netns", a.ns.name, "type", "veth", "peer", "name", bIf, "netns", b.ns.name]);
  for (const [end, ifname] of [
    [a, aIf],
    [b, bIf],
  ] as const) {
    if (end.ipv4 !== undefined) ip(["-n", end.ns.name, "addr", "add", end.ipv4, "dev", ifname]);
    if (end.ipv6 !== undefined) {
      ipIn(end.ns, ["sysctl", "-q", "-w", `net.ipv6.conf.${ifname}.disable_ipv6=0`]);
      ip(["-n", end.ns.name, "-6", "addr", "add", end.ipv6, "dev", ifname, "nodad"]);
    }
    ip(["-n", end.ns.name, "link", "set", ifname, "up"]);
  }
  return { aIf, bIf };
}

/** Runs `argv` inside `ns` and collects its output; rejects on a non-zero status unless `allowFailure`. */
export function execIn(ns: Netns, argv: readonly string[], options: ExecInOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "ip",
      ["netns", "exec", ns.name, ...argv],
      { env: options.env ?? childEnv(), timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 << 20, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        const result = { code, stdout, stderr };
        if (code !== 0 && options.allowFailure !== true) {
          reject(new Error(`in ${ns.name}: ${argv.join(" ")} exited ${code}: ${stderr.trim()}`));
        } else resolve(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** `execIn`, synchronous, for setup steps; throws on a non-zero status. */
export function execInSync(
  ns: Netns,
  argv: readonly string[],
  options: { readonly input?: string | Buffer } = {},
): string {
  return ipIn(ns, argv, options.input);
}

/**
 * Starts `argv` inside `ns` as a long-running child (a server, the proxy). The child is killed
 * (SIGKILL) when the namespace is deleted, if it still runs.
 */
export function spawnIn(ns: Netns, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn("ip", ["netns", "exec", ns.name, ...argv], { env: childEnv(), ...options });
  const impl = live.get(ns.name);
  impl?.children.add(child);
  child.once("exit", () => impl?.children.delete(child));
  return child;
}

class NetnsImpl implements Netns {
  readonly children = new Set<ChildProcess>();
  private deleted = false;
  constructor(readonly name: string) {}

  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    live.delete(this.name);
    for (const child of this.children) child.kill("SIGKILL");
    // `ip netns exec` execs the program, so the children above are the processes themselves; this
    // catches what they started in turn.
    killPidsIn(this.name);
    spawnSync("ip", ["netns", "del", this.name]);
  }
}

function killPidsIn(name: string): void {
  const pids = spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" });
  if (pids.status !== 0) return;
  for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function sweepOrphans(): void {
  const list = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (list.status !== 0) return;
  for (const line of list.stdout.split("\n")) {
    const match = /^(ctk-(\d+)-\S+)/.exec(line);
    if (match === null) continue;
    const [, name, pid] = match as unknown as [string, string, string];
    if (Number(pid) === process.pid || pidAlive(Number(pid))) continue;
    killPidsIn(name);
    spawnSync("ip", ["netns", "del", name]);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const ns of [...live.values()]) ns.delete();
  });
}

function ip(args: readonly string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function ipIn(ns: Netns, argv: readonly string[], input?: string | Buffer): string {
  return execFileSync("ip", ["netns", "exec", ns.name, ...argv], {
    encoding: "utf8",
    env: childEnv(),
    ...(input === undefined ? { stdio: ["ignore", "pipe", "pipe"] } : { input, stdio: ["pipe", "pipe", "pipe"] }),
  });
}
