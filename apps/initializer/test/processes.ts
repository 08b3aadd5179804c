// The built programs as separate processes, with their JSON log lines collected: the Coordinator
// (the real one, platform sim) and the initializer, as a pod runs them.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LoggedProcess, type LogLine, startBundle } from "@contrast/testkit";

const APPS = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const INITIALIZER = join(APPS, "initializer/dist/contrast-initializer.cjs");
export const COORDINATOR = join(APPS, "coordinator/dist/contrast-coordinator.cjs");

export type { LogLine };
export type Running = LoggedProcess;

export function start(bundle: string, args: readonly string[], env: Record<string, string> = {}): Running {
  return startBundle(bundle, args, env);
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
