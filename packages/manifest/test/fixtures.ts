import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fuzzRuns, testdataPath } from "@contrast/testkit";

export const TESTDATA = testdataPath("manifests");

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(TESTDATA, name)));
}

export { errorCode } from "@contrast/testkit";

export const FUZZ_RUNS = fuzzRuns(200);
