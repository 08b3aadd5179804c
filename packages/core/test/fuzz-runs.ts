/** Property-test iteration count: small in the normal suite, large under `pnpm fuzz`. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);
