import { ContrastError, type ErrorKind } from "@contrast/core";
import type { PolicyErrorCode } from "./error-codes.js";

export type { PolicyErrorCode } from "./error-codes.js";

export interface PolicyErrorOptions {
  readonly hint: string;
  readonly kind?: ErrorKind;
  readonly cause?: unknown;
  /** JSON path or object path the problem is at, e.g. "Deployment/web: spec.template.spec.foo". */
  readonly path?: string;
  /** The input file (or other source name) the problem is in. */
  readonly file?: string;
  readonly details?: Record<string, unknown>;
}

/** The one error type of @contrast/policy: a ContrastError with a stable code and a hint. */
export class PolicyError extends ContrastError<PolicyErrorCode> {
  readonly path: string | undefined;
  readonly file: string | undefined;
  constructor(code: PolicyErrorCode, message: string, options: PolicyErrorOptions) {
    super(code, message, {
      hint: options.hint,
      kind: options.kind ?? "input",
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      details: {
        ...(options.details ?? {}),
        ...(options.file === undefined ? {} : { file: options.file }),
        ...(options.path === undefined ? {} : { path: options.path }),
      },
    });
    this.path = options.path;
    this.file = options.file;
  }
}
