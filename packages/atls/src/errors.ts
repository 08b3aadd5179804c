import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { ATLS_ERROR_CODES, type AtlsErrorCode } from "./error-codes.js";

const KINDS = new Map(ATLS_ERROR_CODES.map((c) => [c.code as string, c]));

/** An aTLS failure; its kind and default hint come from the registry, so a code has one kind. */
export class AtlsError extends ContrastError<AtlsErrorCode> {
  constructor(code: AtlsErrorCode, message: string, options: Omit<ContrastErrorOptions, "kind"> = {}) {
    const info = KINDS.get(code);
    super(code, message, { hint: info?.hint, ...options, kind: info?.kind ?? "internal" } as ContrastErrorOptions);
  }
}
