import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import type { LocalrunErrorCode } from "../error-codes.js";

export class LocalrunError extends ContrastError<LocalrunErrorCode> {
  constructor(code: LocalrunErrorCode, message: string, options: ContrastErrorOptions & { hint: string }) {
    super(code, message, options);
  }
}
