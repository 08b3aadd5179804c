import type { Socket } from "node:net";

/**
 * The open connections of one listener, for a graceful drain: stop accepting, let the open ones
 * finish, and destroy what is left when the deadline passes.
 */
export class ConnectionTracker {
  // Each downstream socket with how to end its connection at the deadline.
  readonly #open = new Map<Socket, () => void>();
  #idle: (() => void) | undefined;

  get size(): number {
    return this.#open.size;
  }

  /** Tracks a downstream socket until it closes; `kill` replaces its plain destroy at the deadline. */
  add(socket: Socket): void {
    this.#open.set(socket, () => socket.destroy());
    socket.once("close", () => {
      if (this.#open.delete(socket) && this.#open.size === 0) this.#idle?.();
    });
  }

  /** Stops tracking a socket whose connection ended some other way. */
  remove(socket: Socket): void {
    if (this.#open.delete(socket) && this.#open.size === 0) this.#idle?.();
  }

  /** Tracks `next` instead of `previous` (the TLS socket that took over a raw socket's handle). */
  replace(previous: Socket, next: Socket): void {
    if (!this.#open.delete(previous)) return;
    this.add(next);
    if (this.#open.size === 0) this.#idle?.();
  }

  /** Sets how a tracked socket's connection is ended at the drain deadline. */
  onKill(socket: Socket, kill: () => void): void {
    if (this.#open.has(socket)) this.#open.set(socket, kill);
  }

  /** Resolves when every tracked socket has closed, ending what is left at the deadline. */
  drain(deadlineMs: number): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const kill of [...this.#open.values()]) kill();
      }, deadlineMs);
      this.#idle = () => {
        clearTimeout(timer);
        this.#idle = undefined;
        resolve();
      };
    });
  }
}
