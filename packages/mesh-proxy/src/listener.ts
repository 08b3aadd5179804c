import type { Server } from "node:net";
import { type Logger, noopLogger } from "@contrast/core";
import type { HostPort } from "./config.js";
import { listenOn } from "./listen.js";
import type { MeshMetrics } from "./metrics.js";
import { IdleSweeper } from "./splice.js";
import { DEFAULT_TIMEOUTS, HandshakeLimiter, type ProxyTimeouts } from "./timeouts.js";
import { ConnectionTracker } from "./tracker.js";

/** What every listener of the proxy takes, ingress or egress. */
export interface ListenerOptions {
  /** The entry's name (metrics, logs), as in the annotation. */
  readonly name: string;
  readonly metrics: MeshMetrics;
  /** Shared between listeners to cap handshakes over the whole proxy; one of its own by default. */
  readonly handshakes?: HandshakeLimiter;
  readonly timeouts?: Partial<ProxyTimeouts>;
  readonly logger?: Logger;
}

/**
 * The part ingress and egress share: binding, the open connections and the drain on close. The
 * subclass creates its server (TLS for ingress, plain TCP for egress) with the resolved timeouts.
 */
export abstract class ProxyListener {
  readonly name: string;
  protected readonly timeouts: ProxyTimeouts;
  protected readonly handshakes: HandshakeLimiter;
  protected readonly tracker = new ConnectionTracker();
  protected readonly log: Logger;
  protected readonly idle: IdleSweeper;
  protected abstract readonly server: Server;

  constructor(options: ListenerOptions) {
    this.name = options.name;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.handshakes = options.handshakes ?? new HandshakeLimiter();
    this.log = options.logger ?? noopLogger;
    this.idle = new IdleSweeper(this.timeouts.idleMs);
  }

  /** Binds the listener; resolves with the bound address. */
  listen(address: HostPort): Promise<HostPort> {
    return listenOn(this.server, address, this.name);
  }

  /** Connections open now (handshaking or forwarding). */
  get openConnections(): number {
    return this.tracker.size;
  }

  /** Stops accepting, waits for open connections up to `deadlineMs`, then destroys the rest. */
  async close(deadlineMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.tracker.drain(deadlineMs);
    await closed;
  }
}
