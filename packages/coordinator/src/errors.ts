import { ContrastError, type ContrastErrorOptions, type ErrorKind } from "@contrast/core";
import { COORDINATOR_ERROR_CODES, type CoordinatorErrorCode } from "./error-codes.js";

export type { CoordinatorErrorCode } from "./error-codes.js";

const KIND = new Map<string, ErrorKind>(COORDINATOR_ERROR_CODES.map((c) => [c.code, c.kind]));

/**
 * A failure of the Coordinator: its state, its history store or one of its RPCs. The kind is the
 * registry's unless a throw site says otherwise, so the gRPC status follows the registry.
 */
export class CoordinatorError extends ContrastError<CoordinatorErrorCode> {
  constructor(code: CoordinatorErrorCode, message: string, options: ContrastErrorOptions = {}) {
    super(code, message, { kind: KIND.get(code) ?? "internal", ...options });
  }
}
