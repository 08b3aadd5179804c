import { repoPath } from "./paths.js";
import { type LoggedProcess, startBundle } from "./processes.js";

/** The built Coordinator program. */
export const COORDINATOR_BUNDLE = repoPath("apps/coordinator/dist/contrast-coordinator.cjs");

export interface SimCoordinatorOptions {
  readonly stateDir: string;
  readonly simDir: string;
  /** The address every listener binds; 127.0.0.1 unless a test reaches it from another namespace. */
  readonly host?: string;
  /** 0 (the default) lets the system choose; the bound ports are in the "coordinator listening" line. */
  readonly userApiPort?: number;
  readonly meshApiPort?: number;
  readonly probePort?: number;
  /** More Coordinator flags. */
  readonly args?: readonly string[];
}

/** The Coordinator's flags for the simulated platform with a file-system history, as the tests run it. */
export function simCoordinatorArgs(o: SimCoordinatorOptions): string[] {
  return [
    "--platform",
    "sim",
    "--state-dir",
    o.stateDir,
    "--sim-dir",
    o.simDir,
    "--host",
    o.host ?? "127.0.0.1",
    "--user-api-port",
    String(o.userApiPort ?? 0),
    "--mesh-api-port",
    String(o.meshApiPort ?? 0),
    "--probe-port",
    String(o.probePort ?? 0),
    ...(o.args ?? []),
  ];
}

export interface StartedCoordinator extends LoggedProcess {
  readonly userApiPort: number;
  readonly meshApiPort: number;
}

/** Starts the built sim Coordinator; resolves once it logs the ports it bound. */
export async function startSimCoordinator(
  o: SimCoordinatorOptions,
  env: Record<string, string> = {},
): Promise<StartedCoordinator> {
  const c = startBundle(COORDINATOR_BUNDLE, simCoordinatorArgs(o), env);
  const line = await c.waitFor((l) => l.msg === "coordinator listening", '"coordinator listening"', 60_000);
  return { ...c, userApiPort: line.userApiPort as number, meshApiPort: line.meshApiPort as number };
}
