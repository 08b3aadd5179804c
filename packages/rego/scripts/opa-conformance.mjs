#!/usr/bin/env node
// Runs @contrast/rego's OPA conformance test and prints the per-folder table (cases, passed, %)
// with the in-scope and overall totals. `--write-known` also rewrites
// packages/rego/test/opa-known-failures.json from this run (reasons derived from the failures).
// Usage (from the repository root or the package): node packages/rego/scripts/opa-conformance.mjs [--write-known]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), "opa-conformance-"));
const reportFile = join(dir, "report.json");
// The workspace root's vitest, as `pnpm test` runs it.
const vitest = join(pkg, "..", "..", "node_modules", ".bin", "vitest");
const run = spawnSync(vitest, ["run", "--project", "rego", "test/opa-conformance.test.ts"], {
  cwd: pkg,
  stdio: ["ignore", "inherit", "inherit"],
  env: {
    ...process.env,
    OPA_CONFORMANCE_REPORT: reportFile,
    ...(process.argv.includes("--write-known") ? { OPA_CONFORMANCE_WRITE_KNOWN: "1" } : {}),
  },
});
let report;
try {
  report = JSON.parse(readFileSync(reportFile, "utf8"));
} catch {
  process.stderr.write("opa-conformance: the test wrote no report\n");
  process.exit(run.status ?? 1);
}
rmSync(dir, { recursive: true, force: true });

process.stdout.write(`${report.table}\n`);
process.exit(run.status ?? 1);
