import type { KeyObject } from "node:crypto";
import { createServiceClient, type ServiceClient, UserAPI } from "@contrast/api";
import { type AtlsVerifyOptions, atlsChannelCredentials } from "@contrast/atls";
import { type Clock, ContrastError } from "@contrast/core";
import type { CoordinatorAddress } from "./address.js";
import { cliError } from "./errors.js";

export type UserClient = ServiceClient<typeof UserAPI>;

export interface DialOptions {
  readonly address: CoordinatorAddress;
  readonly verify: AtlsVerifyOptions;
  /** The client certificate's key: the workload owner or seed share owner key; a fresh P-256 key if absent. */
  readonly clientKey?: KeyObject | undefined;
  readonly random: (size: number) => Uint8Array;
  /** Overall budget across attempts (upstream: 180 s for set). */
  readonly timeoutMs: number;
  /** Pause between attempts (upstream: 1 s). */
  readonly retryIntervalMs?: number;
  readonly clock: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry with the attempt number and the error that caused it (spinner, log). */
  readonly onRetry?: (attempt: number, reason: ContrastError) => void;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls the Coordinator's user API over aTLS, as upstream's CLI does: while the call fails with
 * UNAVAILABLE (nothing listens yet, the connection was reset, a handshake timed out) it is tried
 * again every second until the budget is spent. A Coordinator that answers but cannot prove it
 * runs what the manifest expects is never retried: that error (kind crypto or policy) is thrown
 * at once, and no request was written to it. Each attempt gets a fresh channel, so the verdict of
 * one handshake is never mistaken for another's.
 */
export async function callCoordinator<T>(
  options: DialOptions,
  call: (client: UserClient, deadline: Date) => Promise<T>,
): Promise<T> {
  const sleep = options.sleep ?? sleepMs;
  const interval = options.retryIntervalMs ?? 1000;
  const start = options.clock.now().getTime();
  const end = start + options.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const credentials = atlsChannelCredentials({
      verify: options.verify,
      clientKey: options.clientKey,
      random: options.random,
      handshakeTimeoutMs: Math.max(1000, Math.min(30_000, end - options.clock.now().getTime())),
    });
    const client = createServiceClient(UserAPI, options.address.target, credentials, {
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      // One attempt is one connection: grpc-js's own reconnect backoff would hide the retries.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 100,
    });
    let reason: ContrastError;
    try {
      const remaining = Math.max(1000, end - options.clock.now().getTime());
      return await call(client, new Date(options.clock.now().getTime() + remaining));
    } catch (e) {
      const err = ContrastError.from(e);
      const handshake = credentials.lastError();
      // The aTLS verdict on the Coordinator travels as UNAVAILABLE; its own error says what failed.
      if (err.code === "API_UNAVAILABLE" && handshake !== undefined && handshake.kind !== "io") throw handshake;
      if (err.code !== "API_UNAVAILABLE" && err.code !== "API_DEADLINE_EXCEEDED") throw err;
      reason = handshake ?? err;
    } finally {
      client.close();
    }
    const now = options.clock.now().getTime();
    if (now + interval >= end) {
      throw cliError(
        "CLI_COORDINATOR_UNREACHABLE",
        `the Coordinator at ${options.address.target} did not answer within ${Math.round(options.timeoutMs / 1000)} s (${attempt} attempt${attempt === 1 ? "" : "s"}): ${reason.message}`,
        { cause: reason, details: { coordinator: options.address.target, attempts: attempt, lastError: reason.code } },
      );
    }
    options.onRetry?.(attempt, reason);
    await sleep(interval);
  }
}
