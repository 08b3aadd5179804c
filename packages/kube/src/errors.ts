import { ContrastError } from "@contrast/core";
import type { KubeErrorCode } from "./error-codes.js";

export type { KubeErrorCode } from "./error-codes.js";

export interface KubeErrorOptions {
  readonly hint: string;
  readonly cause?: unknown;
  /** Where in the object the problem is, e.g. "spec.template.spec". */
  readonly path?: string;
}

/** The one error type of @contrast/kube: bad input, never a crypto or policy verdict. */
export class KubeError extends ContrastError<KubeErrorCode> {
  readonly path: string | undefined;
  constructor(code: KubeErrorCode, message: string, options: KubeErrorOptions) {
    super(code, message, {
      hint: options.hint,
      kind: "input",
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.path === undefined ? {} : { details: { path: options.path } }),
    });
    this.path = options.path;
  }
}
