import { readdirSync, readFileSync } from "node:fs";
import { fuzzRuns, testdataPath } from "@contrast/testkit";

export const FUZZ_RUNS = fuzzRuns(200);

export const TESTDATA = `${testdataPath("rego")}/`;

export function testdata(path: string): string {
  return readFileSync(TESTDATA + path, "utf8");
}

/** The regorus Kata cases: directories with policy.rego, inputs.txt and outputs.json. */
export function kataCases(): string[] {
  return readdirSync(`${TESTDATA}regorus-kata`, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}
