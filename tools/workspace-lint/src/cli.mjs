#!/usr/bin/env node
import { resolve } from "node:path";
import { lintWorkspace } from "./lint.mjs";

const root = resolve(process.argv[2] ?? ".");
const problems = lintWorkspace(root);
for (const p of problems) console.error(`${p.where}: [${p.rule}] ${p.message}`);
if (problems.length > 0) {
  console.error(`workspace-lint: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
  process.exit(1);
}
console.log("workspace-lint: dependency direction and package metadata OK");
