// The built programs as separate processes, with their JSON log lines collected: the Coordinator
// (the real one, platform sim) and the initializer, as a pod runs them.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LoggedProcess, type LogLine, startBundle, startSimCoordinator } from "@contrast/testkit";

const APPS = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const INITIALIZER = join(APPS, "initializer/dist/contrast-initializer.cjs");

export type { LogLine };
export type Running = LoggedProcess;

export function start(bundle: string, args: readonly string[], env: Record<string, string> = {}): Running {
  return startBundle(bundle, args, env);
}

/** Starts the sim Coordinator on free ports; resolves when it listens, with its ports. */
export function startCoordinator(stateDir: string, simDir: string) {
  return startSimCoordinator({ stateDir, simDir });
}

/** A retry log line of the initializer with this reason. */
export const retrying = (reason: string) => (l: LogLine) => l.reason === reason && String(l.msg).endsWith("; retrying");
