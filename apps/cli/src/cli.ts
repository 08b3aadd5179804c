import { COMMANDS } from "./commands.js";
import { Output, type OutputFormat, type Stream } from "./output.js";

export interface Io {
  readonly stdout: Stream;
  readonly stderr: Stream;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs the CLI and returns the exit status. Never throws: every failure is rendered with its
 * code and hint. Command implementations are imported only when their command runs.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const format = peekOutputFormat(argv);
  const out = new Output({ format, stdout: io.stdout, stderr: io.stderr, env: io.env });
  // Handled before commander is configured, so --version loads nothing it does not print.
  if (argv.includes("--version") && !argv.some((a) => COMMANDS.includes(a))) {
    (await import("./version.js")).printVersion(out);
    return 0;
  }
  // Everything else (commander, every command) is a second bundle file that --version never
  // parses; it renders its own errors, so no error class crosses between the two files.
  const { runProgram } = await import("./program.js");
  return runProgram(argv, io, out);
}

/**
 * The output format must be known before commander has parsed anything, because a usage error
 * found while parsing is rendered in that format too.
 */
function peekOutputFormat(argv: readonly string[]): OutputFormat {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--output=json" || ((a === "--output" || a === "-o") && argv[i + 1] === "json")) return "json";
  }
  return "text";
}
