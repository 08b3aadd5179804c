import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { WORKLOAD_ERROR_CODES, type WorkloadErrorCode } from "./error-codes.js";

const INFO = new Map(WORKLOAD_ERROR_CODES.map((c) => [c.code as string, c]));

/** A failure of the workload side; its kind and default hint come from the registry. */
export class WorkloadError extends ContrastError<WorkloadErrorCode> {
  constructor(code: WorkloadErrorCode, message: string, options: Omit<ContrastErrorOptions, "kind"> = {}) {
    const info = INFO.get(code);
    super(code, message, { hint: info?.hint, ...options, kind: info?.kind ?? "internal" } as ContrastErrorOptions);
  }
}
