import type { Logger } from "@contrast/core";
import { ServerError } from "./error.js";

/** Something to stop at shutdown: first gently, then, when the budget is spent, at once. */
export interface Stoppable {
  readonly name: string;
  /** Stops accepting and resolves when every open call has finished. */
  graceful(): Promise<void>;
  /** Cuts whatever is still open. */
  force(): void;
}

export interface ShutdownOptions {
  readonly budgetMs: number;
  readonly logger: Logger;
  readonly setTimer?: (fn: () => void, ms: number) => { unref?(): void } | unknown;
  readonly clearTimer?: (timer: unknown) => void;
}

/**
 * Drains every part in parallel (upstream: GracefulStop of both gRPC servers with a 20 s budget,
 * then Stop). Resolves `true` when everything drained in time, `false` when it had to force.
 */
export async function shutdown(parts: readonly Stoppable[], options: ShutdownOptions): Promise<boolean> {
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  let timer: unknown;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimer(() => resolve("expired"), options.budgetMs);
  });
  const drained = Promise.all(
    parts.map((p) =>
      p.graceful().catch((e: unknown) => {
        options.logger.warn("graceful stop failed", { part: p.name, error: e });
      }),
    ),
  ).then(() => "drained" as const);
  const outcome = await Promise.race([drained, expired]);
  clearTimer(timer);
  if (outcome === "drained") return true;
  options.logger.warn("shutdown budget spent; cutting open connections", {
    error: new ServerError("SERVER_SHUTDOWN_TIMEOUT", `open calls did not finish within ${options.budgetMs / 1000} s`),
  });
  for (const p of parts) {
    try {
      p.force();
    } catch (e) {
      options.logger.warn("forced stop failed", { part: p.name, error: e });
    }
  }
  return false;
}
