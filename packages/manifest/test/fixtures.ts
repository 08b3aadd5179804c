import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/manifests");

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(TESTDATA, name)));
}

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 200);

/** The `code` of what `fn` throws, or undefined if it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}
