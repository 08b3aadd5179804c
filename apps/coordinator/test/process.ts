import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const APP = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE = join(APP, "dist/contrast-coordinator.cjs");

export interface LogLine {
  readonly time: string;
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface RunningCoordinator {
  readonly proc: ChildProcess;
  readonly userApiPort: number;
  readonly meshApiPort: number;
  readonly probePort: number;
  /** Every JSON line the process wrote to stderr so far. */
  readonly logs: LogLine[];
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  probe(path: string): Promise<{ status: number; body: string }>;
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
}

/** Checks that the bundle exists; the tests run the built program, as users do. */
export function requireBundle(): void {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm --filter @contrast/coordinator-app build`);
}

/**
 * Starts the built Coordinator on free ports (port 0) and resolves once it logs that it listens.
 * `args` come after the port flags.
 */
export function startCoordinator(args: readonly string[], env: Record<string, string> = {}): Promise<RunningCoordinator> {
  requireBundle();
  const proc = spawn(
    process.execPath,
    [BUNDLE, "--host", "127.0.0.1", "--user-api-port", "0", "--mesh-api-port", "0", "--probe-port", "0", ...args],
    { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...env } },
  );
  const logs: LogLine[] = [];
  const waiters: { msg: string; resolve: (l: LogLine) => void }[] = [];
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
        line = { time: "", level: "RAW", msg: text };
      }
      logs.push(line);
      for (const w of waiters.filter((x) => x.msg === line.msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  proc.stdout?.resume();
  const exited = new Promise<number | string>((resolve) =>
    proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const waitForLog = (msg: string, timeoutMs = 30_000) => {
    const seen = logs.find((l) => l.msg === msg);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no log line ${JSON.stringify(msg)} within ${timeoutMs} ms; got:\n${logs.map((l) => JSON.stringify(l)).join("\n")}`)),
        timeoutMs,
      );
      waiters.push({
        msg,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the Coordinator exited (${code}) before logging ${JSON.stringify(msg)}:\n${logs.map((l) => JSON.stringify(l)).join("\n")}`));
      });
    });
  };
  return waitForLog("coordinator listening").then((line) => {
    const probePort = line.probePort as number;
    return {
      proc,
      userApiPort: line.userApiPort as number,
      meshApiPort: line.meshApiPort as number,
      probePort,
      logs,
      exited,
      waitForLog,
      async probe(path: string) {
        const res = await fetch(`http://127.0.0.1:${probePort}${path}`);
        return { status: res.status, body: await res.text() };
      },
    };
  });
}

/** Runs the bundle to completion (for configuration errors, --help). */
export function runToExit(args: readonly string[], env: Record<string, string> = {}) {
  requireBundle();
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [BUNDLE, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...env },
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
