import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import type { ApiErrorCode } from "./error-codes.js";

/** An error of the API layer itself: a bare or damaged gRPC status. */
export class ApiError extends ContrastError<ApiErrorCode> {
  constructor(code: ApiErrorCode, message: string, options: ContrastErrorOptions = {}) {
    super(code, message, options);
  }
}
