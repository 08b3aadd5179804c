import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";

/** One line a program logged on stderr: its JSON object, or `{ level: "RAW", msg }` for other text. */
export type LogLine = Record<string, unknown> & { msg: string; level: string };

/** A program under test as a child process, with its stderr log lines collected as they come. */
export interface LoggedProcess {
  readonly proc: ChildProcess;
  readonly logs: LogLine[];
  /** Resolves with the exit code, or the signal name when killed by one. */
  readonly exited: Promise<number | string>;
  /** The first log line (already seen or coming) that `match` accepts; rejects on timeout or exit. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

/**
 * Runs a built bundle (`apps/<name>/dist/*.cjs`) with this Node. The child gets only PATH and
 * HOME from this environment plus `env`, so a developer's settings cannot change what it does.
 */
export function startBundle(bundle: string, args: readonly string[], env: Record<string, string> = {}): LoggedProcess {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run pnpm build`);
  const proc = spawn(process.execPath, [bundle, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...env },
  });
  return collectLogs(proc);
}

export interface CollectOptions {
  /** Lines on stdout count too (programs that report events there); stdout is drained otherwise. */
  readonly stdout?: boolean;
  /** Names the process in timeout and exit errors. */
  readonly label?: string;
}

/** Collects a started process's stderr (and stdout) as log lines (JSON where it is, raw text otherwise). */
export function collectLogs(proc: ChildProcess, options: CollectOptions = {}): LoggedProcess {
  const logs: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  const push = (text: string) => {
    let line: LogLine;
    try {
      const parsed: unknown = JSON.parse(text);
      line = typeof parsed === "object" && parsed !== null ? (parsed as LogLine) : { level: "RAW", msg: text };
    } catch {
      line = { level: "RAW", msg: text };
    }
    logs.push(line);
    for (const w of waiters.filter((x) => x.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  };
  for (const stream of options.stdout ? [proc.stdout, proc.stderr] : [proc.stderr]) {
    let buffer = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
  }
  if (!options.stdout) proc.stdout?.resume();
  const exited = new Promise<number | string>((resolve) =>
    proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const prefix = options.label === undefined ? "" : `${options.label}: `;
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
          () => reject(new Error(`${prefix}no log line ${what} within ${timeoutMs} ms:\n${dump()}`)),
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
          reject(new Error(`${options.label ?? "the process"} exited (${code}) before logging ${what}:\n${dump()}`));
        });
      });
    },
  };
}
