import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { caseId, loadCases, runCase } from "./interpreter-cases.js";

// regorus' interpreter cases. Every case passes except those in interpreter-known-failures.json,
// each with the reason it fails; a case that starts passing must be removed from the list.
const KNOWN: Record<string, string> = JSON.parse(
  readFileSync(new URL("./interpreter-known-failures.json", import.meta.url), "utf8"),
);
const NOW_NS = 1_700_000_000_000_000_000;

describe("regorus interpreter cases", () => {
  const cases = loadCases().filter((c) => c.skip !== true);

  it("passes at least 90 % of the cases", () => {
    const passed = cases.filter((c) => runCase(c, NOW_NS).ok).length;
    expect(passed / cases.length).toBeGreaterThanOrEqual(0.9);
  });

  it("lists only cases that exist", () => {
    const ids = new Set(cases.map(caseId));
    expect(Object.keys(KNOWN).filter((id) => !ids.has(id))).toEqual([]);
  });

  for (const c of cases) {
    const id = caseId(c);
    const known = KNOWN[id];
    it(`${known === undefined ? "passes" : "still fails (known)"}: ${id}`, () => {
      const outcome = runCase(c, NOW_NS);
      expect(outcome.ok, outcome.message).toBe(known === undefined);
    });
  }
});
