/**
 * Time is injected into every library so that tests can pin it (certificate validity, collateral
 * freshness, attestation vectors with a fixed "now") and production code never reads it ad hoc.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock frozen at one instant. */
export function fixedClock(at: Date | string | number): Clock {
  const ms = new Date(at).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`invalid date: ${String(at)}`);
  return { now: () => new Date(ms) };
}

/** A clock that only moves when told to, for tests of expiry and timeouts. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(at: Date | string | number): void;
}

export function manualClock(start: Date | string | number = 0): ManualClock {
  let ms = new Date(start).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`invalid date: ${String(start)}`);
  return {
    now: () => new Date(ms),
    advance(delta) {
      ms += delta;
    },
    set(at) {
      const next = new Date(at).getTime();
      if (Number.isNaN(next)) throw new RangeError(`invalid date: ${String(at)}`);
      ms = next;
    },
  };
}
