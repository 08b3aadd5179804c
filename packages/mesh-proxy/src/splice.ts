import type { Socket } from "node:net";
import type { CloseReason } from "./metrics.js";

export interface SpliceOptions {
  readonly idleMs: number;
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
  const onTimeout = () => destroyBoth("idle_timeout");
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
    socket.setTimeout(options.idleMs);
    socket.on("timeout", onTimeout);
    socket.on("error", onError);
    socket.on("end", onEnd);
    socket.on("close", onClose(other));
  }
  down.pipe(up);
  up.pipe(down);
  return { destroy: destroyBoth };
}
