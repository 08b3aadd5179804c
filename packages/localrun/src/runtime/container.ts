import type { Logger } from "@contrast/core";
import type { Host, HostExit, HostProcess } from "./host.js";
import { SETUP_FAILED_EXIT } from "./launch.js";
import { probeOnce } from "./probes.js";
import type { ContainerState, ContainerStatus, PodEvent, RuntimeContainer, RuntimeProbe } from "./types.js";

/** What a container needs of its pod. */
export interface ContainerContext {
  readonly host: Host;
  readonly log: Logger;
  readonly podName: string;
  readonly podIp: string;
  /** Prepares the container's directories and script; returns the argv that starts it. */
  prepare(container: RuntimeContainer): Promise<readonly string[]>;
  readonly logFile: (container: string) => string;
  execIn(pid: number, container: RuntimeContainer, command: readonly string[], timeoutMs: number): Promise<number>;
  emit(event: PodEvent): void;
  /** Called on every state change, so the pod can recompute its conditions. */
  changed(): void;
}

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 10_000;
/** A container that ran this long before exiting restarts without the accumulated backoff. */
const BACKOFF_RESET_MS = 10_000;

/**
 * One container of a pod and its restart loop. Init containers run to completion (and are
 * retried on failure unless the policy is Never); sidecars and mains follow their restart policy
 * with the kubelet's doubling backoff (1 s to 10 s here).
 */
export class ContainerRunner {
  state: ContainerState = { state: "waiting", reason: "PodInitializing" };
  restartCount = 0;
  lastExit: { exitCode: number | undefined; signal: string | undefined } | undefined;
  ready = false;
  /** Passed its startup probe (or has none) in the current run. */
  started = false;
  /** Terminated and will not be restarted. */
  final = false;
  succeeded = false;
  private process: HostProcess | undefined;
  private backoffMs = 0;
  private cancelTimer: (() => void) | undefined;
  private stopping = false;
  private runId = 0;
  private readonly probeCancels: (() => void)[] = [];
  private completionWaiters: ((ok: boolean) => void)[] = [];
  private startWaiters: ((ok: boolean) => void)[] = [];

  constructor(
    readonly spec: RuntimeContainer,
    private readonly ctx: ContainerContext,
  ) {}

  get pid(): number | undefined {
    return this.state.state === "running" ? this.state.pid : undefined;
  }

  status(): ContainerStatus {
    return {
      name: this.spec.name,
      role: this.spec.role,
      current: this.state,
      ready: this.ready,
      restartCount: this.restartCount,
      lastExit: this.lastExit,
    };
  }

  /** Resolves true once the container exited 0 (init containers), false if it never will. */
  completion(): Promise<boolean> {
    if (this.succeeded) return Promise.resolve(true);
    if (this.final || this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => this.completionWaiters.push(resolve));
  }

  /** Resolves true once the container runs and passed its startup probe (sidecars). */
  startup(): Promise<boolean> {
    if (this.started) return Promise.resolve(true);
    if (this.final || this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => this.startWaiters.push(resolve));
  }

  async start(): Promise<void> {
    if (this.stopping) return;
    const runId = ++this.runId;
    let argv: readonly string[];
    try {
      argv = await this.ctx.prepare(this.spec);
    } catch (error) {
      const reason = (error as Error).message;
      await this.ctx.host.fs
        .appendFile(this.ctx.logFile(this.spec.name), `localrun: the container cannot be created: ${reason}\n`)
        .catch(() => {});
      this.ctx.emit({ type: "failed", pod: this.ctx.podName, container: this.spec.name, reason });
      this.onExit(runId, { code: SETUP_FAILED_EXIT, signal: null }, this.ctx.host.now(), false);
      return;
    }
    if (this.stopping || runId !== this.runId) return;
    const startedAt = this.ctx.host.now();
    const child = this.ctx.host.spawn(argv, {
      env: this.ctx.host.commandEnv(),
      stdout: { appendTo: this.ctx.logFile(this.spec.name) },
      stderr: { appendTo: this.ctx.logFile(this.spec.name) },
      // Not in the caller's process group: a Ctrl-C in the terminal reaches the caller alone,
      // which stops the pods in order (mains first, SIGTERM, then SIGKILL).
      ownProcessGroup: true,
    });
    this.process = child;
    this.state = { state: "running", pid: child.pid, startedAt };
    this.ready = false;
    this.started = false;
    this.ctx.log.debug("localrun: container started", {
      pod: this.ctx.podName,
      container: this.spec.name,
      pid: child.pid,
    });
    this.ctx.emit({ type: "started", pod: this.ctx.podName, container: this.spec.name, pid: child.pid });
    this.startProbes(runId, child.pid);
    this.ctx.changed();
    void child.exited.then((exit) => this.onExit(runId, exit, startedAt));
  }

  /** Sends a signal to the running process (no effect when it is not running). */
  kill(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  /** Kills the process now and starts it again at once, counting a restart. */
  async restartNow(): Promise<void> {
    const child = this.process;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const runId = ++this.runId; // the exit of the killed run no longer schedules anything
    this.stopProbes();
    if (child !== undefined && this.state.state === "running") {
      child.kill("SIGKILL");
      const exit = await child.exited;
      this.recordExit(exit);
    }
    if (this.stopping || runId !== this.runId) return;
    this.restartCount++;
    this.final = false;
    this.ctx.emit({ type: "restarting", pod: this.ctx.podName, container: this.spec.name, delayMs: 0 });
    await this.start();
  }

  /** Stops for good: SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.runId++;
    this.cancelTimer?.();
    this.stopProbes();
    const child = this.process;
    if (child !== undefined && this.state.state === "running") {
      child.kill("SIGTERM");
      const cancel = this.ctx.host.timer(graceMs, () => child.kill("SIGKILL"));
      const exit = await child.exited;
      cancel();
      this.recordExit(exit);
    }
    this.ready = false;
    this.final = true;
    this.settleWaiters();
  }

  private recordExit(exit: HostExit): void {
    const exitCode = exit.code ?? undefined;
    const signal = exit.signal ?? undefined;
    this.state = { state: "terminated", exitCode, signal, finishedAt: this.ctx.host.now() };
    this.lastExit = { exitCode, signal };
    this.ready = false;
    this.process = undefined;
    this.ctx.emit({ type: "exited", pod: this.ctx.podName, container: this.spec.name, exitCode, signal });
  }

  private onExit(runId: number, exit: HostExit, startedAt: number, ran = true): void {
    if (runId !== this.runId) return;
    this.stopProbes();
    this.recordExit(exit);
    if (ran && exit.code === SETUP_FAILED_EXIT) {
      this.ctx.emit({
        type: "failed",
        pod: this.ctx.podName,
        container: this.spec.name,
        reason: `the container's setup failed; see ${this.ctx.logFile(this.spec.name)}`,
      });
    }
    if (this.stopping) {
      this.final = true;
      this.settleWaiters();
      this.ctx.changed();
      return;
    }
    const ok = exit.code === 0;
    const policy = this.spec.role === "sidecar" ? "Always" : this.spec.restartPolicy;
    let restart: boolean;
    if (this.spec.role === "init") {
      // An init container that succeeded is done; one that failed is retried unless Never.
      restart = !ok && policy !== "Never";
    } else {
      restart = policy === "Always" || (policy === "OnFailure" && !ok);
    }
    if (ok && this.spec.role === "init") {
      this.succeeded = true;
      this.final = true;
    } else if (!restart) {
      this.final = true;
      this.succeeded = ok;
    }
    if (this.final) {
      this.settleWaiters();
      this.ctx.changed();
      return;
    }
    const ranMs = this.ctx.host.now() - startedAt;
    this.backoffMs =
      ranMs >= BACKOFF_RESET_MS || this.backoffMs === 0
        ? BACKOFF_FIRST_MS
        : Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    const delayMs = this.backoffMs;
    this.state = { state: "waiting", reason: "CrashLoopBackOff" };
    this.ctx.emit({ type: "restarting", pod: this.ctx.podName, container: this.spec.name, delayMs });
    this.ctx.changed();
    this.cancelTimer = this.ctx.host.timer(delayMs, () => {
      this.cancelTimer = undefined;
      if (this.stopping || runId !== this.runId) return;
      this.restartCount++;
      void this.start();
    });
  }

  private settleWaiters(): void {
    const done = this.completionWaiters;
    this.completionWaiters = [];
    for (const w of done) w(this.succeeded);
    const starts = this.startWaiters;
    this.startWaiters = [];
    for (const w of starts) w(this.started);
  }

  private markStarted(): void {
    this.started = true;
    const starts = this.startWaiters;
    this.startWaiters = [];
    for (const w of starts) w(true);
  }

  private stopProbes(): void {
    for (const cancel of this.probeCancels.splice(0)) cancel();
  }

  /**
   * The kubelet's probe loop: startup first (readiness and liveness wait for it), then readiness
   * (sets `ready`) and liveness (kills the container after failureThreshold failures).
   */
  private startProbes(runId: number, pid: number): void {
    const find = (type: RuntimeProbe["type"]) => this.spec.probes.find((p) => p.type === type);
    const startup = find("startup");
    const readiness = find("readiness");
    const liveness = find("liveness");
    const target = {
      host: this.ctx.host,
      podIp: this.ctx.podIp,
      exec: (command: readonly string[], timeoutMs: number) => this.ctx.execIn(pid, this.spec, command, timeoutMs),
    };
    const alive = () => runId === this.runId && !this.stopping;
    const loop = (probe: RuntimeProbe, onResult: (ok: boolean, reason: string | undefined) => boolean): void => {
      let cancelled = false;
      let cancelTimer: (() => void) | undefined;
      const tick = async (): Promise<void> => {
        if (cancelled || !alive()) return;
        const reason = await probeOnce(probe, target);
        if (cancelled || !alive()) return;
        if (!onResult(reason === undefined, reason)) return;
        cancelTimer = this.ctx.host.timer(Math.max(1, probe.periodSeconds) * 1000, () => void tick());
      };
      cancelTimer = this.ctx.host.timer(probe.initialDelaySeconds * 1000, () => void tick());
      this.probeCancels.push(() => {
        cancelled = true;
        cancelTimer?.();
      });
    };
    const threshold = (probe: RuntimeProbe, handler: (ok: boolean, reason: string | undefined) => boolean) => {
      let successes = 0;
      let failures = 0;
      loop(probe, (ok, reason) => {
        if (ok) {
          successes++;
          failures = 0;
        } else {
          failures++;
          successes = 0;
          this.ctx.emit({
            type: "probe-failed",
            pod: this.ctx.podName,
            container: this.spec.name,
            probe: probe.type,
            reason: reason ?? "",
          });
        }
        const decided = ok
          ? successes >= Math.max(1, probe.successThreshold)
          : failures >= Math.max(1, probe.failureThreshold);
        return handler(ok, decided ? reason : "pending");
      });
    };
    const runAfterStartup = (): void => {
      if (readiness === undefined) this.setReady(true);
      else {
        threshold(readiness, (ok, reason) => {
          if (reason !== "pending") this.setReady(ok);
          return true;
        });
      }
      if (liveness !== undefined) {
        threshold(liveness, (ok, reason) => {
          if (!ok && reason !== "pending") {
            this.ctx.log.info("localrun: liveness probe failed; killing", {
              pod: this.ctx.podName,
              container: this.spec.name,
            });
            this.kill("SIGKILL");
            return false;
          }
          return true;
        });
      }
    };
    if (startup === undefined) {
      this.markStarted();
      runAfterStartup();
      return;
    }
    threshold(startup, (ok, reason) => {
      if (reason === "pending") return true;
      if (ok) {
        this.markStarted();
        this.ctx.changed();
        runAfterStartup();
        return false;
      }
      this.kill("SIGKILL");
      return false;
    });
  }

  private setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.ctx.emit({ type: "ready", pod: this.ctx.podName, container: this.spec.name, ready });
    this.ctx.changed();
  }
}
