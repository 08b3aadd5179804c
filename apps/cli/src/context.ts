import { isAbsolute, join, resolve } from "node:path";
import { type LogFields, type Logger, type LogLevel, withLevel } from "@contrast/core";
import type { Output, Stream } from "./output.js";

export interface GlobalOptions {
  readonly logLevel: LogLevel;
  /** Prefix for default file paths whose flag was not given explicitly (upstream semantics). */
  readonly workspaceDir: string | undefined;
}

export interface Context extends GlobalOptions {
  readonly out: Output;
  readonly log: Logger;
  readonly cwd: string;
  /** The process environment (CONTRAST_SIM_DIR, HOME, …); injected so tests can set it. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Resolves a file argument. An explicit value is taken relative to the working directory; a
 * default name is placed in --workspace-dir when one was given, as upstream does.
 */
export function resolvePath(
  ctx: Pick<Context, "cwd" | "workspaceDir">,
  explicit: string | undefined,
  defaultName: string,
): string {
  if (explicit !== undefined) return isAbsolute(explicit) ? explicit : resolve(ctx.cwd, explicit);
  return resolve(ctx.cwd, ctx.workspaceDir === undefined ? defaultName : join(ctx.workspaceDir, defaultName));
}

/** Human-readable log lines on stderr, filtered by --log-level. */
export function createCliLogger(stderr: Stream, level: LogLevel): Logger {
  const emit = (lvl: LogLevel) => (message: string, fields?: LogFields) => {
    const extra =
      fields === undefined
        ? ""
        : Object.entries(fields)
            .map(([k, v]) => ` ${k}=${JSON.stringify(v) ?? String(v)}`)
            .join("");
    stderr.write(`${lvl.toUpperCase()} ${message}${extra}\n`);
  };
  return withLevel({ debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") }, level);
}
