// Types of process.mjs for the tests that share it.
import type { ChildProcess } from "node:child_process";

export declare const APP: string;
export declare const BUNDLE: string;
export declare function requireBundle(): void;

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
  readonly logs: LogLine[];
  readonly exited: Promise<number | string>;
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
  probe(path: string): Promise<{ status: number; body: string }>;
}

export declare function startCoordinator(
  args: readonly string[],
  env?: Record<string, string>,
  nodeArgs?: readonly string[],
  node?: string,
): Promise<RunningCoordinator>;
export declare function imageNode(): string;
export declare function nodeVersion(node: string): string;
export declare function runToExit(
  args: readonly string[],
  env?: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }>;
