import { ContrastError, jsonLogger, systemClock } from "@contrast/core";
import { parseCommandLine } from "./config.js";
import { VERSION } from "./version.js";

/** Exit status for a configuration the initializer cannot start with (as a usage error). */
export const EXIT_CONFIG = 2;

/** The program: reads the configuration, then runs the initializer once. */
export async function main(argv: readonly string[]): Promise<number> {
  const write = (line: string) => process.stderr.write(line);
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, process.env, process.env.HOME, VERSION);
  } catch (e) {
    jsonLogger({ write, clock: systemClock, fields: { component: "initializer" } }).error("invalid configuration", {
      error: ContrastError.from(e),
    });
    return EXIT_CONFIG;
  }
  if (parsed.kind === "print") {
    process.stdout.write(parsed.text);
    return 0;
  }
  const { runInitializer } = await import("./run.js");
  return runInitializer(parsed.config, { write });
}
