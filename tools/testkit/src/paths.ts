import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file (tools/testkit/src/), wherever a test file moves to. */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../../../", import.meta.url)));

/** A path below the repository root. */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

/** A path below testdata/, where the third-party test material lives (see testdata/SOURCES.md). */
export function testdataPath(...parts: string[]): string {
  return join(REPO_ROOT, "testdata", ...parts);
}
