import { ContrastError, jsonLogger, systemClock } from "@contrast/core";
import { parseCommandLine } from "./options.js";
import { VERSION } from "./version.js";

/** Exit status for a configuration the proxy cannot start with (a usage error). */
export const EXIT_CONFIG = 2;
/** Exit status when the proxy could not start (credentials, a port in use, interception). */
export const EXIT_FAILURE = 1;

export interface ProgramIo {
  readonly write: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signals?: NodeJS.EventEmitter;
}

/** The program: reads the command line, then runs the standalone ingress or the pod mode. */
export async function main(argv: readonly string[], io: ProgramIo): Promise<number> {
  const fields = { component: "service-mesh" };
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, VERSION);
  } catch (e) {
    jsonLogger({ write: io.write, clock: systemClock, fields }).error("invalid command line", {
      error: ContrastError.from(e),
    });
    return EXIT_CONFIG;
  }
  if (parsed.mode === "print") {
    process.stdout.write(parsed.text);
    return 0;
  }
  const log = jsonLogger({ write: io.write, clock: systemClock, level: parsed.logLevel, fields });
  log.info(`Contrast service mesh ${VERSION}`, { version: VERSION, mode: parsed.mode });
  try {
    if (parsed.mode === "ingress") {
      const { runStandalone } = await import("./standalone.js");
      return await runStandalone(parsed, log, io.signals);
    }
    if (parsed.mode === "egress") {
      const { runStandaloneEgress } = await import("./standalone.js");
      return await runStandaloneEgress(parsed, log, io.signals);
    }
    const { runPod } = await import("./pod.js");
    return await runPod(parsed, io.env, log, io.signals);
  } catch (e) {
    const error = ContrastError.from(e);
    log.error("cannot start", { error });
    return error.kind === "input" ? EXIT_CONFIG : EXIT_FAILURE;
  }
}
