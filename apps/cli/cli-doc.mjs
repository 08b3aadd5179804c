#!/usr/bin/env node
// Rewrites the generated regions of docs/cli.md (flag and exit-status tables) from the commands'
// specs (src/cli-doc.ts); with --check, fails instead when the committed file is stale. The specs
// are TypeScript, so they are bundled in memory first (no build needed).
import { readFileSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const check = process.argv.includes("--check");
const doc = new URL("../../docs/cli.md", import.meta.url);
const { outputFiles } = await build({
  entryPoints: [new URL("./src/cli-doc.ts", import.meta.url).pathname],
  bundle: true,
  write: false,
  format: "esm",
  platform: "node",
  logLevel: "warning",
});
const { updateCliDoc } = await import(
  `data:text/javascript;base64,${Buffer.from(outputFiles[0].contents).toString("base64")}`
);
const current = readFileSync(doc, "utf8");
let next;
try {
  next = updateCliDoc(current);
} catch (e) {
  process.stderr.write(`cli-doc: ${e.message}\n`);
  process.exit(1);
}
if (check) {
  if (next !== current) {
    process.stderr.write("cli-doc: docs/cli.md's flag tables are out of date; run `pnpm cli-doc`\n");
    process.exit(1);
  }
  process.stdout.write("cli-doc: docs/cli.md is current\n");
} else if (next !== current) {
  writeFileSync(doc, next);
  process.stdout.write("cli-doc: wrote docs/cli.md\n");
} else {
  process.stdout.write("cli-doc: docs/cli.md is current\n");
}
