import { ContrastError, type ContrastErrorOptions } from "@contrast/core";
import { MESH_PROXY_ERROR_CODES, type MeshProxyErrorCode } from "./error-codes.js";

const INFO = new Map(MESH_PROXY_ERROR_CODES.map((c) => [c.code as string, c]));

/** A failure of the mesh proxy; its kind and default hint come from the registry. */
export class MeshProxyError extends ContrastError<MeshProxyErrorCode> {
  constructor(code: MeshProxyErrorCode, message: string, options: Omit<ContrastErrorOptions, "kind"> = {}) {
    const info = INFO.get(code);
    super(code, message, { hint: info?.hint, ...options, kind: info?.kind ?? "internal" } as ContrastErrorOptions);
  }
}
