import { EventEmitter } from "node:events";
import type { Logger } from "@contrast/core";
import { inNetns, mustRun } from "./commands.js";
import { ContainerRunner } from "./container.js";
import { LocalrunError } from "./errors.js";
import { NSSWITCH_CONF, renderGroup, renderPasswd, renderResolvConf } from "./etc-files.js";
import type { Host, HostProcess } from "./host.js";
import { capabilityNames, containerScript, type HostLayout, type LaunchMount } from "./launch.js";
import type { PodCondition, PodEvent, PodPhase, PodStatus, PodToRun, RunningPod, RuntimeContainer } from "./types.js";

/** What a pod needs of its cluster. */
export interface PodContext {
  readonly host: Host;
  readonly log: Logger;
  readonly layout: HostLayout;
  readonly rootless: boolean;
  /** The holder of the node namespace (the bridge). */
  readonly nodePid: number;
  /** Writes this pod's hosts file from the cluster's services (called when the pod exists). */
  refreshHosts(): Promise<void>;
  /** The pod has stopped: release its address and remove it from cluster DNS. */
  released(pod: Pod): void;
}

const STOP_GRACE_MS = 3000;

/** The sandbox of a pod: a process holding its network and UTS namespaces (the pause role). */
export interface Sandbox {
  readonly process: HostProcess;
  readonly ip: string;
  /** The veth's name on the bridge side, in the node namespace. */
  readonly veth: string;
}

export class Pod extends EventEmitter implements RunningPod {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly startedAt: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly hostname: string;
  private readonly runners: ContainerRunner[];
  private readonly changes = new EventEmitter();
  private initialized = false;
  private mainsStarted = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly ctx: PodContext,
    readonly spec: PodToRun,
    readonly dir: string,
    private readonly sandbox: Sandbox,
  ) {
    super();
    this.name = spec.name;
    this.namespace = spec.namespace;
    this.ip = sandbox.ip;
    this.startedAt = ctx.host.now();
    this.labels = spec.admission.labels;
    this.hostname = spec.admission.hostname;
    this.changes.setMaxListeners(0);
    this.runners = spec.admission.containers.map(
      (c) =>
        new ContainerRunner(c, {
          host: ctx.host,
          log: ctx.log,
          podName: spec.name,
          podIp: sandbox.ip,
          prepare: (container) => this.prepare(container),
          logFile: (container) => this.logFile(container),
          execIn: (pid, container, command, timeoutMs) => this.execIn(pid, container, command, timeoutMs),
          emit: (event) => this.emitEvent(event),
          changed: () => this.changes.emit("change"),
        }),
    );
  }

  /** Writes the pod's /etc files and volumes, then starts its containers in the kubelet's order. */
  async start(): Promise<void> {
    const etc = `${this.dir}/etc`;
    const ids = this.spec.admission.containers.map((c) => c.user);
    await this.ctx.host.fs.writeFile(`${etc}/hostname`, `${this.hostname}\n`);
    await this.ctx.host.fs.writeFile(`${etc}/resolv.conf`, renderResolvConf(this.namespace));
    await this.ctx.host.fs.writeFile(`${etc}/passwd`, renderPasswd(ids));
    await this.ctx.host.fs.writeFile(`${etc}/group`, renderGroup(ids));
    await this.ctx.host.fs.writeFile(`${etc}/nsswitch.conf`, NSSWITCH_CONF);
    await this.ctx.refreshHosts();
    for (const volume of this.spec.admission.volumes) {
      if (volume.kind === "emptyDir") await this.ctx.host.fs.mkdir(`${this.dir}/volumes/${volume.name}`, 0o777);
      else if (volume.kind === "claim") await this.ctx.host.fs.mkdir(this.spec.claimDir(volume.claim));
      else {
        const base = `${this.dir}/volumes/${volume.name}`;
        await this.ctx.host.fs.mkdir(base, 0o755);
        for (const [file, content] of Object.entries(volume.files)) {
          const clean = file.split("/").filter((p) => p !== "" && p !== ".");
          if (clean.some((p) => p === ".."))
            throw specInvalid(`volume ${volume.name} has a file path ${JSON.stringify(file)} that leaves it`);
          const path = `${base}/${clean.join("/")}`;
          await this.ctx.host.fs.mkdir(path.slice(0, path.lastIndexOf("/")));
          await this.ctx.host.fs.writeFile(path, content, 0o644);
        }
      }
    }
    // On the next turn: a caller that attaches its listener when runPod resolves sees every event.
    this.ctx.host.timer(0, () => {
      this.emitEvent({ type: "sandbox-started", pod: this.name, ip: this.ip });
      const denial = this.spec.admission.denial;
      if (!this.spec.admission.allowed) {
        this.emitEvent({
          type: "blocked",
          pod: this.name,
          container: denial?.container,
          request: denial?.request ?? "CreateContainerRequest",
          text: denial?.text ?? "the agent policy denied a request of this pod",
        });
      }
      void this.runSequence();
    });
  }

  private async runSequence(): Promise<void> {
    for (const runner of this.runners) {
      if (this.stopped) return;
      if (runner.spec.role === "init") {
        await runner.start();
        if (!(await runner.completion())) return;
      } else if (runner.spec.role === "sidecar") {
        await runner.start();
        if (!(await runner.startup())) return;
      }
    }
    if (this.stopped) return;
    this.initialized = true;
    this.changes.emit("change");
    for (const runner of this.runners) if (runner.spec.role === "main") await runner.start();
    this.mainsStarted = true;
    this.changes.emit("change");
  }

  private emitEvent(event: PodEvent): void {
    this.ctx.log.debug(`localrun: ${event.type}`, { ...event });
    this.emit("event", event);
    this.changes.emit("change");
  }

  logFile(container: string): string {
    return `${this.dir}/${container}.log`;
  }

  private runner(container: string): ContainerRunner {
    const runner = this.runners.find((r) => r.spec.name === container);
    if (runner === undefined) {
      throw new LocalrunError(
        "LOCALRUN_CONTAINER_UNKNOWN",
        `pod ${this.namespace}/${this.name} has no container ${JSON.stringify(container)}`,
        {
          hint: `Use one of: ${this.runners.map((r) => r.spec.name).join(", ") || "(none admitted)"}.`,
        },
      );
    }
    return runner;
  }

  status(): PodStatus {
    const containers = this.runners.map((r) => r.status());
    const denial = this.spec.admission.denial;
    const blocked = !this.spec.admission.allowed;
    const serving = this.runners.filter((r) => r.spec.role !== "init");
    const ready =
      !blocked &&
      !this.stopped &&
      this.initialized &&
      this.mainsStarted &&
      serving.length > 0 &&
      serving.every((r) => r.state.state === "running" && r.ready);
    let phase: PodPhase;
    const mains = this.runners.filter((r) => r.spec.role === "main");
    if (this.stopped) phase = "Stopped";
    else if (blocked) phase = "Blocked";
    else if (
      this.runners.some((r) => r.final && !r.succeeded && (r.spec.role === "init" || r.spec.restartPolicy === "Never"))
    )
      phase = "Failed";
    else if (this.mainsStarted && mains.length > 0 && mains.every((r) => r.final))
      phase = mains.every((r) => r.succeeded) ? "Succeeded" : "Failed";
    else if (this.mainsStarted) phase = "Running";
    else phase = "Pending";
    return {
      phase,
      ip: this.ip,
      initialized: this.initialized,
      ready,
      containers,
      ...(blocked
        ? {
            blocked: {
              request: denial?.request ?? "CreateContainerRequest",
              ...(denial?.container === undefined ? {} : { container: denial.container }),
              reasons: denial?.reasons ?? [],
              text: denial?.text ?? "the agent policy denied a request of this pod",
            },
          }
        : {}),
    };
  }

  waitFor(condition: PodCondition, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let cancelTimer: (() => void) | undefined;
      const finish = (error?: Error): void => {
        this.changes.off("change", check);
        cancelTimer?.();
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = (): void => {
        const s = this.status();
        const holds =
          condition === "Initialized"
            ? s.initialized
            : condition === "Ready"
              ? s.ready
              : condition === "Succeeded"
                ? s.phase === "Succeeded"
                : s.phase === "Running" || s.phase === "Succeeded";
        if (holds) {
          finish();
          return;
        }
        const error = this.unreachable(s, condition);
        if (error !== undefined) finish(error);
      };
      cancelTimer = this.ctx.host.timer(timeoutMs, () => {
        const s = this.status();
        const tails = Object.fromEntries(this.runners.map((r) => [r.spec.name, tail(this.logs(r.spec.name), 20)]));
        const lastLines = this.runners
          .filter((r) => !r.ready)
          .map((r) => `${r.spec.name}: ${tail(this.logs(r.spec.name).trimEnd(), 0) || "(no output)"}`)
          .join("; ");
        finish(
          new LocalrunError(
            "LOCALRUN_POD_TIMEOUT",
            `pod ${this.namespace}/${this.name} was not ${condition} within ${timeoutMs} ms (${describe(s)}); last output: ${lastLines}`,
            {
              kind: "io",
              hint: `Read the container logs in ${this.dir}; the details list each container's state.`,
              details: { containers: s.containers, logTails: tails },
            },
          ),
        );
      });
      this.changes.on("change", check);
      check();
    });
  }

  /** Why a condition can no longer hold, or undefined while it still may. */
  private unreachable(s: PodStatus, condition: PodCondition): LocalrunError | undefined {
    if (s.phase === "Blocked") {
      return new LocalrunError(
        "LOCALRUN_POD_BLOCKED",
        `pod ${this.namespace}/${this.name} is blocked by its policy: ${s.blocked?.text ?? ""}`,
        {
          kind: "policy",
          hint: "Run `contrast policy check` on the deployed YAML to see why, then regenerate the policy or restore the YAML.",
          details: { pod: this.name, namespace: this.namespace, blocked: s.blocked },
        },
      );
    }
    if (s.phase === "Stopped") {
      return new LocalrunError(
        "LOCALRUN_POD_STOPPED",
        `pod ${this.namespace}/${this.name} was stopped before it was ${condition}`,
        {
          hint: "Start the pod again.",
        },
      );
    }
    if (s.phase === "Failed" || (condition !== "Running" && s.phase === "Succeeded")) {
      return new LocalrunError(
        "LOCALRUN_POD_FAILED",
        `pod ${this.namespace}/${this.name} ${s.phase === "Failed" ? "failed" : "completed"} and will not be ${condition}`,
        {
          kind: "io",
          hint: `Read the container logs in ${this.dir}.`,
          details: { containers: s.containers },
        },
      );
    }
    return undefined;
  }

  logs(container: string): string {
    this.runner(container);
    return this.ctx.host.fs.readTextSync(this.logFile(container)) ?? "";
  }

  kill(container: string, signal: NodeJS.Signals = "SIGKILL"): void {
    this.runner(container).kill(signal);
  }

  async restartContainer(container: string): Promise<void> {
    if (this.stopped) {
      throw new LocalrunError("LOCALRUN_POD_STOPPED", `pod ${this.namespace}/${this.name} is stopped`, {
        hint: "Start the pod again.",
      });
    }
    await this.runner(container).restartNow();
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    this.changes.emit("change");
    // Mains first, then sidecars in reverse order of their start, as the kubelet terminates a
    // pod: the mesh proxy outlives the app it serves.
    await Promise.all(this.runners.filter((r) => r.spec.role !== "sidecar").map((r) => r.stop(STOP_GRACE_MS)));
    for (const r of this.runners.filter((r) => r.spec.role === "sidecar").reverse()) await r.stop(STOP_GRACE_MS);
    this.sandbox.process.kill("SIGKILL");
    await this.sandbox.process.exited;
    // The veth would go with the namespace, but asynchronously; its name and address are reused.
    await this.ctx.host.run(inNetns(this.ctx.nodePid, ["ip", "link", "del", this.sandbox.veth]), {
      env: this.ctx.host.commandEnv(),
    });
    this.ctx.released(this);
    this.emitEvent({ type: "stopped", pod: this.name });
  }

  /** Directories and the setup script of one container start; returns the argv that runs it. */
  private async prepare(container: RuntimeContainer): Promise<readonly string[]> {
    if (container.args.length === 0) throw specInvalid(`container ${container.name} has no command`);
    if ((container.args[0] ?? "").includes("=")) {
      throw specInvalid(`container ${container.name}'s program ${JSON.stringify(container.args[0])} contains "="`);
    }
    const mounts: LaunchMount[] = [];
    for (const vm of container.volumeMounts) {
      const volume = this.spec.admission.volumes.find((v) => v.name === vm.name);
      if (volume === undefined)
        throw specInvalid(`container ${container.name} mounts volume ${vm.name}, which the pod does not define`);
      if (!vm.mountPath.startsWith("/"))
        throw specInvalid(`container ${container.name} mounts ${vm.name} at a relative path ${vm.mountPath}`);
      const base = volume.kind === "claim" ? this.spec.claimDir(volume.claim) : `${this.dir}/volumes/${volume.name}`;
      const sub = (vm.subPath ?? "").split("/").filter((p) => p !== "" && p !== ".");
      if (sub.includes(".."))
        throw specInvalid(`container ${container.name}: subPath ${vm.subPath} leaves volume ${vm.name}`);
      const source = sub.length === 0 ? base : `${base}/${sub.join("/")}`;
      let stat = await this.ctx.host.fs.lstat(source);
      if (stat === undefined) {
        await this.ctx.host.fs.mkdir(source, 0o777); // the kubelet creates a missing subPath as a directory
        stat = await this.ctx.host.fs.lstat(source);
      }
      if (stat?.type === "symlink") throw specInvalid(`container ${container.name}: ${source} is a symlink`);
      mounts.push({
        source,
        target: vm.mountPath,
        readOnly: vm.readOnly || volume.kind === "files",
        file: stat?.type === "file",
      });
    }
    const simDir = this.spec.vmEnv.CONTRAST_SIM_DIR;
    const extra = [...(this.spec.extraMounts ?? [])];
    if (simDir !== undefined && !extra.some((m) => m.mountPath === simDir))
      extra.push({ hostPath: simDir, mountPath: simDir, readOnly: true });
    for (const m of extra) {
      const stat = await this.ctx.host.fs.lstat(m.hostPath);
      if (stat === undefined)
        throw specInvalid(`the host path ${m.hostPath} to mount at ${m.mountPath} does not exist`);
      mounts.push({ source: m.hostPath, target: m.mountPath, readOnly: m.readOnly, file: stat.type === "file" });
    }
    const imageDir = await this.spec.rootfsFor(container.image);
    const cdir = `${this.dir}/containers/${container.name}`;
    await this.ctx.host.fs.mkdir(`${cdir}/root`, 0o755);
    await this.ctx.host.fs.mkdir(`${cdir}/scratch`, 0o700);
    if (this.ctx.rootless && (container.user.uid !== 0 || container.user.gid !== 0)) {
      this.ctx.log.warn("localrun: without root only uid 0 exists in the user namespace; the container runs as root", {
        pod: this.name,
        container: container.name,
        uid: container.user.uid,
      });
    }
    const env = [...container.env, ...Object.entries(this.spec.vmEnv).map(([k, v]) => `${k}=${v}`)];
    let capabilities: string[] | undefined;
    if (container.capabilities !== undefined && container.privileged !== true) {
      const names = capabilityNames(container.capabilities);
      if (names.unknown.length > 0) {
        this.ctx.log.warn("localrun: capabilities Linux does not define are left out", {
          pod: this.name,
          container: container.name,
          capabilities: names.unknown,
        });
      }
      capabilities = names.known;
    }
    const script = containerScript({
      ...(capabilities === undefined ? {} : { capabilities }),
      imageDir,
      rootDir: `${cdir}/root`,
      scratchDir: `${cdir}/scratch`,
      podEtcDir: `${this.dir}/etc`,
      layout: this.ctx.layout,
      rootless: this.ctx.rootless,
      mounts,
      cwd: container.cwd.startsWith("/") ? container.cwd : "/",
      uid: container.user.uid,
      gid: container.user.gid,
      env,
      args: container.args,
    });
    await this.ctx.host.fs.writeFile(`${cdir}/start.sh`, script, 0o700);
    const pid = this.sandbox.process.pid;
    return [
      "setpriv",
      "--pdeathsig",
      "KILL",
      "--",
      "nsenter",
      `--net=/proc/${pid}/ns/net`,
      `--uts=/proc/${pid}/ns/uts`,
      "--",
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      `${cdir}/start.sh`,
    ];
  }

  /** An exec into a running container (exec probes): its namespaces, root, cwd and environment. */
  private async execIn(
    pid: number,
    container: RuntimeContainer,
    command: readonly string[],
    timeoutMs: number,
  ): Promise<number> {
    // Until the setup script has chrooted, the process's root is the host's: never exec there.
    const root = await this.ctx.host.fs.readlink(`/proc/${pid}/root`).catch(() => "/");
    if (root === "/") return 1;
    const env = [...container.env, ...Object.entries(this.spec.vmEnv).map(([k, v]) => `${k}=${v}`)];
    const child = this.ctx.host.spawn(
      ["nsenter", "-t", String(pid), "-n", "-m", "-u", "-r", "-w", "--", "/usr/bin/env", "-i", ...env, ...command],
      { env: this.ctx.host.commandEnv(), stdout: "ignore", stderr: "ignore" },
    );
    const cancel = this.ctx.host.timer(timeoutMs, () => child.kill("SIGKILL"));
    const exit = await child.exited;
    cancel();
    return exit.code ?? 1;
  }
}

function specInvalid(message: string): LocalrunError {
  return new LocalrunError("LOCALRUN_POD_SPEC_INVALID", message, {
    hint: "Fix the workload's YAML; every volumeMount needs a volume of the same name and absolute paths.",
  });
}

function tail(text: string, lines: number): string {
  return text
    .split("\n")
    .slice(-lines - 1)
    .join("\n");
}

function describe(s: PodStatus): string {
  return s.containers
    .map(
      (c) =>
        `${c.name}: ${c.current.state}${c.current.state === "waiting" ? ` ${c.current.reason}` : ""}${c.restartCount > 0 ? `, ${c.restartCount} restarts` : ""}`,
    )
    .join("; ");
}

/** Starts a sandbox holder and wires its veth to the bridge; `mustRun` errors propagate. */
export async function startSandbox(
  host: Host,
  log: Logger,
  options: {
    readonly nodePid: number;
    readonly bridge: string;
    readonly vethName: string;
    readonly ip: string;
    readonly prefixBits: number;
    readonly gateway: string;
    readonly hostname: string;
  },
): Promise<Sandbox> {
  const script = [
    "ip link set lo up || exit 1",
    // sethostname(2), not /proc/sys: in a user namespace that file belongs to the real root.
    'hostname "$1" || exit 1',
    "echo ready",
    "exec sleep infinity",
  ].join("\n");
  const process = await spawnHolder(host, [
    "unshare",
    "--net",
    "--uts",
    "--",
    "/bin/sh",
    "-c",
    script,
    "sandbox",
    options.hostname,
  ]);
  try {
    await mustRun(
      host,
      log,
      inNetns(options.nodePid, [
        "ip",
        "link",
        "add",
        options.vethName,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        String(process.pid),
      ]),
    );
    await mustRun(
      host,
      log,
      inNetns(options.nodePid, ["ip", "link", "set", options.vethName, "master", options.bridge, "up"]),
    );
    await mustRun(
      host,
      log,
      inNetns(process.pid, ["ip", "-batch", "-"]),
      `addr add ${options.ip}/${options.prefixBits} dev eth0\nlink set eth0 up\nroute add default via ${options.gateway}\n`,
    );
  } catch (error) {
    process.kill("SIGKILL");
    await process.exited;
    throw error;
  }
  return { process, ip: options.ip, veth: options.vethName };
}

/**
 * Spawns a namespace holder (`setpriv --pdeathsig KILL`: it dies with this process even on a
 * crash) and waits for its "ready" line, printed once its namespaces are set up.
 */
export async function spawnHolder(host: Host, argv: readonly string[]): Promise<HostProcess> {
  const child = host.spawn(["setpriv", "--pdeathsig", "KILL", "--", ...argv], {
    env: host.commandEnv(),
    stdout: "pipe",
    stderr: "pipe",
    ownProcessGroup: true,
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
  });
  const ready = await new Promise<boolean>((resolve) => {
    let out = "";
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      if (out.includes("ready\n")) resolve(true);
    });
    void child.exited.then(() => resolve(false));
  });
  if (!ready) {
    const exit = await child.exited;
    throw new LocalrunError(
      "LOCALRUN_SANDBOX_FAILED",
      `a namespace holder exited ${exit.code ?? exit.signal}: ${stderr.trim()}`,
      {
        kind: "io",
        hint: "Check that namespaces can be created here (unshare --net true) and read the message.",
        details: { argv },
      },
    );
  }
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}
