import { ContrastError, type ContrastErrorOptions } from "@contrast/core";

/** Where in a source text something was found; lines and columns count from 1. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type RegoErrorCode =
  | "REGO_PARSE_ERROR"
  | "REGO_COMPILE_ERROR"
  | "REGO_CONFLICT"
  | "REGO_BUILTIN_ERROR"
  | "REGO_TYPE_ERROR"
  | "REGO_UNKNOWN_FUNCTION"
  | "REGO_RECURSION"
  | "REGO_LIMIT_EXCEEDED"
  | "REGO_INVALID_INPUT"
  | "REGO_DIALECT_UNSUPPORTED"
  | "REGO_DIALECT_UNKNOWN";

const HINTS: Record<RegoErrorCode, string> = {
  REGO_PARSE_ERROR: "Fix the Rego syntax at the line and column shown.",
  REGO_COMPILE_ERROR: "Fix the policy: the construct is not valid Rego at the place shown.",
  REGO_CONFLICT: "Two rule bodies produce different values for the same document; make them agree or exclusive.",
  REGO_BUILTIN_ERROR: "A built-in function was called with arguments it cannot handle; check the call.",
  REGO_TYPE_ERROR: "An operator was applied to values of the wrong type; check the operands.",
  REGO_UNKNOWN_FUNCTION: "Check the function's name; see docs/rego.md for the supported built-ins.",
  REGO_RECURSION: "Rego forbids recursion between rules and functions; break the cycle.",
  REGO_LIMIT_EXCEEDED: "The evaluation or the document exceeded a safety limit; check for runaway input.",
  REGO_INVALID_INPUT: "Pass JSON values (null, booleans, finite numbers, strings, arrays, objects).",
  REGO_DIALECT_UNSUPPORTED:
    'The policy uses a built-in or keyword the target engine lacks; rewrite it (docs/rego.md, "Dialects").',
  REGO_DIALECT_UNKNOWN: "Name one of the dialects of docs/rego.md, e.g. regorus-0.2.8-kata.",
};

/** Every failure of the Rego engine. Parse and compile errors carry a location. */
export class RegoError extends ContrastError<RegoErrorCode> {
  readonly location: Location | undefined;

  constructor(
    code: RegoErrorCode,
    message: string,
    location?: Location,
    options: Omit<ContrastErrorOptions, "hint"> & { hint?: string } = {},
  ) {
    const where = location === undefined ? "" : `${location.file}:${location.line}:${location.column}: `;
    super(code, where + message, {
      kind: options.kind ?? (code === "REGO_CONFLICT" || code === "REGO_RECURSION" ? "policy" : "input"),
      hint: options.hint ?? HINTS[code],
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: {
        ...(location === undefined ? {} : { file: location.file, line: location.line, column: location.column }),
        ...(options.details ?? {}),
      },
    });
    this.location = location;
  }
}

/** A parse error: always has a line and column. */
export class RegoParseError extends RegoError {
  readonly line: number;
  readonly column: number;

  constructor(message: string, location: Location) {
    super("REGO_PARSE_ERROR", message, location);
    this.line = location.line;
    this.column = location.column;
  }
}

/**
 * A built-in rejected its arguments. In non-strict mode the call is undefined instead, as in OPA
 * and regorus; in strict mode the evaluation fails with this error.
 */
export class BuiltinError extends RegoError {
  constructor(message: string, location?: Location) {
    super("REGO_BUILTIN_ERROR", message, location);
  }
}
