import type { PodStatus, RunningPod } from "@contrast/localrun";
import { cliError } from "../coordinator/errors.js";

/**
 * Resolves once `check` returns a value, evaluated at every event of the pods and, for what no
 * event announces (a probe answering, a file appearing), every `pollMs`. Rejects with
 * CLI_DEMO_POD_NOT_READY naming `what` and the pods' states when `timeoutMs` passes first.
 */
export function waitUntil<T>(
  what: string,
  pods: readonly RunningPod[],
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
  pollMs = 250,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let running = false;
    let again = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(poll);
      for (const p of pods) p.off("event", onEvent);
      f();
    };
    const evaluate = async (): Promise<void> => {
      if (done) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const value = await check();
          if (value !== undefined) {
            finish(() => resolve(value));
            return;
          }
        } while (again && !done);
      } catch (e) {
        finish(() => reject(e));
      } finally {
        running = false;
      }
    };
    const onEvent = (): void => {
      void evaluate();
    };
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            cliError("CLI_DEMO_POD_NOT_READY", `${what}: not after ${Math.round(timeoutMs / 1000)} s`, {
              details: {
                pods: pods.map((p) => ({ pod: p.name, dir: p.dir, status: summary(p.status()), logs: logTails(p) })),
              },
            }),
          ),
        ),
      timeoutMs,
    );
    const poll = setInterval(onEvent, pollMs);
    for (const p of pods) p.on("event", onEvent);
    void evaluate();
  });
}

/** A pod's status in one short record, for error details and the JSON document. */
export function summary(status: PodStatus): Record<string, unknown> {
  return {
    phase: status.phase,
    ip: status.ip,
    initialized: status.initialized,
    ready: status.ready,
    containers: status.containers.map((c) => ({
      name: c.name,
      state: c.current.state,
      ...(c.current.state === "waiting" ? { reason: c.current.reason } : {}),
      ...(c.current.state === "terminated" ? { exitCode: c.current.exitCode, signal: c.current.signal } : {}),
      ready: c.ready,
      restarts: c.restartCount,
    })),
    ...(status.blocked === undefined ? {} : { blocked: status.blocked.text }),
  };
}

/** Retries `attempt` until it resolves (every `pollMs`), or rethrows its last error at the deadline. */
export async function retry<T>(timeoutMs: number, attempt: () => Promise<T>, pollMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() + pollMs > deadline) throw e;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

/** The last lines of each container's log: what a timeout's details show of why. */
export function logTails(pod: RunningPod, lines = 8): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of pod.status().containers) {
    try {
      out[c.name] = pod.logs(c.name).trimEnd().split("\n").slice(-lines);
    } catch {
      out[c.name] = [];
    }
  }
  return out;
}
