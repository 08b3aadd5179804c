import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { SERVER_ERROR_CODES, type ServerErrorCode } from "./error-codes.js";

/** A failure of the Coordinator program; its kind and default hint come from the registry. */
export class ServerError extends ContrastError<ServerErrorCode> {
  constructor(code: ServerErrorCode, message: string, options: ContrastErrorOptions = {}) {
    const info = SERVER_ERROR_CODES.find((c) => c.code === code);
    const hint = options.hint ?? info?.hint;
    super(code, message, {
      ...options,
      kind: options.kind ?? info?.kind ?? "internal",
      ...(hint === undefined ? {} : { hint }),
    });
  }
}
