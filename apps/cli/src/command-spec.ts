/**
 * What a command looks like from outside: its words, arguments and flags, and what its exit
 * statuses mean. Every command's spec sits next to its body (`commands/<name>.flags.ts` beside
 * `commands/<name>.ts`); the program registers commander from the specs without loading any body,
 * and docs/cli.md's flag and exit-status tables are generated from the same specs (`pnpm cli-doc`).
 */
export interface ArgSpec {
  /** Commander syntax: `<file>`, `[request]`, `<paths...>`. */
  readonly name: string;
  readonly description: string;
  /** The only values the argument takes (checked by commander, offered by shell completion). */
  readonly choices?: readonly string[];
}

export interface FlagSpec {
  /** Commander syntax: `--platform <name>`, `-o, --output <format>`, `--strict`. */
  readonly flags: string;
  /** One line for `--help`. */
  readonly description: string;
  /** A longer text for docs/cli.md when the help line is too terse; the help line otherwise. */
  readonly doc?: string;
  readonly default?: string;
  readonly choices?: readonly string[];
  /** May be given several times; the body sees every value, in order. */
  readonly repeatable?: boolean;
  /**
   * The default is a file name looked up in --workspace-dir (upstream semantics): when the flag
   * is not given, the body sees undefined and resolves the default itself.
   */
  readonly workspaceFile?: boolean;
}

export interface CommandSpec {
  /**
   * The command's words: a noun and a verb (`["policy", "generate"]`), or one word for upstream's
   * top-level workflow verbs and our top-level nouns (`["generate"]`, `["completion"]`).
   */
  readonly path: readonly [string] | readonly [string, string];
  readonly summary: string;
  readonly args: readonly ArgSpec[];
  readonly flags: readonly FlagSpec[];
  /** What exit status 2 (a negative verdict) means for this command; absent when it has none. */
  readonly verdict?: string;
}

/**
 * What a command body returns when it ran to the end. `ok: false` is a negative verdict (exit 2):
 * a denied request, an invalid manifest. A body that cannot run throws a ContrastError instead;
 * the program's runner renders it. `fields` are the command's own keys of the JSON document.
 */
export interface Outcome {
  readonly ok: boolean;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The exit statuses every command shares (docs/cli.md, "Exit status"). */
export const EXIT = { ok: 0, failed: 1, verdict: 2 } as const;
