/**
 * Property-test iteration count: small in the normal suite, large under `pnpm fuzz`, which sets
 * FUZZ_RUNS. `base` is the count a test file uses in the normal suite.
 */
export function fuzzRuns(base = 200): number {
  const fromEnv = process.env.FUZZ_RUNS;
  if (fromEnv === undefined || fromEnv === "") return base;
  const n = Number(fromEnv);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`FUZZ_RUNS must be a positive integer, got ${fromEnv}`);
  return n;
}

/** The default count, for files that need no other base. */
export const FUZZ_RUNS = fuzzRuns();
