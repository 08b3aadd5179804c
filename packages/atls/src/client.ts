import type { KeyObject } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { ContrastError } from "@contrast/core";
import { createAtlsCertificate } from "./certificate.js";
import { HandshakeChannelCredentials } from "./channel-credentials.js";
import { AtlsError } from "./errors.js";
import { NONCE_BYTES, nonceToAlpn, nonceToServerName } from "./nonce.js";
import { EvidenceCache } from "./verify-evidence.js";
import { type AtlsAttestedPeer, type AtlsVerifyOptions, verifyAtlsCertificate } from "./verify-peer.js";

export interface AtlsClientOptions {
  /** How the server's evidence is judged. */
  readonly verify: AtlsVerifyOptions;
  /**
   * The key of the client certificate (workload-owner P-384, seed-share-owner RSA, mesh P-256):
   * the server authorises by its SubjectPublicKeyInfo. A fresh P-256 key per connection when
   * left out, as upstream clients do.
   */
  readonly clientKey?: KeyObject | undefined;
  readonly random: (size: number) => Uint8Array;
  /** From TCP connect to a verified server; default 30 s (upstream's MinConnectTimeout). */
  readonly handshakeTimeoutMs?: number;
  /** Called with each verified server, e.g. to log its policy hash. */
  readonly onVerified?: (server: AtlsAttestedPeer) => void;
}

/**
 * The cache for verifications that bring none: every credentials object and connection of this
 * process shares it, so a client making many channels to one Coordinator verifies its chain once.
 * Sharing is safe: a hit is keyed by the exact bytes that were fully verified before, and gives
 * the verdict an uncached verification would (validity at each call's time, CRLs never cached).
 */
const sharedCache = new EvidenceCache();

export interface AtlsConnection {
  readonly socket: TLSSocket;
  readonly server: AtlsAttestedPeer;
}

/**
 * Runs the aTLS client handshake on a connected socket: a fresh nonce in both SNI (v1.5 servers)
 * and ALPN (newer servers), then the server's certificate and evidence verified before anything
 * is written on the connection. Rejects, with the socket destroyed, when the server cannot prove
 * it runs what `verify` accepts.
 */
export async function atlsHandshake(socket: Socket, options: AtlsClientOptions): Promise<AtlsConnection> {
  const nonce = options.random(NONCE_BYTES);
  const own = await createAtlsCertificate({
    key: options.clientKey,
    clock: options.verify.clock,
    random: options.random,
  });
  const timeoutMs = options.handshakeTimeoutMs ?? 30_000;
  return new Promise<AtlsConnection>((resolve, reject) => {
    let settled = false;
    const tls = tlsConnect({
      socket,
      servername: nonceToServerName(nonce),
      ALPNProtocols: [nonceToAlpn(nonce), "h2"],
      key: own.keyPem,
      cert: own.certificatePem,
      minVersion: "TLSv1.2",
      // The chain is self-signed by design; the evidence below is what is checked.
      rejectUnauthorized: false,
    });
    const done = (error: unknown, conn?: AtlsConnection) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (conn !== undefined) {
        tls.off("error", onError);
        resolve(conn);
        return;
      }
      tls.destroy();
      socket.destroy();
      reject(error);
    };
    const onError = (e: Error) =>
      done(e instanceof ContrastError ? e : new AtlsError("ATLS_HANDSHAKE_FAILED", `TLS: ${e.message}`, { cause: e }));
    const timer = setTimeout(
      () => done(new AtlsError("ATLS_HANDSHAKE_TIMEOUT", `the server did not complete aTLS within ${timeoutMs} ms`)),
      timeoutMs,
    );
    tls.on("error", onError);
    tls.once("close", () =>
      done(new AtlsError("ATLS_HANDSHAKE_FAILED", "the server closed the connection during the handshake")),
    );
    tls.once("secureConnect", () => {
      const peer509 = tls.getPeerX509Certificate();
      const verify = options.verify.cache ? options.verify : { ...options.verify, cache: sharedCache };
      verifyAtlsCertificate(peer509, nonce, verify).then(
        (server) => {
          if (tls.alpnProtocol !== "h2") {
            done(
              new AtlsError(
                "ATLS_HANDSHAKE_FAILED",
                `the server did not agree to ALPN h2 (got ${String(tls.alpnProtocol)})`,
              ),
            );
            return;
          }
          options.onVerified?.(server);
          done(undefined, { socket: tls, server });
        },
        (e: unknown) => done(e),
      );
    });
  });
}

/** Connects to an aTLS server over TCP and verifies it (non-gRPC use). */
export function atlsConnect(host: string, port: number, options: AtlsClientOptions): Promise<AtlsConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    socket.once("error", (e) =>
      reject(new AtlsError("ATLS_HANDSHAKE_FAILED", `connecting to ${host}:${port}: ${e.message}`, { cause: e })),
    );
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      atlsHandshake(socket, options).then(resolve, reject);
    });
  });
}

/**
 * grpc-js channel credentials that run aTLS on every connection the channel makes. The
 * connection is handed to grpc-js (and the HTTP/2 preface written) only after the server's
 * evidence verified, so no request ever reaches an unverified server. Failures surface on calls
 * as UNAVAILABLE with the aTLS error's message; `lastError()` gives the ContrastError.
 */
export class AtlsChannelCredentials extends HandshakeChannelCredentials {
  protected readonly connectionKind = "aTLS";
  private readonly options: AtlsClientOptions;
  constructor(options: AtlsClientOptions) {
    super();
    this.options = options;
  }
  protected async handshake(socket: Socket): Promise<TLSSocket> {
    return (await atlsHandshake(socket, this.options)).socket;
  }
}

export function atlsChannelCredentials(options: AtlsClientOptions): AtlsChannelCredentials {
  return new AtlsChannelCredentials(options);
}
