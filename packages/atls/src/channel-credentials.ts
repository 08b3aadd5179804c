import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { ContrastError } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import { channelBinding } from "./channel-binding.js";
import { AtlsError } from "./errors.js";

/**
 * grpc-js channel credentials that run their own TLS handshake on the TCP socket grpc-js opens
 * (grpc-js's own TLS would call `checkServerIdentity`, which it skips for self-signed
 * certificates). They remember the connection they made last, for its TLS exporter channel
 * binding, and the last handshake failure. Subclasses say how a handshake is done and judged.
 */
export abstract class HandshakeChannelCredentials extends grpc.ChannelCredentials {
  #lastError: ContrastError | undefined;
  #lastSocket: TLSSocket | undefined;

  /** Runs the TLS handshake on `socket`; rejects (with the socket destroyed) when it fails. */
  protected abstract handshake(socket: Socket): Promise<TLSSocket>;

  /** What the connection is called in errors: "aTLS" or "TLS". */
  protected abstract readonly connectionKind: string;

  /**
   * The TLS exporter channel binding (channelBinding) of the connection these credentials made
   * last: with one channel per credentials object, the connection its next call goes on (call
   * `waitForReady` on the client first). Should grpc-js reconnect between this read and the call,
   * the server sees another exporter and refuses the evidence; the caller tries again.
   * ATLS_CHANNEL_BINDING_UNAVAILABLE when there is no open connection.
   */
  channelBinding(): Uint8Array {
    const socket = this.#lastSocket;
    if (socket === undefined || socket.destroyed) {
      throw new AtlsError(
        "ATLS_CHANNEL_BINDING_UNAVAILABLE",
        `no open ${this.connectionKind} connection to take a channel binding of`,
      );
    }
    return channelBinding(socket);
  }

  /** The most recent handshake failure of a channel using these credentials. */
  lastError(): ContrastError | undefined {
    return this.#lastError;
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(): ReturnType<grpc.ChannelCredentials["_createSecureConnector"]> {
    return {
      connect: async (socket: Socket) => {
        try {
          const tls = await this.handshake(socket);
          this.#lastSocket = tls;
          return { socket: tls, secure: true };
        } catch (e) {
          this.#lastError = ContrastError.from(e);
          throw e;
        }
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => grpc.CallCredentials.createEmpty(),
      destroy: () => {},
    };
  }
}
