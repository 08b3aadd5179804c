import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { CLI_ERROR_CODES, type CliErrorCode } from "../error-codes.js";

/** A CLI error whose kind and default hint come from its registry entry. */
export function cliError(code: CliErrorCode, message: string, options: ContrastErrorOptions = {}): ContrastError {
  const info = CLI_ERROR_CODES.find((c) => c.code === code);
  return new ContrastError(code, message, {
    kind: info?.kind ?? "input",
    ...(info === undefined ? {} : { hint: info.hint }),
    ...options,
  });
}
