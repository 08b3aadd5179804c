// OPA's topdown conformance cases (vendored under testdata/rego/opa-conformance, see SOURCES.md),
// judged as OPA's own runner does (test/opa/judge.ts). Every case passes except those listed in
// opa-known-failures.json with a reason; a listed case that passes (stale entry) or an unlisted
// one that fails (new failure) fails its folder's test. One test per folder keeps the run cheap.
//
// `node packages/rego/scripts/opa-conformance.mjs` prints the per-folder table; with `--write-known`
// it rewrites the known-failures file, each reason derived from the failure (test/opa/reasons.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadOpaCases, type OpaCase } from "./opa/cases.js";
import { judgeCase } from "./opa/judge.js";
import { reasonFor } from "./opa/reasons.js";
import { type FolderTally, formatReport } from "./opa/report.js";
import { outOfScope } from "./opa/scope.js";

const KNOWN_URL = new URL("./opa-known-failures.json", import.meta.url);
const KNOWN: Record<string, string> = JSON.parse(readFileSync(KNOWN_URL, "utf8"));
const REPORT_TO = process.env.OPA_CONFORMANCE_REPORT;
const WRITE_KNOWN = process.env.OPA_CONFORMANCE_WRITE_KNOWN === "1";

const cases = loadOpaCases();
const byFolder = new Map<string, OpaCase[]>();
for (const c of cases) byFolder.set(c.folder, [...(byFolder.get(c.folder) ?? []), c]);

const tallies: FolderTally[] = [];
const failures: Record<string, string> = {};
const reasons: Record<string, string> = {};

describe("OPA conformance cases", () => {
  it("loads both language versions", () => {
    expect(cases.filter((c) => c.version === "v0").length).toBeGreaterThan(1500);
    expect(cases.filter((c) => c.version === "v1").length).toBeGreaterThan(1500);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it("lists only cases that exist as known failures, each with a reason", () => {
    const ids = new Set(cases.map((c) => c.id));
    expect(Object.keys(KNOWN).filter((id) => !ids.has(id))).toEqual([]);
    expect(Object.entries(KNOWN).filter(([, why]) => why.trim() === "")).toEqual([]);
  });

  for (const [folder, list] of byFolder) {
    const scope = outOfScope(folder) === undefined ? "in scope" : "out of scope";
    it(`${folder} (${scope}): fails exactly its known failures`, () => {
      const tally: FolderTally = { folder, cases: list.length, passed: 0 };
      tallies.push(tally);
      const newFailures: string[] = [];
      const stale: string[] = [];
      for (const c of list) {
        const verdict = judgeCase(c);
        if (verdict.ok) tally.passed++;
        else failures[c.id] = verdict.message;
        if (!verdict.ok && WRITE_KNOWN) reasons[c.id] = reasonFor(c, verdict.message);
        const known = KNOWN[c.id] !== undefined;
        if (!verdict.ok && !known) newFailures.push(`${c.id}: ${verdict.message}`);
        if (verdict.ok && known) stale.push(c.id);
      }
      if (WRITE_KNOWN) return;
      expect({ newFailures, stale }).toEqual({ newFailures: [], stale: [] });
    });
  }

  afterAll(() => {
    if (REPORT_TO !== undefined) {
      const report = { folders: tallies, failures };
      writeFileSync(REPORT_TO, JSON.stringify({ ...report, table: formatReport(report) }));
    }
    if (WRITE_KNOWN) {
      const next: Record<string, string> = {};
      for (const id of Object.keys(reasons).sort()) next[id] = reasons[id] as string;
      writeFileSync(KNOWN_URL, `${JSON.stringify(next, null, 2)}\n`);
    }
  });
});
