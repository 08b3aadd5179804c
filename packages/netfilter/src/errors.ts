import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { NETFILTER_ERROR_CODES, type NetfilterErrorCode } from "./error-codes.js";

const INFO = new Map(NETFILTER_ERROR_CODES.map((c) => [c.code as string, c]));

/** A failure to set up interception or to read an original destination; kind and hint from the registry. */
export class NetfilterError extends ContrastError<NetfilterErrorCode> {
  constructor(code: NetfilterErrorCode, message: string, options: Omit<ContrastErrorOptions, "kind"> = {}) {
    const info = INFO.get(code);
    super(code, message, { hint: info?.hint, ...options, kind: info?.kind ?? "internal" } as ContrastErrorOptions);
  }
}
