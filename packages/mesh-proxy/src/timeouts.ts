/** The proxy's timeouts, in milliseconds. */
export interface ProxyTimeouts {
  /** From accept to a finished TLS handshake (ingress) or from connect to it (egress). */
  readonly handshakeMs: number;
  /** Connecting the upstream (the application, or the egress remote). */
  readonly connectMs: number;
  /** No byte in either direction for this long: both sides are closed. */
  readonly idleMs: number;
  /** After one direction ended (a FIN or close_notify), the other must end within this long. */
  readonly halfOpenMs: number;
}

/**
 * Defaults: Envoy's where it has one (its cluster connect timeout is 5 s, its tcp_proxy idle
 * timeout 1 h); 10 s for a handshake (Envoy has no default; a mesh peer on a pod network finishes
 * in milliseconds, and a slow-loris peer holds a handshake slot for at most this long); 60 s for a
 * half-open connection (HAProxy's client-fin/server-fin idea; Envoy keeps them until idle).
 */
export const DEFAULT_TIMEOUTS: ProxyTimeouts = {
  handshakeMs: 10_000,
  connectMs: 5_000,
  idleMs: 3_600_000,
  halfOpenMs: 60_000,
};

/** Concurrent TLS handshakes allowed by default, over all listeners sharing one limiter. */
export const DEFAULT_MAX_HANDSHAKES = 1024;

/** A cap on concurrent handshakes, shared by the listeners it is given to. */
export class HandshakeLimiter {
  #active = 0;
  constructor(readonly max: number = DEFAULT_MAX_HANDSHAKES) {}

  get active(): number {
    return this.#active;
  }

  /** Takes a slot, or returns false when all are taken. */
  tryAcquire(): boolean {
    if (this.#active >= this.max) return false;
    this.#active++;
    return true;
  }

  release(): void {
    if (this.#active > 0) this.#active--;
  }
}
