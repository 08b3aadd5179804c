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
  try {
    // Handled before commander is configured, so --version loads nothing it does not print.
    if (argv.includes("--version") && !argv.some((a) => COMMANDS.includes(a))) {
      (await import("./version.js")).printVersion(out);
      return 0;
    }
    // commander is loaded only now, so that --version does not pay for it.
    const { buildProgram } = await import("./program.js");
    let status = 0;
    const program = buildProgram(io, out, (s) => {
      status = s;
    });
    await program.parseAsync([...argv], { from: "user" });
    return status;
  } catch (e) {
    // Loaded here, not at the top: the successful --version path should not pay for it.
    const { ContrastError } = await import("@contrast/core");
    if (isCommanderError(e)) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.exitCode === 0) return 0;
      out.error(
        new ContrastError("CLI_USAGE", e.message.replace(/^error: /, ""), {
          hint: "Run `contrast --help` or `contrast <command> --help` for usage.",
        }),
      );
      return 1;
    }
    const err = ContrastError.from(e);
    out.error(err);
    // Genuine evidence that does not match expectations is told apart from broken evidence.
    return err.kind === "policy" ? 2 : 1;
  }
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

function isCommanderError(e: unknown): e is Error & { code: string; exitCode: number } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === "string" && code.startsWith("commander.");
}
