import { it } from "vitest";
import { caseId, loadCases, runCase } from "./interpreter-cases.js";

it("report", () => {
  const cases = loadCases().filter((c) => c.skip !== true);
  let pass = 0;
  const fails: string[] = [];
  for (const c of cases) {
    const o = runCase(c, 1_700_000_000_000_000_000);
    if (o.ok) pass++;
    else fails.push(`${caseId(c)} => ${o.message.slice(0, 300)}`);
  }
  console.log(fails.join("\n"));
  console.log(`PASS ${pass}/${cases.length}`);
});
