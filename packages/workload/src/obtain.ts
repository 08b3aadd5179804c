import type { EvidenceIssuer } from "@contrast/atls";
import { type Clock, ContrastError, type Logger } from "@contrast/core";
import { WorkloadError } from "./errors.js";
import type { MeshCredentials } from "./layout.js";
import { type MeshCertClient, requestMeshCert } from "./mesh-client.js";
import { type Backoff, backoffDelay, classifyFailure, DEFAULT_BACKOFF } from "./retry.js";

export interface ObtainOptions<T> {
  /** A new mesh API client per attempt (a new channel, so a new TLS connection). */
  readonly connect: () => Promise<MeshCertClient>;
  /** SPKI DER of the key the client certificate is made for. */
  readonly publicKeyDer: Uint8Array;
  readonly issuer: EvidenceIssuer;
  /**
   * Turns an answer into what the caller keeps, or throws (an unusable answer is retried like
   * any other failure). The initializer builds its credential files here.
   */
  readonly accept: (answer: MeshCredentials) => T;
  readonly clock: Clock;
  readonly log: Logger;
  /** Waits `ms`, or less when `signal` aborts (resolve or reject, either is fine). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the jitter. */
  readonly jitter: () => number;
  readonly signal: AbortSignal;
  readonly backoff?: Backoff;
  /** Deadline of each attempt's calls. Default 30 s. */
  readonly callTimeoutMs?: number;
}

export interface Obtained<T> {
  readonly value: T;
  readonly attempts: number;
}

const stopped = (attempts: number) =>
  new WorkloadError("INITIALIZER_STOPPED", `stopped after ${attempts} attempt(s), before a certificate was issued`);

/** Settles with `promise`, or rejects with `onAbort()` as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(e);
      },
    );
  });
}

/**
 * Asks the Coordinator for mesh credentials until it gets usable ones, as upstream's initializer
 * does (forever; upstream waits 5 s between attempts): each failure is logged with its reason
 * (unreachable, no manifest yet, permission denied, ...) and the code, then the loop backs off.
 * Aborting `signal` (SIGTERM, SIGINT) ends it at once with INITIALIZER_STOPPED, also mid-call.
 */
export async function obtainMeshCredentials<T>(options: ObtainOptions<T>): Promise<Obtained<T>> {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const timeoutMs = options.callTimeoutMs ?? 30_000;
  const { log, signal } = options;
  let last: string | undefined;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw stopped(attempt - 1);
    let client: MeshCertClient | undefined;
    try {
      const value = await abortable(
        (async () => {
          client = await options.connect();
          const deadline = new Date(options.clock.now().getTime() + timeoutMs);
          const answer = await requestMeshCert(client, {
            publicKeyDer: options.publicKeyDer,
            issuer: options.issuer,
            deadline,
          });
          return options.accept(answer);
        })(),
        signal,
        () => stopped(attempt),
      );
      log.info("received mesh credentials", { attempt });
      return { value, attempts: attempt };
    } catch (e) {
      if (signal.aborted) throw stopped(attempt);
      const failure = classifyFailure(e);
      const delayMs = backoffDelay(attempt, backoff, options.jitter());
      const fields = { attempt, reason: failure.reason, retryInMs: delayMs, error: failure.error };
      // The same reason again is routine while waiting (debug would hide it from the default
      // level, so: info); a new reason is worth a warning.
      if (failure.reason !== last) log.warn(`${failure.summary}; retrying`, fields);
      else log.info(`${failure.summary}; retrying`, fields);
      last = failure.reason;
      await options.sleep(delayMs, signal).catch(() => {});
    } finally {
      try {
        (client as MeshCertClient | undefined)?.close();
      } catch (e) {
        log.debug("closing the mesh API client failed", { error: ContrastError.from(e) });
      }
    }
  }
}
