/** Property-test iteration count: small in the normal suite, large under `pnpm fuzz`. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** The `code` of what `fn` throws, or undefined if it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}
