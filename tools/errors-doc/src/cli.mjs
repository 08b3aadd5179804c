#!/usr/bin/env node
// Writes docs/errors.md from the built packages (run `pnpm build` first); with --check, fails
// instead when the committed file differs or a registry has a problem.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkRegistries } from "./check.mjs";
import { REGISTRIES } from "./registries.mjs";
import { renderErrorsDoc } from "./render.mjs";

const args = process.argv.slice(2);
const check = args.includes("--check");
const root = resolve(args.find((a) => !a.startsWith("--")) ?? ".");
const file = resolve(root, "docs/errors.md");

const problems = checkRegistries(REGISTRIES);
for (const p of problems) console.error(`errors-doc: ${p}`);
if (problems.length > 0) process.exit(1);

const text = renderErrorsDoc(REGISTRIES);
if (check) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  if (current !== text) {
    console.error("errors-doc: docs/errors.md is out of date; run `pnpm errors-doc`");
    process.exit(1);
  }
  console.log("errors-doc: docs/errors.md is current");
} else {
  writeFileSync(file, text);
  console.log(`errors-doc: wrote ${file}`);
}
