import { ContrastError } from "./error.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging interface libraries accept. Applications plug a real logger in (pino for servers, the
 * CLI's own renderer); libraries default to `noopLogger` and never print by themselves.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const noop = (): void => {};
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * Parses a level as upstream's `--log-level` does: a name, or a number on slog's scale
 * (-4 debug, 0 info, 4 warn, 8 error; values in between round down to the next named level).
 */
export function parseLogLevel(value: string): LogLevel {
  const name = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(name)) return name as LogLevel;
  if (/^-?\d+$/.test(name)) {
    const n = Number(name);
    if (n >= 8) return "error";
    if (n >= 4) return "warn";
    if (n >= 0) return "info";
    return "debug";
  }
  throw new ContrastError("LOG_LEVEL_INVALID", `invalid log level ${JSON.stringify(value)}`, {
    hint: "Use debug, info, warn or error, or a number (-4 debug, 0 info, 4 warn, 8 error).",
  });
}

/** Wraps a logger so that messages below `level` are dropped before any formatting. */
export function withLevel(logger: Logger, level: LogLevel): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const pick = (l: LogLevel) => (LOG_LEVELS.indexOf(l) >= min ? logger[l].bind(logger) : noop);
  return { debug: pick("debug"), info: pick("info"), warn: pick("warn"), error: pick("error") };
}
