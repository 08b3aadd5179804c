import { fuzzRuns } from "@contrast/testkit";

export { errorCode } from "@contrast/testkit";

/** Property-test iteration count: small in the normal suite, large under `pnpm fuzz`. */
export const FUZZ_RUNS = fuzzRuns(300);
