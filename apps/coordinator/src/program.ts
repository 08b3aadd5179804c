import { ContrastError, jsonLogger, systemClock } from "@contrast/core";
import { parseCommandLine } from "./config.js";
import { VERSION } from "./version.js";

/** Exit status for a configuration the Coordinator cannot start with (as a usage error). */
export const EXIT_CONFIG = 2;
/** Exit status for a failure while starting or running. */
export const EXIT_FAILURE = 1;

/**
 * The program: reads the configuration, then runs the Coordinator until SIGTERM or SIGINT.
 * Every failure is one JSON log line on stderr (code, message, hint) and a non-zero exit status.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const write = (line: string) => process.stderr.write(line);
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, process.env, process.env.HOME, VERSION);
  } catch (e) {
    jsonLogger({ write, clock: systemClock, fields: { component: "coordinator" } }).error("invalid configuration", {
      error: ContrastError.from(e),
    });
    return EXIT_CONFIG;
  }
  if (parsed.kind === "print") {
    process.stdout.write(parsed.text);
    return 0;
  }
  const { runCoordinator } = await import("./run.js");
  return runCoordinator(parsed.config, { write, env: process.env });
}
