// The built programs as separate processes, with their JSON log lines collected: the Coordinator
// (the real one, platform sim) and the initializer, as a pod runs them.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const APPS = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const INITIALIZER = join(APPS, "initializer/dist/contrast-initializer.cjs");
export const COORDINATOR = join(APPS, "coordinator/dist/contrast-coordinator.cjs");

export type LogLine = Record<string, unknown> & { msg: string; level: string };

export interface Running {
  readonly proc: ChildProcess;
  readonly logs: LogLine[];
  /** Resolves with the exit code, or the signal name when killed by one. */
  readonly exited: Promise<number | string>;
  /** The first log line (already seen or coming) that `match` accepts. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

const baseEnv = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/" });

export function start(bundle: string, args: readonly string[], env: Record<string, string> = {}): Running {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run pnpm build`);
  const proc = spawn(process.execPath, [bundle, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...baseEnv(), ...env },
  });
  const logs: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buffer = "";
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: "RAW", msg: text };
      }
      logs.push(line);
      for (const w of waiters.filter((x) => x.match(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  proc.stdout?.resume();
  const exited = new Promise<number | string>((resolve) =>
    proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const dump = () => logs.map((l) => JSON.stringify(l)).join("\n");
  return {
    proc,
    logs,
    exited,
    waitFor(match, what, timeoutMs = 30_000) {
      const seen = logs.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no log line ${what} within ${timeoutMs} ms:\n${dump()}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the process exited (${code}) before logging ${what}:\n${dump()}`));
        });
      });
    },
  };
}

/** Starts the sim Coordinator on free ports; resolves when it listens, with its ports. */
export async function startCoordinator(stateDir: string, simDir: string) {
  const c = start(COORDINATOR, [
    "--platform",
    "sim",
    "--state-dir",
    stateDir,
    "--sim-dir",
    simDir,
    "--host",
    "127.0.0.1",
    "--user-api-port",
    "0",
    "--mesh-api-port",
    "0",
    "--probe-port",
    "0",
  ]);
  const line = await c.waitFor((l) => l.msg === "coordinator listening", '"coordinator listening"', 60_000);
  return { ...c, userApiPort: line.userApiPort as number, meshApiPort: line.meshApiPort as number };
}

/** A retry log line of the initializer with this reason. */
export const retrying = (reason: string) => (l: LogLine) => l.reason === reason && String(l.msg).endsWith("; retrying");
