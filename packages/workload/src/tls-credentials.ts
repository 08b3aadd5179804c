import type { KeyObject } from "node:crypto";
import type { Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import {
  AtlsError,
  createAtlsCertificate,
  HandshakeChannelCredentials,
  NONCE_BYTES,
  nonceToServerName,
} from "@contrast/atls";
import type { Clock, ContrastError } from "@contrast/core";

export interface UnverifiedTlsOptions {
  /** The workload key: each connection's client certificate is self-signed for it. */
  readonly key: KeyObject;
  readonly clock: Clock;
  readonly random: (size: number) => Uint8Array;
  /** From TCP connect to a finished handshake; default 30 s. */
  readonly handshakeTimeoutMs?: number;
}

/**
 * grpc-js channel credentials for TLS that does NOT judge the server (upstream v1.5's
 * initializer: what it receives is bound to its own key), with a self-signed client certificate
 * for the workload key and a fresh nonce in SNI, and the channel binding of the connection it
 * made last, which is what the exporter flow's evidence must bind.
 */
export class UnverifiedTlsCredentials extends HandshakeChannelCredentials {
  protected readonly connectionKind = "TLS";
  private readonly options: UnverifiedTlsOptions;
  constructor(options: UnverifiedTlsOptions) {
    super();
    this.options = options;
  }
  protected async handshake(socket: Socket): Promise<TLSSocket> {
    const { key, clock, random } = this.options;
    const own = await createAtlsCertificate({ key, clock, random });
    const timeoutMs = this.options.handshakeTimeoutMs ?? 30_000;
    return new Promise<TLSSocket>((resolve, reject) => {
      const tls = tlsConnect({
        socket,
        servername: nonceToServerName(random(NONCE_BYTES)),
        ALPNProtocols: ["h2"],
        key: own.keyPem,
        cert: own.certificatePem,
        // Unjudged by design (see above); the Coordinator's answer is bound to our key.
        rejectUnauthorized: false,
      });
      const fail = (e: ContrastError) => {
        clearTimeout(timer);
        tls.destroy();
        socket.destroy();
        reject(e);
      };
      const onError = (e: Error) => fail(new AtlsError("ATLS_HANDSHAKE_FAILED", `TLS: ${e.message}`, { cause: e }));
      const timer = setTimeout(
        () => fail(new AtlsError("ATLS_HANDSHAKE_TIMEOUT", `no TLS handshake within ${timeoutMs} ms`)),
        timeoutMs,
      );
      tls.on("error", onError);
      tls.once("secureConnect", () => {
        clearTimeout(timer);
        tls.off("error", onError);
        resolve(tls);
      });
    });
  }
}

export function unverifiedTlsCredentials(options: UnverifiedTlsOptions): UnverifiedTlsCredentials {
  return new UnverifiedTlsCredentials(options);
}
