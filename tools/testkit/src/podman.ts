import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ExecResult } from "./netns.js";
import { collectLogs, type LoggedProcess, type LogLine } from "./processes.js";

/**
 * Podman (rootful, Debian 12's 4.3.1) for tests that run the project's images as containers.
 *
 * Each `Podman` instance is a world of its own under one scratch directory: its own
 * containers.conf (passed with CONTAINERS_CONF, so /etc/containers stays untouched), storage
 * (`--root`/`--runroot`), lock files, events log, network and volume directories, registries.conf
 * and signature policy. Test files running in parallel therefore never see each other's images or
 * containers, and `destroy()` removes everything it made. The settings are the ones that work on
 * these machines (docs/images.md, "Running the images with podman"): runc (crun fails on the
 * hybrid cgroup hierarchy), cgroupfs (no systemd), the k8s-file log driver, a file events logger
 * and ulimits no higher than this process's hard limits (root here lacks CAP_SYS_RESOURCE, and
 * podman's defaults fail with "error setting rlimit").
 */

const live = new Set<Podman>();
let exitHookInstalled = false;
let availability: { ok: true } | { ok: false; reason: string } | undefined;

/**
 * Whether podman can run containers here: `{ ok: true }`, or the reason it cannot (not Linux, not
 * root, podman, runc or conmon missing), for `it.skipIf` messages. CI installs podman, so there it
 * runs.
 */
export function podmanAvailable(): { ok: true } | { ok: false; reason: string } {
  availability ??= probe();
  return availability;
}

function probe(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== "linux") return { ok: false, reason: `podman tests need Linux, not ${process.platform}` };
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return { ok: false, reason: "the podman tests run rootful podman; run them as root, as CI does" };
  }
  for (const [tool, args] of [
    ["podman", ["--version"]],
    ["runc", ["--version"]],
    ["conmon", ["--version"]],
  ] as const) {
    const r = spawnSync(tool, args, { encoding: "utf8" });
    if (r.error !== undefined || r.status !== 0) {
      return {
        ok: false,
        reason: `${tool} is missing (${r.error?.message ?? r.stderr.trim()}); apt-get install podman runc conmon catatonit, as .ci/run does`,
      };
    }
  }
  return { ok: true };
}

/** This process's hard limits for open files and processes (what `ulimit -Hn` / `ulimit -Hu` print). */
export function hardLimits(limitsText = readFileSync("/proc/self/limits", "utf8")): {
  nofile: number;
  nproc: number;
} {
  const hard = (label: string, fallback: number): number => {
    const line = limitsText.split("\n").find((l) => l.startsWith(label));
    const field = line?.slice(label.length).trim().split(/\s+/)[1];
    if (field === undefined) return fallback;
    return field === "unlimited" ? Number.POSITIVE_INFINITY : Number(field);
  };
  return { nofile: hard("Max open files", 1024), nproc: hard("Max processes", 1024) };
}

/** Where one instance keeps its state; all under `dir`. */
export interface PodmanPaths {
  readonly dir: string;
  readonly root: string;
  readonly runroot: string;
  readonly tmp: string;
  readonly containersConf: string;
  readonly storageConf: string;
  readonly registriesConf: string;
  readonly policy: string;
}

export function podmanPaths(dir: string): PodmanPaths {
  return {
    dir,
    root: join(dir, "root"),
    runroot: join(dir, "runroot"),
    tmp: join(dir, "tmp"),
    containersConf: join(dir, "containers.conf"),
    storageConf: join(dir, "storage.conf"),
    registriesConf: join(dir, "registries.conf"),
    policy: join(dir, "policy.json"),
  };
}

// Root's RLIMIT_NPROC counts every process and thread of uid 0 on the host; a low container limit
// makes Node's threads fail to start on a busy machine, so the container gets as much as it may:
// the hard limit, but no more than the 32768 podman 4.3 sets for itself and so for conmon and runc
// (measured: 32768 runs, 50000 fails with "error setting rlimit type 6" under a hard limit of 96367).
const MAX_NOFILE = 1_048_576;
const MAX_NPROC = 32_768;

/** The containers.conf text for an instance under `paths`, with ulimits at the given hard limits. */
export function podmanContainersConf(paths: PodmanPaths, limits: { nofile: number; nproc: number }): string {
  const nofile = Math.min(limits.nofile, MAX_NOFILE);
  const nproc = Math.min(limits.nproc, MAX_NPROC);
  const q = (s: string) => JSON.stringify(s);
  return `# Written by @contrast/testkit's podman helper for one test run.
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = ${q(join(paths.dir, "events.log"))}
# File locks under tmp_dir: the default shared-memory locks are one segment for every podman on the
# machine, and a fresh tmp_dir's first command frees all of them.
lock_type = "file"
tmp_dir = ${q(paths.tmp)}
volume_path = ${q(join(paths.dir, "volumes"))}
# conmon runs podman again when a container exits (cleanup); it must read this same configuration.
conmon_env_vars = [${q(`PATH=${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`)}, ${q(`CONTAINERS_CONF=${paths.containersConf}`)}, ${q(`CONTAINERS_STORAGE_CONF=${paths.storageConf}`)}]

[network]
network_backend = "cni"
network_config_dir = ${q(join(paths.dir, "networks"))}
`;
}

/** A container to start: the image (ID or name) and what `podman run` gets. */
export interface PodmanRunSpec {
  readonly image: string;
  /** Arguments after the image (the entrypoint's arguments). */
  readonly args?: readonly string[];
  readonly name?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Bind mounts from the host. */
  readonly mounts?: readonly { source: string; target: string; readonly?: boolean }[];
  /** `host` (default: the tests talk to it on 127.0.0.1) or `none`. */
  readonly network?: "host" | "none";
  readonly entrypoint?: readonly string[];
  readonly user?: string;
  /** Further `podman run` flags, placed before the image. */
  readonly flags?: readonly string[];
}

/** A container started with `podman run -d`, its stderr collected from `podman logs -f`. */
export interface PodmanContainer {
  readonly id: string;
  readonly name: string;
  /** stderr log lines as they come (JSON where they are); `exited` resolves when the logs end. */
  readonly logs: LoggedProcess;
  /** Waits for the container to exit; resolves with its exit code. */
  wait(timeoutMs?: number): Promise<number>;
  /** `podman stop -t <seconds>`: SIGTERM, then SIGKILL after the grace period. */
  stop(seconds?: number): Promise<void>;
  /** `podman inspect`'s object for the container. */
  inspect(): Promise<Record<string, unknown>>;
  /** stdout and stderr so far, as `podman logs` prints them. */
  output(): Promise<ExecResult>;
  /** Removes the container (killed first if running); idempotent. */
  remove(): Promise<void>;
}

export interface PodmanExecOptions {
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
  readonly input?: string | Buffer;
}

/** One private podman world under a scratch directory. Call `destroy()` when done (afterAll). */
export class Podman {
  private destroyed = false;
  private counter = 0;
  private readonly containers = new Set<string>();

  private constructor(readonly paths: PodmanPaths) {}

  /** Writes the configuration under `dir` (default: a fresh temporary directory). */
  static create(options: { dir?: string } = {}): Podman {
    const avail = podmanAvailable();
    if (!avail.ok) throw new Error(avail.reason);
    sweepOrphans();
    // Lower case only: podman 4.3 turns layout paths under it into image names (pullOci).
    const dir = options.dir ?? join(tmpdir(), `${PREFIX}${process.pid}-${randomBytes(4).toString("hex")}`);
    mkdirSync(dir, { recursive: true });
    const paths = podmanPaths(dir);
    for (const d of [paths.root, paths.runroot, paths.tmp, join(dir, "networks"), join(dir, "volumes")]) {
      mkdirSync(d, { recursive: true });
    }
    writeFileSync(paths.containersConf, podmanContainersConf(paths, hardLimits()));
    writeFileSync(
      paths.storageConf,
      `[storage]\ndriver = "overlay"\ngraphroot = ${JSON.stringify(paths.root)}\nrunroot = ${JSON.stringify(paths.runroot)}\n`,
    );
    // No short-name lookups: an image name the tests get wrong must fail, not go to a registry.
    writeFileSync(paths.registriesConf, 'unqualified-search-registries = []\nshort-name-mode = "enforcing"\n');
    writeFileSync(paths.policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    const podman = new Podman(paths);
    live.add(podman);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("exit", () => {
        for (const p of live) p.destroySync();
      });
    }
    return podman;
  }

  /** The environment podman runs with: only PATH and HOME from ours, plus the private configuration. */
  get env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: process.env.HOME ?? "/root",
      CONTAINERS_CONF: this.paths.containersConf,
      CONTAINERS_STORAGE_CONF: this.paths.storageConf,
      CONTAINERS_REGISTRIES_CONF: this.paths.registriesConf,
    };
  }

  /** The global flags every command gets (the storage is named on the command line too, for clarity in logs). */
  get globalArgs(): string[] {
    return ["--root", this.paths.root, "--runroot", this.paths.runroot];
  }

  /** Runs `podman <args>`; rejects with its stderr on a non-zero exit unless `allowFailure`. */
  exec(args: readonly string[], options: PodmanExecOptions = {}): Promise<ExecResult> {
    if (this.destroyed) return Promise.reject(new Error("this Podman was destroyed"));
    return new Promise((resolve, reject) => {
      const proc = spawn("podman", [...this.globalArgs, ...args], {
        env: this.env,
        stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      proc.stdout?.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
      });
      proc.stderr?.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
      });
      if (options.input !== undefined) proc.stdin?.end(options.input);
      const timeoutMs = options.timeoutMs ?? 120_000;
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      proc.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      proc.on("close", (code, signal) => {
        clearTimeout(timer);
        const status = code ?? 128;
        if (status !== 0 && options.allowFailure !== true) {
          reject(
            new Error(
              `podman ${args.join(" ")} failed (${signal ?? status}${signal === "SIGKILL" ? `, killed after ${timeoutMs} ms` : ""}):\n${stderr}${stdout}`,
            ),
          );
        } else resolve({ code: status, stdout, stderr });
      });
    });
  }

  /**
   * Copies the image `name` of an OCI image layout into this instance's storage (`podman pull
   * oci:<layout>:<name>`) and tags it `localhost/<name>:<tag>`; resolves with the image ID.
   */
  async pullOci(layout: string, name: string, tag = "test"): Promise<string> {
    // Podman 4.3 names an image pulled from a layout after the layout's path, which must then be
    // a valid (lower-case) repository name: pull through a link of such a name, then rename.
    const links = join(this.paths.dir, "layouts");
    mkdirSync(links, { recursive: true });
    const link = join(links, String(++this.counter));
    symlinkSync(resolve(layout), link);
    const r = await this.exec(["pull", "-q", "--signature-policy", this.paths.policy, `oci:${link}:${name}`]);
    const id = lastLine(r.stdout);
    await this.exec(["tag", id, `localhost/${name}:${tag}`]);
    await this.exec(["untag", id, `localhost${link}:latest`]);
    return id;
  }

  /** Pulls from a registry over plain HTTP (a test's LocalRegistry); resolves with the image ID. */
  async pullInsecure(reference: string, credentials?: { user: string; password: string }): Promise<string> {
    const auth = credentials === undefined ? [] : ["--creds", `${credentials.user}:${credentials.password}`];
    const r = await this.exec([
      "pull",
      "-q",
      "--tls-verify=false",
      "--signature-policy",
      this.paths.policy,
      ...auth,
      `docker://${reference}`,
    ]);
    return lastLine(r.stdout);
  }

  /** `podman run --rm` in the foreground: resolves with its exit code and output. */
  run(spec: PodmanRunSpec, options: PodmanExecOptions = {}): Promise<ExecResult> {
    return this.exec(["run", "--rm", ...this.runFlags(spec), spec.image, ...(spec.args ?? [])], {
      allowFailure: true,
      ...options,
    });
  }

  /** `podman run -d`: resolves once the container runs, with its logs followed. */
  async start(spec: PodmanRunSpec): Promise<PodmanContainer> {
    const name = spec.name ?? `ctk-${++this.counter}`;
    const r = await this.exec(["run", "-d", "--name", name, ...this.runFlags(spec), spec.image, ...(spec.args ?? [])]);
    const id = lastLine(r.stdout);
    this.containers.add(id);
    const follower = spawn("podman", [...this.globalArgs, "logs", "-f", id], {
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const logs = collectLogs(follower);
    return {
      id,
      name,
      logs,
      wait: async (timeoutMs = 120_000) => {
        const w = await this.exec(["wait", id], { timeoutMs });
        return Number(lastLine(w.stdout));
      },
      stop: async (seconds = 10) => {
        await this.exec(["stop", "-t", String(seconds), id], { timeoutMs: (seconds + 30) * 1000 });
      },
      inspect: async () => {
        const i = await this.exec(["container", "inspect", id]);
        return (JSON.parse(i.stdout) as Record<string, unknown>[])[0] as Record<string, unknown>;
      },
      output: () => this.exec(["logs", id]),
      remove: async () => {
        follower.kill();
        await this.exec(["rm", "-f", "-t", "0", "--ignore", id]);
        this.containers.delete(id);
      },
    };
  }

  private runFlags(spec: PodmanRunSpec): string[] {
    const flags = ["--pull", "never", "--network", spec.network ?? "host"];
    for (const m of spec.mounts ?? []) flags.push("-v", `${m.source}:${m.target}${m.readonly ? ":ro" : ""}`);
    for (const [k, v] of Object.entries(spec.env ?? {})) flags.push("-e", `${k}=${v}`);
    if (spec.entrypoint !== undefined) flags.push("--entrypoint", JSON.stringify(spec.entrypoint));
    if (spec.user !== undefined) flags.push("--user", spec.user);
    flags.push(...(spec.flags ?? []));
    return flags;
  }

  /** Removes every container and image of this instance and its directory; idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await this.exec(["rm", "-a", "-f", "-t", "0"], { allowFailure: true });
    this.destroySync();
  }

  /** The instance of a dead test process, for the orphan sweep. */
  static orphan(dir: string): Podman {
    return new Podman(podmanPaths(dir));
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    try {
      execFileSync("podman", [...this.globalArgs, "rm", "-a", "-f", "-t", "0"], { env: this.env, stdio: "ignore" });
    } catch {
      // Best effort: what is left mounted is unmounted below.
    }
    // conmon runs `podman container cleanup` when a removed container's process ends, and
    // `podman logs -f` followers end with their containers: until they are gone they write below
    // the directory, and deleting it fails with ENOTEMPTY. Wait for them; kill what outlives that.
    const deadline = Date.now() + 15_000;
    let users = processesUsing(this.paths.dir);
    while (users.length > 0 && Date.now() < deadline) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      users = processesUsing(this.paths.dir);
    }
    for (const pid of users) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    // Not `podman system reset`: should the private configuration ever not apply, it would wipe
    // the machine's own storage. Mounts left under the directory (a container that could not be
    // removed) are detached so that deleting it cannot reach into them.
    for (const mount of mountsUnder(this.paths.dir).reverse()) spawnSync("umount", ["-l", mount], { stdio: "ignore" });
    rmSync(this.paths.dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

const PREFIX = "contrast-podman-";

/**
 * Removes the instances of test processes that died without destroying them (SIGKILL, a crash):
 * their containers still run under conmon and may hold ports of the host network.
 */
function sweepOrphans(): void {
  const pattern = new RegExp(`^${PREFIX}(\\d+)-[0-9a-f]{8}$`);
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    const dir = join(tmpdir(), name);
    // Test files start in parallel: the one that makes this directory first sweeps it.
    try {
      mkdirSync(join(dir, ".sweeping"));
    } catch {
      continue;
    }
    Podman.orphan(dir).destroySync();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Processes (other than this one) whose command line names `dir`: this instance's conmon and podman processes. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`${dir}/`)) pids.push(pid);
    } catch {
      // Exited while being looked at.
    }
  }
  return pids;
}

/** Mount points at or below `dir`, in /proc/self/mountinfo's order (parents first). */
function mountsUnder(dir: string): string[] {
  const unoctal = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => unoctal(l.split(" ")[4] ?? ""))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

const lastLine = (text: string): string => text.trim().split("\n").at(-1)?.trim() ?? "";

export type { LogLine };
