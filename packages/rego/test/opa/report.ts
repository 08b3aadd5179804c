// The per-folder table of the conformance run: cases, passed, pass rate, and the in-scope and
// overall totals per language version.
import { outOfScope } from "./scope.js";

export interface FolderTally {
  readonly folder: string;
  cases: number;
  passed: number;
}

export interface ConformanceReport {
  readonly folders: readonly FolderTally[];
  /** id -> why it failed, for every failing case. */
  readonly failures: Readonly<Record<string, string>>;
}

function pct(passed: number, cases: number): string {
  return cases === 0 ? "-" : `${((100 * passed) / cases).toFixed(1)} %`;
}

/** Markdown: one row per folder, then totals (in scope, out of scope, all) for v0, v1 and both. */
export function formatReport(report: ConformanceReport): string {
  const lines = ["| folder | scope | cases | passed | rate |", "|---|---|---:|---:|---:|"];
  for (const f of report.folders) {
    lines.push(
      `| ${f.folder} | ${outOfScope(f.folder) === undefined ? "in" : "out"} | ${f.cases} | ${f.passed} | ${pct(f.passed, f.cases)} |`,
    );
  }
  lines.push("", "| total | cases | passed | rate |", "|---|---:|---:|---:|");
  for (const version of ["v0", "v1", ""]) {
    for (const scope of ["in", "out", "all"]) {
      const fs = report.folders.filter(
        (f) =>
          f.folder.startsWith(version) &&
          (scope === "all" || (outOfScope(f.folder) === undefined) === (scope === "in")),
      );
      const cases = fs.reduce((n, f) => n + f.cases, 0);
      const passed = fs.reduce((n, f) => n + f.passed, 0);
      lines.push(
        `| ${version === "" ? "v0+v1" : version} ${scope === "all" ? "overall" : `${scope} scope`} | ${cases} | ${passed} | ${pct(passed, cases)} |`,
      );
    }
  }
  return lines.join("\n");
}
