import { ContrastError, type LogLevel, parseLogLevel } from "@contrast/core";
import { Argument, Command, Option } from "commander";
import type { Io } from "./cli.js";
import { type CommandSpec, EXIT, type FlagSpec, type Outcome } from "./command-spec.js";
import { type Context, createCliLogger } from "./context.js";
import { GLOBAL_FLAGS, GROUPS } from "./global-flags.js";
import type { Output, OutputFormat } from "./output.js";
import { SPECS } from "./specs.js";

interface RawGlobals {
  logLevel: string;
  workspaceDir?: string;
  output: OutputFormat;
}

// Bodies take their own option interfaces; commander hands over a plain record of the spec's flags.
// biome-ignore lint/suspicious/noExplicitAny: the spec, not the compiler, ties a body's options to its flags
type Options = any;

type Body = (ctx: Context, args: readonly unknown[], opts: Options) => Promise<Outcome>;

/** Each command's body by its words, imported only when the command runs. */
const BODIES: Readonly<Record<string, Body>> = {
  generate: async (ctx, [paths], opts) =>
    (await import("./commands/generate.js")).generate(ctx, paths as string[], opts),
  "manifest validate": async (ctx, [file], opts) =>
    (await import("./commands/manifest-validate.js")).manifestValidate(ctx, file as string | undefined, opts),
  "attestation verify": async (ctx, [file], opts) =>
    (await import("./commands/attestation-verify.js")).attestationVerify(ctx, file as string, opts),
  "policy check": async (ctx, [file, request], opts) =>
    (await import("./commands/policy-check.js")).policyCheck(ctx, file as string, request as string | undefined, opts),
  "policy requests": async (ctx, [file], opts) =>
    (await import("./commands/policy-requests.js")).policyRequests(ctx, file as string, opts),
  completion: async (ctx, [shell]) => (await import("./commands/completion.js")).completion(ctx, shell as string),
  "policy generate": async (ctx, [paths], opts) =>
    (await import("./commands/policy-generate.js")).policyGenerate(ctx, paths as string[], opts),
  set: async (ctx, [paths], opts) =>
    (await import("./commands/set.js")).set(ctx, (paths as string[] | undefined) ?? [], opts),
  verify: async (ctx, _args, opts) => (await import("./commands/verify.js")).verify(ctx, opts),
  recover: async (ctx, _args, opts) => (await import("./commands/recover.js")).recover(ctx, opts),
  demo: async (ctx, _args, opts) => (await import("./commands/demo.js")).demo(ctx, opts),
};

/** The spec and body of every command, in help order. */
export const REGISTERED: readonly { readonly spec: CommandSpec; readonly run: Body }[] = SPECS.map((spec) => {
  const run = BODIES[spec.path.join(" ")];
  if (run === undefined) throw new Error(`no body for the command ${spec.path.join(" ")}`);
  return { spec, run };
});

/**
 * Parses the command line, runs the command and renders its outcome or its error: the one place
 * that prints an error and decides the exit status (docs/cli.md, "Exit status"). Never throws.
 */
export async function runProgram(argv: readonly string[], io: Io, out: Output): Promise<number> {
  try {
    let outcome: Outcome | undefined;
    const program = buildProgram(io, out, (o) => {
      outcome = o;
    });
    await program.parseAsync([...argv], { from: "user" });
    // No outcome: help was printed.
    if (outcome === undefined) return EXIT.ok;
    out.document(outcome.ok, outcome.fields);
    return outcome.ok ? EXIT.ok : EXIT.verdict;
  } catch (e) {
    out.progress(undefined);
    if (isCommanderError(e)) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.exitCode === 0) return EXIT.ok;
      out.error(
        new ContrastError("CLI_USAGE", e.message.replace(/^error: /, ""), {
          hint: "Run `contrast --help` or `contrast <command> --help` for usage.",
        }),
      );
      return EXIT.failed;
    }
    const err = ContrastError.from(e);
    out.error(err);
    // Genuine evidence that does not match expectations is a verdict, told apart from broken evidence.
    return err.kind === "policy" ? EXIT.verdict : EXIT.failed;
  }
}

function isCommanderError(e: unknown): e is Error & { code: string; exitCode: number } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === "string" && code.startsWith("commander.");
}

export function buildProgram(io: Io, out: Output, setOutcome: (o: Outcome) => void): Command {
  const program = new Command("contrast")
    .description(
      "Confidential containers on Kubernetes: generate policies and manifests, set and verify the Coordinator, recover it.",
    )
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Usage errors are rendered by runProgram with a code and hint.
      outputError: () => {},
    })
    .allowExcessArguments()
    .action((_opts: unknown, cmd: Command) => helpOrUnknown(cmd));
  for (const flag of GLOBAL_FLAGS) program.addOption(option(flag));

  const context = (cmd: Command): Context => {
    const g = cmd.optsWithGlobals() as RawGlobals;
    const logLevel: LogLevel = parseLogLevel(g.logLevel);
    return {
      out,
      cwd: io.cwd,
      logLevel,
      workspaceDir: g.workspaceDir,
      log: createCliLogger(io.stderr, logLevel),
      env: io.env,
    };
  };

  const groups = new Map<string, Command>();
  for (const group of GROUPS) {
    groups.set(
      group.name,
      program
        .command(group.name)
        .description(group.summary)
        .allowExcessArguments()
        .action((_opts: unknown, cmd: Command) => helpOrUnknown(cmd)),
    );
  }
  for (const { spec, run } of REGISTERED) {
    const [first, second] = spec.path;
    const parent = second === undefined ? program : groups.get(first);
    if (parent === undefined) throw new Error(`no command group ${first} for ${spec.path.join(" ")}`);
    const cmd = parent.command(second ?? first).description(spec.summary);
    for (const arg of spec.args) {
      const argument = new Argument(arg.name, arg.description);
      if (arg.choices !== undefined) argument.choices(arg.choices);
      cmd.addArgument(argument);
    }
    for (const flag of spec.flags) cmd.addOption(option(flag));
    cmd.action(async (...params: unknown[]) => {
      // commander passes the arguments, then the options, then the command itself.
      const args = params.slice(0, spec.args.length);
      const opts = { ...(params[spec.args.length] as Record<string, unknown>) };
      for (const flag of spec.flags) {
        // A default file name the user did not give is resolved in --workspace-dir by the body.
        const key = new Option(flag.flags).attributeName();
        if (flag.workspaceFile === true && cmd.getOptionValueSource(key) !== "cli") opts[key] = undefined;
      }
      setOutcome(await run(context(cmd), args, opts));
    });
  }
  // Subcommands inherit exitOverride and configureOutput from their parent when created.
  return program;
}

/**
 * A command group (or the program) run without a subcommand prints its help; with a word that is
 * no subcommand, it is a usage error naming that word (commander would say "too many arguments").
 */
function helpOrUnknown(cmd: Command): void {
  const [word] = cmd.args;
  if (word === undefined) cmd.help();
  const where = cmd.parent === null ? "contrast" : `contrast ${cmd.name()}`;
  throw new ContrastError("CLI_USAGE", `unknown command '${word}' for '${where}'`, {
    hint: `Run \`${where} --help\` for its commands; docs/cli.md lists the planned ones.`,
  });
}

/** The commander option for a flag spec. */
function option(flag: FlagSpec): Option {
  const o = new Option(flag.flags, flag.description);
  if (flag.choices !== undefined) o.choices(flag.choices);
  if (flag.repeatable === true) o.argParser(collect).default([]);
  if (flag.default !== undefined) o.default(flag.default);
  return o;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
