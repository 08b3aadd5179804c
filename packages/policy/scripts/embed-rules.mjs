// Writes src/default-rules.ts from rules.rego, so the library carries the rules without reading
// files at run time. test/rules.test.ts fails when the two differ: run `node scripts/embed-rules.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const rules = readFileSync(new URL("../rules.rego", import.meta.url), "utf8");
const out = `// Generated from rules.rego by scripts/embed-rules.mjs. Do not edit.\n\n/** The default rules.rego of contrast-ts; documented in docs/policy-rules.md. */\nexport const DEFAULT_RULES: string = ${JSON.stringify(rules)};\n`;
writeFileSync(new URL("../src/default-rules.ts", import.meta.url), out);
