import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/manifests");

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(TESTDATA, name)));
}

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 200);
