import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalCluster } from "../src/index.js";
import { admission, buildTestLayout, container, httpReady, podToRun, scratchDir } from "./runtime-helpers.js";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const tools = ["ip", "unshare", "nsenter", "setpriv", "chroot"].every(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0,
);
const reason = !isRoot
  ? "needs root (namespaces, mounts); CI runs as root"
  : !tools
    ? "needs iproute2 and util-linux"
    : "";
const DIST = join(dirname(fileURLToPath(import.meta.url)), "../dist/index.js");
/** The tests that run a cluster in a separate process import the built package. */
const distReason = existsSync(DIST) ? "" : "needs the built package (pnpm build) to run in a separate process";

/** Direct children of a process, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Runs the owner script (a cluster in its own process) in `mode` and waits for the first line
 * it reports; `argv` goes before Node (e.g. setpriv), `detached` gives it its own process group.
 */
async function startOwner(
  script: string,
  mode: string,
  work: string,
  layout: string,
  options: { argv?: readonly string[]; detached?: boolean } = {},
) {
  const [command, ...prefix] = [...(options.argv ?? []), process.execPath];
  const child: ChildProcess = spawn(command as string, [...prefix, script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOCALRUN_DIST: DIST, WORK: work, LAYOUT: layout, MODE: mode },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
      if (stdout.includes("\n")) resolve(stdout.slice(0, stdout.indexOf("\n")));
    });
    void exited.then((code) => reject(new Error(`the cluster process exited ${code} before reporting: ${stderr}`)));
  });
  return { child, exited, firstLine, stdout: () => stdout, stderr: () => stderr };
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function hostHasAddress(address: string): boolean {
  const out = spawnSync("ip", ["-4", "-o", "addr", "show"], { encoding: "utf8" }).stdout;
  return out.includes(` ${address}/`);
}

/** Resolves once `cond` holds; re-checks on an interval (what it waits for has no event to listen to). */
async function eventually(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition did not hold in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A script that runs a cluster with a server pod and a client pod that reaches it by Service
 * name, prints one JSON line and then either closes the cluster or waits to be killed. Run
 * through the built package (dist), in a separate process: as nobody in a user namespace, or to
 * be killed with SIGKILL.
 */
const SCRIPT = `
import { readdirSync, readFileSync } from "node:fs";
const lr = await import(process.env.LOCALRUN_DIST);
const work = process.env.WORK, layoutDir = process.env.LAYOUT, mode = process.env.MODE;
if (mode === "userns" && process.env[lr.USERNS_MARKER_ENV] === undefined) {
  const check = await lr.userNamespaceAvailable();
  if (!check.ok) { console.log(JSON.stringify({ unavailable: check.reason })); process.exit(0); }
  process.exit(await lr.reexecInUserNamespace({ argv: process.argv.slice(1), env: process.env }));
}
const image = "localhost/localrun-test/app:1";
const main = (name, args, extra = {}) => ({ name, role: "main", image, args: ["/usr/local/bin/node", ...args], env: [], cwd: "/app",
  user: { uid: 0, gid: 0 }, volumeMounts: [], probes: [], restartPolicy: "Always", ...extra });
const pod = (name, containers, labels = {}) => ({ name, namespace: "default",
  admission: { allowed: true, containers, volumes: [], labels, hostname: name },
  rootfsFor: (ref) => lr.unpackImage(layoutDir, ref, work + "/images/app"), vmEnv: {}, claimDir: (c) => work + "/claims/" + c });
const cluster = await lr.startLocalCluster({ workDir: work + "/cluster" });
const server = await cluster.runPod(pod("server", [main("web", ["/app/server.mjs"], { probes: [{ type: "readiness",
  action: { kind: "httpGet", port: 8080, path: "/", scheme: "HTTP" }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 2,
  successThreshold: 1, failureThreshold: 3 }] })], { app: "server" }));
cluster.setServices([{ name: "server", namespace: "default", selector: { app: "server" } }]);
await server.waitFor("Ready", 60000);
const client = await cluster.runPod(pod("client", [main("get", ["/app/get.mjs", "http://server:8080/"], { restartPolicy: "Never" })]));
await client.waitFor("Succeeded", 60000);
const children = readdirSync("/proc").filter((e) => /^\\d+$/.test(e)).filter((e) => {
  try { const s = readFileSync("/proc/" + e + "/stat", "utf8"); return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]) === process.pid; } catch { return false; }
}).map(Number);
// The handlers are in place before the report: the test signals as soon as it reads it.
const signalled = mode === "sigint" || mode === "userns"
  ? new Promise((resolve) => process.once(mode === "sigint" ? "SIGINT" : "SIGTERM", resolve)) : undefined;
console.log(JSON.stringify({ rootless: cluster.rootless, hostAddress: cluster.hostAddress, children, clientLog: client.logs("get") }));
if (mode === "crash") await new Promise(() => {});
if (mode === "sigint") {
  // A Ctrl-C in a terminal signals the whole foreground process group: only this process may get
  // it, so the pods are stopped in order (their containers see SIGTERM from the runtime).
  await signalled;
  await cluster.close();
  console.log(JSON.stringify(server.status().containers[0].current));
  process.exit(0);
}
if (mode === "userns") {
  // Waits for the SIGTERM the test sends to the outer process, which forwards it here.
  await signalled;
  await cluster.close();
  console.log("CLOSED");
  process.exit(0);
}
await cluster.close();
`;

describe.skipIf(reason !== "")(`local cluster lifecycle${reason === "" ? "" : ` (skipped: ${reason})`}`, () => {
  const scratch = scratchDir("lifecycle");
  const layout = `${scratch.path}/layout`;
  const script = `${scratch.path}/run.mjs`;

  beforeAll(async () => {
    await buildTestLayout(layout);
    writeFileSync(script, SCRIPT);
    // The userns run is nobody's: it must read the layout and write its work dir.
    for (const dir of [scratch.path]) chmodSync(dir, 0o755);
    spawnSync("chmod", ["-R", "a+rX", layout]);
  }, 60_000);

  afterAll(() => scratch.remove());

  it("close() leaves no process, veth or address behind and is idempotent", async () => {
    const work = `${scratch.path}/close`;
    const cluster = await startLocalCluster({ workDir: work });
    // The host side's veth: the link that carries the cluster's .1 address.
    const hostVeth = spawnSync("ip", ["-o", "-4", "addr", "show", "to", `${cluster.hostAddress}/32`], {
      encoding: "utf8",
    }).stdout.split(/:\s*|\s+/)[1];
    expect(hostVeth).toMatch(/^lr[0-9a-f]{10}$/);
    const pod = await cluster.runPod(
      podToRun(
        work,
        layout,
        "two",
        admission("two", [
          container("a", ["/app/server.mjs"], { probes: [httpReady(8080)] }),
          container("b", ["/app/server.mjs"], { env: ["PORT=8081"] }),
        ]),
      ),
    );
    await pod.waitFor("Ready", 60_000);
    // The node holder, the pod's holder (both `sleep infinity`) and the two containers.
    const cmdline = (p: number): string => readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ");
    const spawned = childrenOf(process.pid).filter(
      (p) => running(p) && /^sleep infinity|\/app\/server\.mjs/.test(cmdline(p)),
    );
    expect(spawned.length).toBe(4);
    expect(hostHasAddress(cluster.hostAddress)).toBe(true);
    await cluster.close();
    await cluster.close();
    expect(spawned.filter(running)).toEqual([]);
    expect(hostHasAddress(cluster.hostAddress)).toBe(false);
    expect(spawnSync("ip", ["link", "show", hostVeth ?? "lr"]).status).not.toBe(0);
    expect(spawnSync("ip", ["-o", "route", "show", cluster.subnet], { encoding: "utf8" }).stdout).toBe("");
    await expect(cluster.runPod(podToRun(work, layout, "late", admission("late", [])))).rejects.toMatchObject({
      code: "LOCALRUN_CLUSTER_CLOSED",
    });
  }, 120_000);

  it.skipIf(distReason !== "")(
    `a crashed owner (SIGKILL) takes every pod process and the host veth with it${distReason === "" ? "" : ` (skipped: ${distReason})`}`,
    async () => {
      const work = `${scratch.path}/crash`;
      const { child, firstLine: line } = await startOwner(script, "crash", work, layout);
      const report = JSON.parse(line) as { hostAddress: string; children: number[]; clientLog: string };
      expect(report.clientLog).toContain('"hostname":"server"');
      const alive = report.children.filter(running);
      expect(alive.length).toBeGreaterThanOrEqual(3); // node holder, server holder, web container
      expect(hostHasAddress(report.hostAddress)).toBe(true);
      child.kill("SIGKILL");
      await eventually(() => alive.every((p) => !running(p)) && !hostHasAddress(report.hostAddress), 30_000);
    },
    120_000,
  );

  it.skipIf(distReason !== "")(
    `a Ctrl-C to the owner's process group reaches the owner only; close() then stops the pods in order${distReason === "" ? "" : ` (skipped: ${distReason})`}`,
    async () => {
      const work = `${scratch.path}/sigint`;
      const { child, exited, firstLine, stdout } = await startOwner(script, "sigint", work, layout, { detached: true });
      const report = JSON.parse(firstLine) as { children: number[] };
      const alive = report.children.filter(running);
      process.kill(-(child.pid ?? 0), "SIGINT");
      expect(await exited).toBe(0);
      const final = JSON.parse(stdout().trim().split("\n").at(-1) ?? "{}") as { state: string; signal: string };
      expect(final).toMatchObject({ state: "terminated", signal: "SIGTERM" });
      expect(alive.filter(running)).toEqual([]);
    },
    120_000,
  );

  const usernsReason =
    distReason !== ""
      ? distReason
      : spawnSync("setpriv", [
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
            "unshare",
            "--user",
            "--map-root-user",
            "--net",
            "true",
          ]).status !== 0
        ? "unprivileged user namespaces are unavailable on this machine"
        : spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "test", "-r", DIST])
              .status !== 0
          ? "nobody cannot read the built package in this checkout (.ci/run opens the checkout for it)"
          : "";
  it.skipIf(usernsReason !== "")(
    `runs without root: as nobody, re-executed in a user namespace that a forwarded SIGTERM cleans up${usernsReason === "" ? "" : ` (skipped: ${usernsReason})`}`,
    async () => {
      const work = `${scratch.path}/userns`;
      spawnSync("install", ["-d", "-o", "nobody", "-m", "0755", work]);
      const {
        child,
        exited,
        firstLine: line,
        stdout,
        stderr,
      } = await startOwner(script, "userns", work, layout, {
        argv: ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"],
      });
      const report = JSON.parse(line) as { rootless: boolean; clientLog: string };
      expect(report.rootless).toBe(true);
      expect(report.clientLog).toContain('"hostname":"server"');
      // SIGTERM to the outer (unprivileged) process reaches the re-executed one, which cleans up.
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(stdout()).toContain("CLOSED");
      expect(stderr()).toBe("");
    },
    120_000,
  );
});
