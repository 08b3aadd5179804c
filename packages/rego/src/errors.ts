import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { REGO_HINTS, type RegoErrorCode } from "./error-codes.js";

export type { RegoErrorCode } from "./error-codes.js";

/** Where in a source text something was found; lines and columns count from 1. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

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
      hint: options.hint ?? REGO_HINTS[code],
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
 * How OPA classifies a built-in's failure: `eval_type_error` when an operand has the wrong type
 * ("operand N must be …"), `eval_builtin_error` otherwise. Both are REGO_BUILTIN_ERROR here.
 */
export type BuiltinErrorKind = "eval_type_error" | "eval_builtin_error";

/**
 * A built-in rejected its arguments. In non-strict mode the call is undefined instead, as in OPA
 * and regorus; in strict mode the evaluation fails with this error.
 */
export class BuiltinError extends RegoError {
  readonly opaCode: BuiltinErrorKind;

  constructor(message: string, location?: Location, opaCode: BuiltinErrorKind = "eval_builtin_error") {
    super("REGO_BUILTIN_ERROR", message, location, { details: { opaCode } });
    this.opaCode = opaCode;
  }

  /** This error at the call's location (built-ins throw without one; the evaluator knows it). */
  at(location: Location): BuiltinError {
    return this.location === undefined ? new BuiltinError(this.message, location, this.opaCode) : this;
  }
}
