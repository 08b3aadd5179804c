import type { Logger } from "@contrast/core";
import { LocalrunError } from "./errors.js";
import type { Host, HostRunResult } from "./host.js";

/** Runs a host command; a non-zero status becomes LOCALRUN_COMMAND_FAILED (or TOOL_MISSING). */
export async function mustRun(
  host: Host,
  log: Logger,
  argv: readonly string[],
  input?: string,
): Promise<HostRunResult> {
  log.debug("localrun: run", { argv: argv.join(" ") });
  const result = await host.run(argv, { env: host.commandEnv(), ...(input === undefined ? {} : { input }) });
  if (result.code === 127 && /ENOENT|not found/.test(result.stderr)) {
    throw new LocalrunError("LOCALRUN_TOOL_MISSING", `${argv[0]} is not installed: ${result.stderr.trim()}`, {
      kind: "io",
      hint: "Install iproute2, util-linux and coreutils.",
      details: { argv },
    });
  }
  if (result.code !== 0) {
    throw new LocalrunError(
      "LOCALRUN_COMMAND_FAILED",
      `${argv.join(" ")} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
      {
        kind: "io",
        hint: "Read the command's output in the message; run with --log-level debug for every command.",
        details: { argv, code: result.code, stderr: result.stderr, ...(input === undefined ? {} : { input }) },
      },
    );
  }
  return result;
}

/** `nsenter --net=/proc/<pid>/ns/net -- argv`: a command in the network namespace a process holds. */
export function inNetns(pid: number, argv: readonly string[]): string[] {
  return ["nsenter", `--net=/proc/${pid}/ns/net`, "--", ...argv];
}

/** Quotes a word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
