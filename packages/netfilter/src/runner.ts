import { execFile } from "node:child_process";
import { NetfilterError } from "./errors.js";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one iptables or ip6tables command. Injected so that rule application can be tested with a
 * recording fake and run inside a network namespace; `-w` (wait for the xtables lock) is already
 * in `args`.
 */
export type IptablesRunner = (binary: "iptables" | "ip6tables", args: readonly string[]) => Promise<RunResult>;

export interface ExecFileRunnerOptions {
  /** Words put before the binary, e.g. `["ip", "netns", "exec", "pod"]`. */
  readonly wrapper?: readonly string[];
  /** Paths of the binaries (default: `iptables` and `ip6tables`, found on PATH). */
  readonly binaries?: Partial<Readonly<Record<"iptables" | "ip6tables", string>>>;
  /** Kills a command that takes longer (default 30 s; `-w` waits for the lock that long at most). */
  readonly timeoutMs?: number;
}

/** The real runner: `execFile` of the binary (found on PATH), resolving with its exit status. */
export function execFileRunner(options: ExecFileRunnerOptions = {}): IptablesRunner {
  const wrapper = options.wrapper ?? [];
  return (binary, args) =>
    new Promise((resolve, reject) => {
      const [program, ...rest] = [...wrapper, options.binaries?.[binary] ?? binary, ...args] as [string, ...string[]];
      execFile(program, rest, { timeout: options.timeoutMs ?? 30_000, encoding: "utf8" }, (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        if (error.code === "ENOENT") {
          return reject(
            new NetfilterError("NETFILTER_IPTABLES_MISSING", `${program} is not installed (not found on PATH)`, {
              cause: error,
            }),
          );
        }
        resolve({ code: typeof error.code === "number" ? error.code : -1, stdout, stderr });
      });
    });
}
