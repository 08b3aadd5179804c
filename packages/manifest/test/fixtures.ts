import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fuzzRuns } from "@contrast/testkit";

export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/manifests");

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(TESTDATA, name)));
}

export { errorCode } from "@contrast/testkit";

export const FUZZ_RUNS = fuzzRuns(200);
