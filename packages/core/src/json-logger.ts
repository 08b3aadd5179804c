import { toBase64 } from "./bytes.js";
import type { Clock } from "./clock.js";
import { ContrastError } from "./error.js";
import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "./logger.js";

export interface JsonLoggerOptions {
  /**
   * Receives each entry as one complete line, newline included. The program decides where it
   * goes (`(line) => process.stderr.write(line)` in a server); the library never prints.
   */
  readonly write: (line: string) => void;
  /** The source of each entry's `time`. */
  readonly clock: Clock;
  /** Entries below this level are dropped before anything is formatted. Default `info`. */
  readonly level?: LogLevel;
  /** Fields on every entry, before the call's own (a component name, a pod). */
  readonly fields?: LogFields;
}

// Go's log/slog JSONHandler names, so a Coordinator's lines read like upstream's Go services'.
const LEVEL_NAMES: Readonly<Record<LogLevel, string>> = {
  debug: "DEBUG",
  info: "INFO",
  warn: "WARN",
  error: "ERROR",
};
const RESERVED = new Set(["time", "level", "msg"]);
// Deep enough for any structured context we log; deeper values are cut rather than walked.
const MAX_DEPTH = 16;

/**
 * A logger for servers: one JSON object per line, `{"time","level","msg",...fields}`. Errors
 * anywhere in the fields are written as `ContrastError` JSON (code, kind, message, hint,
 * details, cause), anything else thrown as the `INTERNAL` error it would be reported as. Logging
 * never throws: values JSON cannot hold are written in a readable form instead.
 */
export function jsonLogger(options: JsonLoggerOptions): Logger {
  const { write, clock } = options;
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const bound = options.fields ?? {};
  const entry = (level: LogLevel) => {
    if (LOG_LEVELS.indexOf(level) < min) return (): void => {};
    return (message: string, fields?: LogFields): void => {
      const out: Record<string, unknown> = plainObject();
      Object.assign(out, {
        time: clock.now().toISOString(),
        level: LEVEL_NAMES[level],
        msg: String(message),
      });
      addFields(out, bound);
      if (fields !== undefined) addFields(out, fields);
      write(`${JSON.stringify(out)}\n`);
    };
  };
  return { debug: entry("debug"), info: entry("info"), warn: entry("warn"), error: entry("error") };
}

function addFields(out: Record<string, unknown>, fields: LogFields): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    // A field may not overwrite the entry's own keys; it is kept under a visible name instead.
    const name = RESERVED.has(key) ? `fields.${key}` : key;
    out[name] = toLogValue(value, [], 0);
  }
}

/** A JSON-safe copy of `value`: what JSON.stringify writes without throwing or dropping it silently. */
function toLogValue(value: unknown, ancestors: readonly object[], depth: number): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      // JSON has no NaN or Infinity; JSON.stringify would write null.
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value.toString();
    case "undefined":
      return null;
    case "symbol":
      return value.toString();
    case "function":
      return `[function ${value.name || "anonymous"}]`;
  }
  if (value === null) return null;
  const obj = value as object;
  if (ancestors.includes(obj)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Truncated]";
  const inner = [...ancestors, obj];
  try {
    if (obj instanceof Error) return toLogValue(ContrastError.from(obj).toJSON(), inner, depth + 1);
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function" && !(obj instanceof Date)) {
      return toLogValue(toJSON.call(obj), inner, depth + 1);
    }
  } catch {
    return "[Unreadable]";
  }
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Invalid Date" : obj.toISOString();
  if (obj instanceof Uint8Array) return toBase64(obj);
  if (Array.isArray(obj)) return obj.map((v) => toLogValue(v, inner, depth + 1));
  if (obj instanceof Map) {
    const out = plainObject();
    for (const [k, v] of obj) out[String(k)] = toLogValue(v, inner, depth + 1);
    return out;
  }
  if (obj instanceof Set) return [...obj].map((v) => toLogValue(v, inner, depth + 1));
  const out = plainObject();
  let entries: [string, unknown][];
  try {
    entries = Object.entries(obj);
  } catch {
    return "[Unreadable]";
  }
  for (const [k, v] of entries) if (v !== undefined) out[k] = toLogValue(v, inner, depth + 1);
  return out;
}

// Without a prototype, a key such as "__proto__" from untrusted input is an ordinary own key.
function plainObject(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}
