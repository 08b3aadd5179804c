#!/usr/bin/env node
// Writes packages/<name>/api.md, the public surface of every package; with --check, fails instead
// when a committed report differs (run by `pnpm lint`). Reads sources, so no build is needed.
import { resolve } from "node:path";
import { runApiReport } from "./report.mjs";

const args = process.argv.slice(2);
const check = args.includes("--check");
const root = resolve(args.find((a) => !a.startsWith("--")) ?? ".");

const { changed, packages } = runApiReport(root, { check });
if (check) {
  for (const file of changed) {
    console.error(`api-report: ${file} is out of date; run \`pnpm api-report\` and review the change`);
  }
  if (changed.length > 0) process.exit(1);
  console.log(`api-report: ${packages} reports current`);
} else {
  for (const file of changed) console.log(`api-report: wrote ${file}`);
  if (changed.length === 0) console.log(`api-report: ${packages} reports current`);
}
