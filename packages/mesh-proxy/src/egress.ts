import { createServer, type Server, type Socket } from "node:net";
import { type ConnectionOptions, type SecureContext, connect as tlsConnect } from "node:tls";
import { formatHostPort, type HostPort } from "./config.js";
import { type MeshCredentials, secureContextFor } from "./credentials.js";
import { handshakeErrorReason, verifyFailureReason } from "./ingress.js";
import { type ListenerOptions, ProxyListener } from "./listener.js";
import { forward } from "./splice.js";

/** `name` is the entry's name (metrics, logs), as in the annotation. */
export interface EgressOptions extends ListenerOptions {
  readonly credentials: MeshCredentials;
  /** Where the mTLS connection goes: the entry's remote host and port. */
  readonly remote: HostPort;
}

// Node's client errors for a server chain that does not verify (the codes of verifyFailureReason).
const VERIFY_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REJECTED",
  "CERT_UNTRUSTED",
]);

/**
 * One egress entry: a plaintext listener (on a 127.x address, for the application in the pod)
 * whose connections are forwarded over mTLS to the remote, presenting the workload chain and
 * verifying the server against the mesh CA only. No host name is checked: mesh certificates name
 * the workload's own SANs, which the client side does not know, and upstream's Envoy matches none
 * either; any peer holding a mesh-CA certificate of this deployment is trusted.
 */
export class EgressListener extends ProxyListener {
  protected readonly server: Server;
  readonly #options: EgressOptions;
  #context: SecureContext;

  constructor(options: EgressOptions) {
    super(options);
    this.#options = options;
    this.#context = secureContextFor(options.credentials);
    // Paused: nothing is read from the application until the remote is connected and verified.
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.#onConnection(socket));
  }

  updateCredentials(credentials: MeshCredentials): void {
    this.#context = secureContextFor(credentials);
  }

  #onConnection(local: Socket): void {
    const { metrics } = this.#options;
    metrics.connectionAccepted(this.name);
    local.once("close", () => metrics.connectionEnded(this.name));
    this.tracker.add(local);
    if (!this.handshakes.tryAcquire()) {
      metrics.handshakeFailed(this.name, "handshake_limit");
      local.destroy();
      return;
    }
    metrics.handshakeStarted(this.name);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.handshakes.release();
      metrics.handshakeEnded(this.name);
    };
    const { remote } = this.#options;
    let connected = false;
    const tls = tlsConnect({
      host: remote.host,
      port: remote.port,
      secureContext: this.#context,
      rejectUnauthorized: true,
      checkServerIdentity: () => undefined,
      allowHalfOpen: true,
      noDelay: true,
    } as ConnectionOptions);
    const timer = setTimeout(() => {
      tls.destroy(Object.assign(new Error("handshake timeout"), { code: "ERR_TLS_HANDSHAKE_TIMEOUT" }));
    }, this.timeouts.connectMs + this.timeouts.handshakeMs);
    const failed = (error: Error & { code?: string }) => {
      clearTimeout(timer);
      release();
      const code = error.code ?? "";
      if (VERIFY_CODES.has(code)) metrics.handshakeFailed(this.name, verifyFailureReason(code));
      else if (
        !connected &&
        (code === "ECONNREFUSED" ||
          code === "ENOTFOUND" ||
          code === "EHOSTUNREACH" ||
          code === "ETIMEDOUT" ||
          code === "ENETUNREACH" ||
          code === "EAI_AGAIN")
      )
        metrics.upstreamConnectFailed(this.name);
      else metrics.handshakeFailed(this.name, handshakeErrorReason(error));
      this.log.info("egress connection failed", {
        listener: this.name,
        remote: formatHostPort(remote),
        error: String(error),
      });
      local.destroy();
    };
    tls.once("connect", () => {
      connected = true;
    });
    tls.once("error", failed);
    local.once("close", () => {
      if (!released) tls.destroy();
    });
    tls.once("secureConnect", () => {
      clearTimeout(timer);
      release();
      tls.off("error", failed);
      if (local.destroyed) {
        tls.destroy();
        return;
      }
      local.setNoDelay(true);
      forward(local, tls, "down", {
        listener: this.name,
        idle: this.idle,
        halfOpenMs: this.timeouts.halfOpenMs,
        metrics,
        tracker: this.tracker,
      });
    });
  }
}
