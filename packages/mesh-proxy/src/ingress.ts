import { connect, type Socket } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { formatHostPort, type HostPort } from "./config.js";
import { type MeshCredentials, tlsOptionsFor } from "./credentials.js";
import { type ListenerOptions, ProxyListener } from "./listener.js";
import type { HandshakeFailureReason } from "./metrics.js";
import { forward } from "./splice.js";

/** `required`: a client certificate from the mesh CA (port 15006); `none`: any client (15007). */
export type ClientAuth = "required" | "none";

/**
 * Where an accepted connection goes after termination, decided at accept time from the raw TCP
 * socket (pod mode reads its original destination; standalone mode returns a fixed address).
 * Throwing (or returning an error) refuses the connection before any handshake.
 */
export type ResolveTarget = (socket: Socket) => HostPort | Error;

/** `name` is the listener's name in metrics and logs (upstream: `ingress`, `ingressWithoutClientAuth`). */
export interface IngressOptions extends ListenerOptions {
  readonly credentials: MeshCredentials;
  readonly clientAuth: ClientAuth;
  readonly resolveTarget: ResolveTarget;
}

/** Classifies a peer-verification failure (Node's authorizationError codes, OpenSSL's names). */
export function verifyFailureReason(code: string | undefined): HandshakeFailureReason {
  switch (code) {
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return "cert_expired";
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "CERT_SIGNATURE_FAILURE":
      return "unknown_ca";
    default:
      return "bad_cert";
  }
}

/** Classifies an error of a TLS socket during its handshake. */
export function handshakeErrorReason(error: unknown): HandshakeFailureReason {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "ERR_TLS_HANDSHAKE_TIMEOUT") return "timeout";
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE") return "closed";
  if (code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE") return "no_client_cert";
  return "protocol";
}

/**
 * One ingress port: terminates TLS with the workload's mesh certificate and forwards the plaintext
 * to the connection's target. With `clientAuth: "required"` a peer must present a chain that
 * verifies against the mesh CA (and only the mesh CA: no system roots); no SAN is matched, as
 * upstream's Envoy matches none. The verdict is Node's OpenSSL verification; a refused peer is
 * closed after the handshake without a byte reaching the target, and counted by reason.
 */
export class IngressListener extends ProxyListener {
  protected readonly server: Server;
  readonly #options: IngressOptions;
  // Accepted connections until their handshake ends, by the peer's address (unique among open
  // connections): the TLS socket of tls.Server is a new object, this finds the raw socket's state.
  readonly #pending = new Map<string, Pending>();
  // Connections refused at accept: their TLS wrapper's error is not a handshake failure of its own.
  readonly #refused = new WeakSet<Socket>();
  readonly #byRaw = new WeakMap<Socket, Pending>();

  constructor(options: IngressOptions) {
    super(options);
    this.#options = options;
    this.server = createServer({
      // tls.Server builds its context from these (it ignores a `secureContext` option).
      ...tlsOptionsFor(options.credentials),
      requestCert: options.clientAuth === "required",
      // Checked in onSecure instead, so that refusals are counted by reason.
      rejectUnauthorized: false,
      handshakeTimeout: this.timeouts.handshakeMs,
      // Not yet: a peer that ends during the handshake must be closed, not kept half-open until
      // the handshake timeout. Forwarded connections allow it (onSecure).
      allowHalfOpen: false,
    });
    // Before the TLS wrapper sees the socket: refuse over-limit and unroutable connections at once.
    this.server.prependListener("connection", (raw: Socket) => this.#onConnection(raw));
    this.server.on("secureConnection", (socket: TLSSocket) => this.#onSecure(socket));
    this.server.on("tlsClientError", (error: Error, socket: TLSSocket) => this.#onTlsError(error, socket));
  }

  /** New connections get the new chain; open ones keep theirs. */
  updateCredentials(credentials: MeshCredentials): void {
    this.server.setSecureContext(tlsOptionsFor(credentials));
  }

  #onConnection(raw: Socket): void {
    const { metrics } = this.#options;
    metrics.connectionAccepted(this.name);
    this.tracker.add(raw);
    if (!this.handshakes.tryAcquire()) {
      metrics.handshakeFailed(this.name, "handshake_limit");
      raw.once("close", () => metrics.connectionEnded(this.name));
      this.#refuse(raw);
      return;
    }
    metrics.handshakeStarted(this.name);
    const key = peerKey(raw);
    let handshaking = true;
    let ended = false;
    const state: Pending = {
      raw,
      target: undefined,
      // Once the handshake is over, either way.
      handshakeOver: () => {
        if (!handshaking) return;
        handshaking = false;
        this.handshakes.release();
        metrics.handshakeEnded(this.name);
      },
      // Once the connection is gone: raw socket closed, or its TLS socket (whose close is the
      // reliable one once the TLS wrapper owns the handle).
      ended: () => {
        if (ended) return;
        ended = true;
        state.handshakeOver();
        if (this.#pending.get(key) === state) this.#pending.delete(key);
        this.tracker.remove(raw);
        metrics.connectionEnded(this.name);
      },
    };
    this.#pending.set(key, state);
    this.#byRaw.set(raw, state);
    raw.once("close", state.ended);
    let target: HostPort | Error;
    try {
      target = this.#options.resolveTarget(raw);
    } catch (e) {
      target = e instanceof Error ? e : new Error(String(e));
    }
    if (target instanceof Error) {
      metrics.targetRefused(this.name);
      this.log.info("connection refused", { listener: this.name, peer: raw.remoteAddress, error: target });
      this.#refuse(raw);
      return;
    }
    state.target = target;
  }

  /** The accept-time state of a TLS socket's raw socket. */
  #stateOf(socket: TLSSocket): Pending | undefined {
    const parent = parentOf(socket);
    const state = parent === undefined ? undefined : this.#byRaw.get(parent);
    return state ?? this.#pending.get(peerKey(socket));
  }

  /** Closes a connection before any TLS; its wrapper's error (if any) is not counted again. */
  #refuse(raw: Socket): void {
    this.#refused.add(raw);
    raw.destroy();
  }

  #onTlsError(error: Error, socket: TLSSocket): void {
    // tls.Server's wrapper keeps the raw socket as `_parent` (Node internals; without it a refused
    // connection would only be counted twice).
    const parent = parentOf(socket);
    if (parent !== undefined && this.#refused.has(parent)) {
      socket.destroy();
      return;
    }
    this.#options.metrics.handshakeFailed(this.name, handshakeErrorReason(error));
    this.log.debug("handshake failed", { listener: this.name, error: String(error), peer: socket.remoteAddress });
    const state = this.#stateOf(socket);
    // With a tlsClientError listener Node leaves the socket open (even after a handshake timeout).
    socket.destroy();
    state?.raw.destroy();
    state?.ended();
  }

  #onSecure(socket: TLSSocket): void {
    const { metrics } = this.#options;
    const state = this.#stateOf(socket);
    if (state === undefined) {
      socket.destroy();
      return;
    }
    state.handshakeOver();
    socket.once("close", state.ended);
    this.tracker.replace(state.raw, socket);
    if (this.#options.clientAuth === "required" && !socket.authorized) {
      const reason =
        socket.getPeerX509Certificate() === undefined
          ? "no_client_cert"
          : verifyFailureReason(String(socket.authorizationError ?? ""));
      metrics.handshakeFailed(this.name, reason);
      this.log.info("client refused", { listener: this.name, peer: socket.remoteAddress, reason });
      socket.destroy();
      return;
    }
    const target = state.target;
    if (target === undefined) {
      socket.destroy();
      return;
    }
    socket.pause();
    socket.allowHalfOpen = true;
    socket.setNoDelay(true);
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    const connectTimer = setTimeout(() => upstream.destroy(new Error("connect timeout")), this.timeouts.connectMs);
    const failed = (error: Error) => {
      clearTimeout(connectTimer);
      metrics.upstreamConnectFailed(this.name);
      this.log.info("upstream connect failed", {
        listener: this.name,
        target: formatHostPort(target),
        error: String(error),
      });
      socket.destroy();
    };
    upstream.once("error", failed);
    socket.once("close", () => {
      if (upstream.connecting) upstream.destroy();
    });
    upstream.once("connect", () => {
      clearTimeout(connectTimer);
      upstream.off("error", failed);
      if (socket.destroyed) {
        upstream.destroy();
        return;
      }
      forward(socket, upstream, "up", {
        listener: this.name,
        idle: this.idle,
        halfOpenMs: this.timeouts.halfOpenMs,
        metrics,
        tracker: this.tracker,
      });
    });
  }
}

interface Pending {
  readonly raw: Socket;
  target: HostPort | undefined;
  readonly handshakeOver: () => void;
  readonly ended: () => void;
}

/**
 * The raw socket a tls.Server wrapped (`_parent`, Node internals); undefined if a future Node
 * renames it, and then the peer's address finds the state instead.
 */
function parentOf(socket: TLSSocket): Socket | undefined {
  const parent = (socket as unknown as { _parent?: unknown })._parent;
  return parent !== null && typeof parent === "object" ? (parent as Socket) : undefined;
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** A target that is always the same address: the standalone mode's `--upstream`. */
export function fixedTarget(target: HostPort): ResolveTarget {
  return () => target;
}
