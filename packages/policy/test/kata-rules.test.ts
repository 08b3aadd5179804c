import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CaseResult, caseDirs, runCase } from "./conformance.js";

/**
 * docs/policy.md promises that a user who brings Kata's own rules.rego gets a working policy
 * from our policy_data too. This runs every case of Kata's conformance tables
 * (testdata/genpolicy/kata-tests) with the rules file named by KATA_RULES in place of our
 * default rules, prints the agreement with Kata's recorded decisions and every disagreement.
 *
 *   KATA_RULES=/path/to/rules.rego node node_modules/vitest/vitest.mjs run --project policy \
 *     packages/policy/test/kata-rules.test.ts
 *
 * KATA_RULES_MIN (a fraction, default 1) is the agreement below which the test fails.
 */
const RULES = process.env.KATA_RULES ?? "";
const SKIP_REASON = "Kata's rules.rego is Apache-2.0 third-party code we do not vendor; set KATA_RULES to run";

describe("Kata's own rules.rego with our policy_data", () => {
  it.skipIf(RULES === "")(
    `agrees with Kata's recorded decisions${RULES === "" ? ` (skipped: ${SKIP_REASON})` : ""}`,
    async () => {
      const rules = readFileSync(RULES, "utf8");
      const results: CaseResult[] = [];
      for (const dir of caseDirs()) results.push(...(await runCase(dir, rules)));
      const disagreements = results.filter((r) => r.expected !== r.actual);
      const agree = results.length - disagreements.length;
      const report = [
        `Kata rules ${RULES}: ${agree}/${results.length} agree (${((100 * agree) / results.length).toFixed(1)} %)`,
        ...disagreements.map((d) =>
          [
            `- ${d.case} #${d.index} ${d.kind}: ${d.description}`,
            `  expected ${d.expected ? "allow" : "deny"}, got ${d.actual ? "allow" : "deny"}; trace:`,
            ...d.trace.map((t) => `    ${t.length > 400 ? `${t.slice(0, 400)}…` : t}`),
          ].join("\n"),
        ),
      ];
      process.stdout.write(`${report.join("\n")}\n`);
      expect(results.length).toBe(108);
      const min = Number(process.env.KATA_RULES_MIN ?? "1");
      expect(agree / results.length).toBeGreaterThanOrEqual(min);
    },
    300_000,
  );
});
