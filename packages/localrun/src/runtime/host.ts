import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, realpathSync } from "node:fs";
import * as fsp from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { Readable } from "node:stream";

/** How a spawned process's stdout or stderr is wired. */
export type HostOutput = "ignore" | "pipe" | "inherit" | { readonly appendTo: string };

export interface HostSpawnOptions {
  /** The complete environment of the child; nothing is inherited. */
  readonly env: Readonly<Record<string, string>>;
  readonly stdout?: HostOutput;
  readonly stderr?: HostOutput;
  /** Default "ignore". */
  readonly stdin?: "ignore" | "inherit";
  /**
   * In a session and process group of its own (setsid): a Ctrl-C in the terminal does not reach
   * it, only the caller, which decides what to do. It has no controlling terminal then.
   */
  readonly ownProcessGroup?: boolean;
}

export interface HostExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface HostProcess {
  readonly pid: number;
  /** Resolves once the process has exited (never rejects; a spawn failure is an exit with code 127). */
  readonly exited: Promise<HostExit>;
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
  kill(signal?: NodeJS.Signals): void;
}

export interface HostRunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HostStat {
  readonly type: "file" | "directory" | "symlink" | "other";
  readonly mode: number;
}

/** The file access the runtime needs, injected. Paths are absolute host paths. */
export interface HostFileSystem {
  mkdir(path: string, mode?: number): Promise<void>;
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  appendFile(path: string, data: string): Promise<void>;
  /** Contents, or undefined when the file does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** Text contents read synchronously (container logs), or undefined when missing. */
  readTextSync(path: string): string | undefined;
  /** Removes a file or a whole tree; no error when it does not exist. */
  rm(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  link(existing: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  /** lstat: a symlink is reported as one. Undefined when the path does not exist. */
  lstat(path: string): Promise<HostStat | undefined>;
  readdir(path: string): Promise<readonly string[]>;
  chmod(path: string, mode: number): Promise<void>;
  realpath(path: string): Promise<string>;
}

/**
 * Everything the runtime does to the machine goes through this: processes, files, timers and
 * the probes' network requests. `nodeHost` is the real one; tests may wrap it to observe or fail.
 */
export interface Host {
  readonly fs: HostFileSystem;
  spawn(argv: readonly string[], options: HostSpawnOptions): HostProcess;
  /** Runs a command to completion and collects its output (never rejects on a non-zero status). */
  run(
    argv: readonly string[],
    options?: { readonly input?: string; readonly env?: Readonly<Record<string, string>> },
  ): Promise<HostRunResult>;
  /** Sends a signal to any process; false when it does not exist. */
  signal(pid: number, signal: NodeJS.Signals | 0): boolean;
  /** The effective uid of this process. */
  uid(): number;
  /** The pid of this process (recorded so a later run can sweep what a crashed one left). */
  pid(): number;
  /** The Node binary this process runs, symlinks resolved. */
  nodeBinary(): string;
  /** The environment used for the runtime's own host commands (PATH). */
  commandEnv(): Readonly<Record<string, string>>;
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels it. The timer never keeps the process alive. */
  timer(ms: number, fn: () => void): () => void;
  /** An HTTP(S) GET's status code (HTTPS without certificate checks, as the kubelet probes). */
  httpGet(url: string, timeoutMs: number): Promise<number>;
  /** Resolves when a TCP connection to host:port opens (and closes it). */
  tcpConnect(host: string, port: number, timeoutMs: number): Promise<void>;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function openOutput(output: HostOutput | undefined): "ignore" | "pipe" | "inherit" | number {
  if (output === undefined || output === "ignore") return "ignore";
  if (output === "pipe" || output === "inherit") return output;
  return openSync(output.appendTo, "a", 0o644);
}

const nodeFs: HostFileSystem = {
  async mkdir(path, mode) {
    await fsp.mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
  },
  async writeFile(path, data, mode) {
    await fsp.writeFile(path, data, mode === undefined ? {} : { mode });
    if (mode !== undefined) await fsp.chmod(path, mode);
  },
  async appendFile(path, data) {
    await fsp.appendFile(path, data);
  },
  async readFile(path) {
    try {
      return await fsp.readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  },
  readTextSync(path) {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  },
  async rm(path) {
    await fsp.rm(path, { recursive: true, force: true });
  },
  async rename(from, to) {
    await fsp.rename(from, to);
  },
  async symlink(target, path) {
    await fsp.symlink(target, path);
  },
  async link(existing, path) {
    await fsp.link(existing, path);
  },
  async readlink(path) {
    return fsp.readlink(path);
  },
  async lstat(path) {
    try {
      const s = await fsp.lstat(path);
      const type = s.isSymbolicLink() ? "symlink" : s.isDirectory() ? "directory" : s.isFile() ? "file" : "other";
      return { type, mode: s.mode & 0o7777 };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw error;
    }
  },
  async readdir(path) {
    return fsp.readdir(path);
  },
  async chmod(path, mode) {
    await fsp.chmod(path, mode);
  },
  async realpath(path) {
    return fsp.realpath(path);
  },
};

export const nodeHost: Host = {
  fs: nodeFs,
  spawn(argv, options) {
    const [file, ...args] = argv;
    if (file === undefined) throw new TypeError("spawn: empty argv");
    const stdout = openOutput(options.stdout);
    let stderr: "ignore" | "pipe" | "inherit" | number;
    try {
      stderr = openOutput(options.stderr);
    } catch (error) {
      if (typeof stdout === "number") closeSync(stdout);
      throw error;
    }
    try {
      const child = spawn(file, args, {
        env: { ...options.env },
        stdio: [options.stdin ?? "ignore", stdout, stderr],
        detached: options.ownProcessGroup === true,
      });
      const exited = new Promise<HostExit>((resolve) => {
        child.once("error", () => resolve({ code: 127, signal: null }));
        child.once("exit", (code, signal) => resolve({ code, signal }));
      });
      return {
        pid: child.pid ?? -1,
        exited,
        stdout: child.stdout ?? undefined,
        stderr: child.stderr ?? undefined,
        kill(signal = "SIGTERM") {
          try {
            child.kill(signal);
          } catch {
            // already gone
          }
        },
      };
    } finally {
      // The child holds its own copies of the log descriptors.
      if (typeof stdout === "number") closeSync(stdout);
      if (typeof stderr === "number") closeSync(stderr);
    }
  },
  run(argv, options = {}) {
    return new Promise((resolve) => {
      const [file, ...args] = argv;
      if (file === undefined) throw new TypeError("run: empty argv");
      const child = spawn(file, args, {
        env: { ...(options.env ?? { PATH: process.env.PATH ?? DEFAULT_PATH }) },
        stdio: ["pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.once("error", (error) =>
        resolve({ code: 127, stdout: "", stderr: `${file}: ${(error as Error).message}` }),
      );
      child.once("close", (code, signal) =>
        resolve({
          code: code ?? (signal === null ? 1 : 128),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
      child.stdin.on("error", () => {});
      child.stdin.end(options.input ?? "");
    });
  },
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  },
  uid: () => (typeof process.geteuid === "function" ? process.geteuid() : -1),
  pid: () => process.pid,
  nodeBinary: () => realpathSync(process.execPath),
  commandEnv: () => ({ PATH: process.env.PATH ?? DEFAULT_PATH }),
  now: () => Date.now(),
  timer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
  httpGet(url, timeoutMs) {
    return new Promise((resolve, reject) => {
      const get = url.startsWith("https:") ? https.get : http.get;
      const req = get(url, { timeout: timeoutMs, rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.once("error", reject);
    });
  },
  tcpConnect(host, port, timeoutMs) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, timeout: timeoutMs });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("timeout", () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)));
      socket.once("error", reject);
    });
  },
};
