import { Counter, Gauge, Registry } from "prom-client";

/** Why a TLS handshake of an ingress or egress connection failed; a label of the failures counter. */
export type HandshakeFailureReason =
  /** mTLS port: the client sent no certificate. */
  | "no_client_cert"
  /** The peer's chain does not lead to the mesh CA (another mesh, self-signed, tampered). */
  | "unknown_ca"
  /** The peer's certificate is outside its validity period. */
  | "cert_expired"
  /** Any other verification failure of the peer's certificate. */
  | "bad_cert"
  /** The handshake did not finish within the handshake timeout. */
  | "timeout"
  /** Refused before the handshake: too many handshakes in progress. */
  | "handshake_limit"
  /** A TLS protocol error: not TLS, no shared version or cipher, a bad record. */
  | "protocol"
  /** The peer closed or reset the connection during the handshake. */
  | "closed";

/** Why a forwarded connection ended; a label of the closed-connections counter. */
export type CloseReason =
  /** Both sides finished normally. */
  | "done"
  /** One side reset or failed; the other was closed too. */
  | "error"
  /** No byte in either direction for the idle timeout. */
  | "idle_timeout"
  /** One direction ended and the other did not end within the half-open timeout. */
  | "half_open_timeout"
  /** Destroyed when the drain deadline passed. */
  | "drain";

/** A live connection whose bytes are reported at each scrape and at its end. */
export interface ByteSource {
  readonly listener: string;
  /** Plaintext bytes so far from the downstream (the side that connected to us) to the upstream. */
  downstreamToUpstream(): number;
  upstreamToDownstream(): number;
}

interface Tracked {
  reportedUp: number;
  reportedDown: number;
}

const PREFIX = "contrast_mesh_";

/**
 * The proxy's Prometheus metrics, on a registry of its own (or the caller's). Byte counters read
 * the sockets' counters at scrape time instead of counting every chunk, so the data path pays
 * nothing for them; a connection's last bytes are added when it ends.
 */
export class MeshMetrics {
  readonly registry: Registry;
  readonly #connections: Counter<"listener">;
  readonly #active: Gauge<"listener">;
  readonly #handshakes: Gauge<"listener">;
  readonly #handshakeFailures: Counter<"listener" | "reason">;
  readonly #upstreamFailures: Counter<"listener">;
  readonly #refused: Counter<"listener">;
  readonly #closed: Counter<"listener" | "reason">;
  readonly #bytes: Counter<"listener" | "direction">;
  readonly #live = new Map<ByteSource, Tracked>();

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.#connections = new Counter({
      name: `${PREFIX}connections_total`,
      help: "Connections accepted, per listener (before the TLS handshake).",
      labelNames: ["listener"],
      registers,
    });
    this.#active = new Gauge({
      name: `${PREFIX}connections_active`,
      help: "Connections open now, per listener (handshaking or forwarding).",
      labelNames: ["listener"],
      registers,
    });
    this.#handshakes = new Gauge({
      name: `${PREFIX}handshakes_active`,
      help: "TLS handshakes in progress, per listener.",
      labelNames: ["listener"],
      registers,
    });
    this.#handshakeFailures = new Counter({
      name: `${PREFIX}handshake_failures_total`,
      help: "TLS handshakes that failed or were refused, per listener and reason.",
      labelNames: ["listener", "reason"],
      registers,
    });
    this.#upstreamFailures = new Counter({
      name: `${PREFIX}upstream_connect_failures_total`,
      help: "Connections whose upstream could not be connected (refused, unreachable, timed out).",
      labelNames: ["listener"],
      registers,
    });
    this.#refused = new Counter({
      name: `${PREFIX}target_refused_total`,
      help: "Connections not forwarded because their destination is refused (a loop to the proxy's own ports, or unknown).",
      labelNames: ["listener"],
      registers,
    });
    this.#closed = new Counter({
      name: `${PREFIX}connections_closed_total`,
      help: "Forwarded connections that ended, per listener and reason.",
      labelNames: ["listener", "reason"],
      registers,
    });
    const live = this.#live;
    this.#bytes = new Counter({
      name: `${PREFIX}bytes_total`,
      help: "Plaintext bytes forwarded, per listener and direction (downstream_to_upstream, upstream_to_downstream).",
      labelNames: ["listener", "direction"],
      registers,
      collect() {
        for (const [source, tracked] of live) flush(this, source, tracked);
      },
    });
  }

  connectionAccepted(listener: string): void {
    this.#connections.inc({ listener });
    this.#active.inc({ listener });
  }

  connectionEnded(listener: string): void {
    this.#active.dec({ listener });
  }

  handshakeStarted(listener: string): void {
    this.#handshakes.inc({ listener });
  }

  handshakeEnded(listener: string): void {
    this.#handshakes.dec({ listener });
  }

  handshakeFailed(listener: string, reason: HandshakeFailureReason): void {
    this.#handshakeFailures.inc({ listener, reason });
  }

  upstreamConnectFailed(listener: string): void {
    this.#upstreamFailures.inc({ listener });
  }

  targetRefused(listener: string): void {
    this.#refused.inc({ listener });
  }

  /** Starts reporting a forwarded connection's bytes. */
  forwarding(source: ByteSource): void {
    this.#live.set(source, { reportedUp: 0, reportedDown: 0 });
  }

  /** Adds a forwarded connection's last bytes and counts its end. */
  forwarded(source: ByteSource, reason: CloseReason): void {
    const tracked = this.#live.get(source);
    if (tracked !== undefined) {
      flush(this.#bytes, source, tracked);
      this.#live.delete(source);
    }
    this.#closed.inc({ listener: source.listener, reason });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

function flush(bytes: Counter<"listener" | "direction">, source: ByteSource, tracked: Tracked): void {
  const up = source.downstreamToUpstream();
  const down = source.upstreamToDownstream();
  if (up > tracked.reportedUp) {
    bytes.inc({ listener: source.listener, direction: "downstream_to_upstream" }, up - tracked.reportedUp);
    tracked.reportedUp = up;
  }
  if (down > tracked.reportedDown) {
    bytes.inc({ listener: source.listener, direction: "upstream_to_downstream" }, down - tracked.reportedDown);
    tracked.reportedDown = down;
  }
}
