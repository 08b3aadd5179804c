import { ContrastError, jsonLogger, systemClock } from "@contrast/core";
import { parseCommandLine } from "./config.js";
import { startDemoApp } from "./server.js";
import { VERSION } from "./version.js";

export const EXIT_USAGE = 2;

/**
 * The program: parse, serve until SIGTERM or SIGINT, then close and exit 0. Returns undefined
 * while serving (the process lives on its server) and a status when it stops early.
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number | undefined> {
  const write = (line: string) => process.stderr.write(line);
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, env, VERSION);
  } catch (e) {
    const error = ContrastError.from(e);
    jsonLogger({ write, clock: systemClock, fields: { component: "demo-app" } }).error(error.message, { error });
    return EXIT_USAGE;
  }
  if (parsed.kind === "print") {
    process.stdout.write(parsed.text);
    return 0;
  }
  const { config } = parsed;
  const log = jsonLogger({
    write,
    clock: systemClock,
    level: config.logLevel,
    fields: { component: "demo-app", role: config.role },
  });
  let app: Awaited<ReturnType<typeof startDemoApp>>;
  try {
    app = await startDemoApp(config, { clock: systemClock, log, fetch: globalThis.fetch });
  } catch (e) {
    log.error("cannot listen", { port: config.port, error: e instanceof Error ? e.message : String(e) });
    return 1;
  }
  const stop = (signal: string) => {
    log.info("stopping", { signal });
    app.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return undefined;
}
