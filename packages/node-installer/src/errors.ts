import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { NODE_INSTALL_ERROR_CODES, type NodeInstallErrorCode } from "./error-codes.js";

const INFO = new Map(NODE_INSTALL_ERROR_CODES.map((c) => [c.code as string, c]));

/** A failure of the node installer; kind and hint from the registry unless the caller gives a hint. */
export class NodeInstallError extends ContrastError<NodeInstallErrorCode> {
  constructor(code: NodeInstallErrorCode, message: string, options: Omit<ContrastErrorOptions, "kind"> = {}) {
    const info = INFO.get(code);
    super(code, message, { hint: info?.hint, ...options, kind: info?.kind ?? "internal" } as ContrastErrorOptions);
  }
}
