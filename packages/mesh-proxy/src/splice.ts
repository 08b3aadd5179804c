import type { Socket } from "node:net";
import type { CloseReason, MeshMetrics } from "./metrics.js";
import type { ConnectionTracker } from "./tracker.js";

export interface SpliceOptions {
  /** Closes the pair when neither side moves a byte for its idle timeout. */
  readonly idle: IdleSweeper;
  readonly halfOpenMs: number;
  /** Called once, when both sockets have closed. */
  readonly onClosed: (reason: CloseReason) => void;
}

/** A spliced pair; `destroy` ends it at once (drain deadline). */
export interface Splice {
  destroy(reason: CloseReason): void;
}

/**
 * Joins two connected sockets in both directions with `pipe`, which stops reading one side while
 * the other's write buffer is above its high-water mark: a slow reader holds back its peer and
 * the proxy's memory per connection stays bounded by two stream buffers. Both sockets must allow
 * half-open connections, so that an end in one direction is forwarded as an end (FIN or
 * close_notify) while the other direction keeps flowing, until the half-open timeout.
 */
export function splice(down: Socket, up: Socket, options: SpliceOptions): Splice {
  let reason: CloseReason | undefined;
  let halfOpen: NodeJS.Timeout | undefined;
  let closed = 0;
  const destroyBoth = (why: CloseReason) => {
    reason ??= why;
    down.destroy();
    up.destroy();
  };
  const unwatch = options.idle.watch({
    activity: () => down.bytesRead + up.bytesRead,
    expire: () => destroyBoth("idle_timeout"),
  });
  const onError = () => destroyBoth("error");
  const onEnd = () => {
    if (halfOpen !== undefined) return;
    halfOpen = setTimeout(() => destroyBoth("half_open_timeout"), options.halfOpenMs);
    halfOpen.unref();
  };
  const onClose = (other: Socket) => () => {
    closed++;
    if (closed === 2) {
      clearTimeout(halfOpen);
      unwatch();
      options.onClosed(reason ?? "done");
      return;
    }
    // The closed side takes nothing more; the other may still be flushing what it forwarded last.
    if (other.writableEnded && !other.writableFinished) other.once("finish", () => other.destroy());
    else other.destroy();
  };
  for (const [socket, other] of [
    [down, up],
    [up, down],
  ] as const) {
    socket.on("error", onError);
    socket.on("end", onEnd);
    socket.on("close", onClose(other));
  }
  down.pipe(up);
  up.pipe(down);
  return { destroy: destroyBoth };
}

/** What a listener lends to each connection it forwards. */
export interface ForwardContext {
  readonly listener: string;
  readonly idle: IdleSweeper;
  readonly halfOpenMs: number;
  readonly metrics: MeshMetrics;
  /** Knows `down` (the accepted connection); a drain deadline ends the pair through it. */
  readonly tracker: ConnectionTracker;
}

/**
 * Splices an accepted connection to its other side and reports it: bytes are read off the
 * plaintext socket (the upstream app's for ingress, the local app's for egress), whose counters
 * are the plaintext bytes in each direction, and the end is counted with its reason.
 */
export function forward(down: Socket, up: Socket, plaintext: "down" | "up", ctx: ForwardContext): void {
  const bytes =
    plaintext === "up"
      ? {
          listener: ctx.listener,
          downstreamToUpstream: () => up.bytesWritten,
          upstreamToDownstream: () => up.bytesRead,
        }
      : {
          listener: ctx.listener,
          downstreamToUpstream: () => down.bytesRead,
          upstreamToDownstream: () => down.bytesWritten,
        };
  ctx.metrics.forwarding(bytes);
  const pair = splice(down, up, {
    idle: ctx.idle,
    halfOpenMs: ctx.halfOpenMs,
    onClosed: (reason) => ctx.metrics.forwarded(bytes, reason),
  });
  ctx.tracker.onKill(down, () => pair.destroy("drain"));
}

interface Watched {
  /** A counter that grows with every byte in either direction. */
  readonly activity: () => number;
  readonly expire: () => void;
  last: number;
  quietSweeps: number;
}

const SWEEPS_PER_TIMEOUT = 4;

/**
 * The idle timeout of a listener's connections, by one sweep every quarter of the timeout
 * instead of a socket timer per connection: Node re-arms a socket's timer on every read and
 * write, four times per request and response through the proxy, while the sweep only compares
 * byte counters. A connection expires after 4 to 5 quiet sweeps, i.e. the timeout to 1.25 times it.
 */
export class IdleSweeper {
  readonly #watched = new Set<Watched>();
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(idleMs: number) {
    this.#intervalMs = Math.max(1, Math.ceil(idleMs / SWEEPS_PER_TIMEOUT));
  }

  /** Watches a connection until the returned function is called. */
  watch(connection: { readonly activity: () => number; readonly expire: () => void }): () => void {
    const watched: Watched = { ...connection, last: connection.activity(), quietSweeps: 0 };
    this.#watched.add(watched);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#intervalMs);
      this.#timer.unref();
    }
    return () => {
      this.#watched.delete(watched);
      if (this.#watched.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #sweep(): void {
    for (const w of this.#watched) {
      const now = w.activity();
      if (now !== w.last) {
        w.last = now;
        w.quietSweeps = 0;
      } else if (++w.quietSweeps >= SWEEPS_PER_TIMEOUT) {
        this.#watched.delete(w);
        w.expire();
      }
    }
  }
}
