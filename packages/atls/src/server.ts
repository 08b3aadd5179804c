import { createServer, type Server as NetServer, type Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import { type Clock, ContrastError, concatBytes, encodePem, type Logger, noopLogger, toBase64 } from "@contrast/core";
import { derCommonNameName, ecdsaSigner, signCertificate, spkiOfKey } from "@contrast/x509";
import * as grpc from "@grpc/grpc-js";
import {
  type AtlsCertificate,
  createAtlsCertificate,
  judgeAtlsCertificate,
  readAtlsCertificate,
} from "./certificate.js";
import { parseClientHello } from "./client-hello.js";
import type { AtlsErrorCode } from "./error-codes.js";
import { AtlsError } from "./errors.js";
import type { EvidenceIssuer } from "./issuer.js";
import { NONCE_BYTES, nonceFromClientHello } from "./nonce.js";
import { reportData } from "./report-data.js";

/** The peer of a connection the aTLS server accepted, as RPC handlers see it. */
export interface AtlsPeer {
  /** The client's certificate (DER), if it sent one. */
  readonly certificateDer?: Uint8Array;
  /** PKIX SubjectPublicKeyInfo DER of the client certificate's key: what authorisation uses. */
  readonly publicKeyDer?: Uint8Array;
  /** `"<address>:<port>"` of the connection. */
  readonly address: string;
  /** RFC 5705 keying material of this connection's TLS session. */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Uint8Array;
  /** The negotiated TLS version ("TLSv1.3"): channelBinding needs 1.3. */
  getProtocol(): string | null;
  /**
   * Evidence the client put into its certificate for the server nonce of this handshake
   * (upstream initializers, `serverNonceInCertificateRequest`): not verified here; verify it with
   * verifyEvidence and the given report data.
   */
  readonly handshakeEvidence?: { readonly oid: string; readonly evidence: Uint8Array; readonly reportData: Uint8Array };
}

export interface AtlsServerOptions {
  readonly issuer: EvidenceIssuer;
  readonly clock: Clock;
  readonly random: (size: number) => Uint8Array;
  /** Ask clients for a certificate (default true); its key is what authorisation uses. */
  readonly requestClientCert?: boolean;
  /**
   * Put a fresh server nonce into the CertificateRequest (as the CN of its one acceptable CA), as
   * upstream servers do, so that clients attesting themselves in their certificate (upstream's
   * initializer) can bind their evidence to it. Implies requestClientCert.
   */
  readonly serverNonceInCertificateRequest?: boolean;
  /** From the first byte to a finished handshake; default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Connections in the handshake at once; more are refused at once. Default 1024. */
  readonly maxConcurrentHandshakes?: number;
  /** Largest ClientHello accepted; default 16 KiB. */
  readonly maxClientHelloBytes?: number;
  /** Called for every failed handshake, with its code: the hook for metrics. */
  readonly onHandshakeFailure?: (code: AtlsErrorCode, error: ContrastError) => void;
  readonly log?: Logger;
}

export interface AtlsServer {
  /**
   * Injects every verified connection into this grpc-js server, or into a connection injector
   * made from one (call once, before listening).
   */
  attach(target: grpc.Server | grpc.ConnectionInjector): void;
  /** Listens on a TCP port (0: any free one); resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Runs the aTLS handshake on a connection accepted elsewhere. */
  handleConnection(socket: Socket): void;
  /** The aTLS peer of a call on an injected connection. */
  peerOf(call: { getPeer(): string }): AtlsPeer | undefined;
  /** Connections in the handshake now. */
  readonly handshaking: number;
  /**
   * Stops accepting, aborts handshakes in progress, and resolves when every accepted connection
   * has ended (drain the gRPC server first with tryShutdown); `force` destroys them instead.
   */
  close(options?: { force?: boolean }): Promise<void>;
}

/** Throwaway certificate whose subject carries the server nonce into the CertificateRequest. */
function nonceCa(nonce: Uint8Array, key: AtlsCertificate["privateKey"], clock: Clock): string {
  const now = clock.now().getTime();
  const name = derCommonNameName(toBase64(nonce));
  return encodePem(
    "CERTIFICATE",
    signCertificate({
      serial: 0,
      signer: ecdsaSigner(key),
      issuer: name,
      subject: name,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 3_600_000),
      subjectPublicKeyInfo: spkiOfKey(key),
    }),
  );
}

/**
 * The aTLS server: reads each connection's ClientHello first (bounded in size and time) to learn
 * the client's nonce from ALPN or SNI, issues evidence for a fresh per-connection certificate
 * bound to it, runs TLS with that certificate, and hands the decrypted connection to grpc-js.
 */
export function createAtlsServer(options: AtlsServerOptions): AtlsServer {
  const log = options.log ?? noopLogger;
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const maxHandshakes = options.maxConcurrentHandshakes ?? 1024;
  const maxHello = options.maxClientHelloBytes ?? 16_384;
  const serverNonce = options.serverNonceInCertificateRequest === true;
  const requestCert = serverNonce || options.requestClientCert !== false;
  let injector: grpc.ConnectionInjector | undefined;
  let listener: NetServer | undefined;
  let closed = false;
  const handshaking = new Set<Socket>();
  const established = new Map<Socket, Promise<void>>();
  const peers = new Map<string, AtlsPeer>();

  function fail(raw: Socket, error: unknown): void {
    const e =
      error instanceof ContrastError
        ? error
        : new AtlsError("ATLS_HANDSHAKE_FAILED", `handshake failed: ${String(error)}`, { cause: error });
    const code = (e.code.startsWith("ATLS_") ? e.code : "ATLS_HANDSHAKE_FAILED") as AtlsErrorCode;
    if (handshaking.delete(raw)) {
      options.onHandshakeFailure?.(code, e);
      log.debug("aTLS handshake failed", { code: e.code, error: e.message, remote: raw.remoteAddress });
    }
    raw.destroy();
  }

  function handleConnection(raw: Socket): void {
    if (closed || injector === undefined) {
      raw.destroy();
      return;
    }
    if (handshaking.size >= maxHandshakes) {
      options.onHandshakeFailure?.(
        "ATLS_HANDSHAKE_LIMIT",
        new AtlsError("ATLS_HANDSHAKE_LIMIT", `${handshaking.size} handshakes in progress`),
      );
      raw.destroy();
      return;
    }
    handshaking.add(raw);
    const timer = setTimeout(
      () => fail(raw, new AtlsError("ATLS_HANDSHAKE_TIMEOUT", `no handshake within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
    raw.once("close", () => {
      clearTimeout(timer);
      if (handshaking.has(raw))
        fail(raw, new AtlsError("ATLS_HANDSHAKE_FAILED", "the client closed the connection during the handshake"));
    });
    raw.on("error", () => raw.destroy());
    let buffered: Uint8Array = new Uint8Array(0);
    const onData = (chunk: Buffer) => {
      buffered = concatBytes(buffered, chunk);
      let hello: ReturnType<typeof parseClientHello>;
      try {
        hello = parseClientHello(buffered, maxHello);
      } catch (e) {
        raw.off("data", onData);
        fail(raw, e);
        return;
      }
      if (!hello.complete) return;
      raw.off("data", onData);
      raw.pause();
      void startTls(raw, buffered, hello, timer).catch((e: unknown) => fail(raw, e));
    };
    raw.on("data", onData);
  }

  async function startTls(
    raw: Socket,
    buffered: Uint8Array,
    hello: Parameters<typeof nonceFromClientHello>[0],
    timer: NodeJS.Timeout,
  ): Promise<void> {
    const nonce = nonceFromClientHello(hello);
    let own: AtlsCertificate;
    try {
      own = await createAtlsCertificate({
        issuer: options.issuer,
        nonce,
        clock: options.clock,
        random: options.random,
      });
    } catch (e) {
      // The local TEE failed, not the client: reported as such, and logged louder.
      log.warn("aTLS evidence issuing failed", { error: e instanceof Error ? e.message : String(e) });
      throw e instanceof AtlsError
        ? e
        : new AtlsError(
            "ATLS_ISSUER_FAILED",
            `issuing evidence failed: ${e instanceof Error ? e.message : String(e)}`,
            {
              cause: e,
            },
          );
    }
    if (!handshaking.has(raw)) return; // timed out or closed while the TEE worked
    const ownNonce = serverNonce ? options.random(NONCE_BYTES) : undefined;
    const secureContext = createSecureContext({
      key: own.keyPem,
      cert: own.certificatePem,
      minVersion: "TLSv1.2",
      ...(ownNonce ? { ca: nonceCa(ownNonce, own.privateKey, options.clock) } : {}),
    });
    raw.unshift(Buffer.from(buffered));
    const tls = new TLSSocket(raw, {
      isServer: true,
      secureContext,
      requestCert,
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
    });
    tls.on("error", (e) => fail(raw, new AtlsError("ATLS_HANDSHAKE_FAILED", `TLS: ${e.message}`, { cause: e })));
    tls.once("secure", () => {
      clearTimeout(timer);
      if (!handshaking.delete(raw)) {
        tls.destroy();
        return;
      }
      const address = `${raw.remoteAddress}:${raw.remotePort}`;
      const peer509 = tls.getPeerX509Certificate();
      const certificateDer = peer509 === undefined ? undefined : new Uint8Array(peer509.raw);
      let peer: AtlsPeer = {
        address,
        exportKeyingMaterial: (length, label, context) =>
          new Uint8Array(tls.exportKeyingMaterial(length, label, Buffer.from(context ?? new Uint8Array(0)))),
        getProtocol: () => tls.getProtocol(),
      };
      if (certificateDer !== undefined && certificateDer.length > 0) {
        try {
          // TLS proved possession of the key, which is all authorisation uses (upstream takes any
          // client certificate on the user API). A certificate with evidence for our nonce is
          // checked as upstream's mesh API checks it: self-signed and valid now.
          const read = readAtlsCertificate(peer509);
          const parsed = ownNonce && read.evidence ? judgeAtlsCertificate(read, options.clock.now()) : read;
          peer = {
            ...peer,
            certificateDer,
            publicKeyDer: parsed.publicKeyDer,
            ...(ownNonce && parsed.evidence
              ? {
                  handshakeEvidence: {
                    oid: parsed.evidence.oid,
                    evidence: parsed.evidence.document,
                    reportData: reportData(parsed.publicKeyDer, ownNonce),
                  },
                }
              : {}),
          };
        } catch (e) {
          options.onHandshakeFailure?.((e as AtlsError).code ?? "ATLS_CERTIFICATE_MALFORMED", e as ContrastError);
          tls.destroy();
          return;
        }
      }
      peers.set(address, peer);
      established.set(
        raw,
        new Promise<void>((resolve) =>
          tls.once("close", () => {
            peers.delete(address);
            established.delete(raw);
            resolve();
          }),
        ),
      );
      // Node's http2 waits for 'secureConnect' on sockets it thinks are still connecting; a
      // server-side socket never emits it, so mark the handshake as done.
      (tls as unknown as { secureConnecting: boolean }).secureConnecting = false;
      injector?.injectConnection(tls);
    });
    // No raw.resume(): the TLS socket reads the handle (and the unshifted bytes) itself; resuming
    // the raw socket would let it consume TLS records as plain data.
  }

  return {
    attach(target) {
      injector =
        target instanceof grpc.Server
          ? target.createConnectionInjector(grpc.ServerCredentials.createInsecure())
          : target;
    },
    listen(port, host) {
      if (closed) return Promise.reject(new AtlsError("ATLS_SERVER_CLOSED", "the aTLS server is closed"));
      const l = createServer({ pauseOnConnect: false }, handleConnection);
      listener = l;
      return new Promise((resolve, reject) => {
        l.once("error", reject);
        l.listen(port, host, () => {
          l.off("error", reject);
          const a = l.address();
          resolve(typeof a === "object" && a !== null ? a.port : port);
        });
      });
    },
    handleConnection,
    peerOf: (call) => peers.get(call.getPeer()),
    get handshaking() {
      return handshaking.size;
    },
    async close(opts = {}) {
      closed = true;
      for (const raw of [...handshaking]) fail(raw, new AtlsError("ATLS_SERVER_CLOSED", "the server is closing"));
      if (opts.force) for (const raw of established.keys()) raw.destroy();
      const l = listener;
      if (l?.listening) await new Promise<void>((resolve) => l.close(() => resolve()));
      await Promise.all(established.values());
    },
  };
}
