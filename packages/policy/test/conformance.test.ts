import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CaseResult, caseDirs, runCase } from "./conformance.js";

/**
 * Kata's own policy conformance tables (testdata/genpolicy/kata-tests): for every case, generate
 * the policy for its pod.yaml and evaluate its recorded agent requests with @contrast/rego.
 * The bar: at least 95 % agreement, and every disagreement listed with its reason in
 * conformance-disagreements.md. A new disagreement or a drop in agreement fails this test.
 */
const DISAGREEMENTS = new URL("./conformance-disagreements.md", import.meta.url);

/** Rows of the disagreement table: `| case | index | reason |`. */
function listed(): Set<string> {
  const rows = readFileSync(DISAGREEMENTS, "utf8")
    .split("\n")
    .filter((l) => /^\| `[^`]+` \| [0-9]+ \|/.test(l));
  return new Set(
    rows.map((l) =>
      l
        .split("|")
        .slice(1, 3)
        .map((c) => c.trim().replace(/`/g, ""))
        .join("#"),
    ),
  );
}

describe("Kata genpolicy conformance", () => {
  it("agrees with Kata's decisions on ≥ 95 % of the requests, and every disagreement is listed", async () => {
    const results: CaseResult[] = [];
    for (const dir of caseDirs()) results.push(...(await runCase(dir)));
    const disagreements = results.filter((r) => r.expected !== r.actual);
    const agreement = (results.length - disagreements.length) / results.length;
    const known = listed();
    const unlisted = disagreements.filter((d) => !known.has(`${d.case}#${d.index}`));
    expect(
      unlisted.map((d) => ({
        case: d.case,
        index: d.index,
        description: d.description,
        expected: d.expected,
        trace: d.trace,
      })),
    ).toEqual([]);
    expect(results.length).toBe(108);
    expect(agreement).toBeGreaterThanOrEqual(0.95);
    // Listed disagreements that now agree should leave the list, so it stays true.
    const stale = [...known].filter((k) => !disagreements.some((d) => `${d.case}#${d.index}` === k));
    expect(stale).toEqual([]);
  }, 120_000);
});
