import type { Server } from "node:net";
import { formatHostPort, type HostPort } from "./config.js";
import { MeshProxyError } from "./errors.js";

/** Binds a server, turning bind errors into PROXY_LISTEN_FAILED; resolves with the bound address. */
export function listenOn(server: Server, address: HostPort, name: string): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (cause: Error) => {
      reject(
        new MeshProxyError("PROXY_LISTEN_FAILED", `listener ${name} cannot listen on ${formatHostPort(address)}`, {
          cause,
          details: { listener: name, host: address.host, port: address.port },
        }),
      );
    };
    server.once("error", onError);
    server.listen({ host: address.host, port: address.port, backlog: 4096 }, () => {
      server.off("error", onError);
      const bound = server.address();
      resolve(typeof bound === "object" && bound !== null ? { host: bound.address, port: bound.port } : { ...address });
    });
  });
}
