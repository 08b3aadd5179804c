/** How the registry client waits between attempts. All of it is injectable for tests. */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Longest Retry-After the client honours; a server asking for more is treated as down. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

export type Sleep = (ms: number) => Promise<void>;
export type Random = () => number;

export const defaultSleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Exponential backoff with "full jitter": a random delay in [0, base·2^attempt], capped. Jitter
 * keeps many clients that failed together from retrying in lockstep.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: Random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After as delta-seconds, or as an HTTP date when `now` is known. Undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | null, now?: () => Date): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (now === undefined) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now().getTime());
}
