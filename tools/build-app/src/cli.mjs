#!/usr/bin/env node
// build-app [--metafile FILE] [APP_DIR]: bundles the app (default: the current directory, which is
// where `pnpm build` runs a package's script) and prints the size report.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildApp, formatReport } from "./build.mjs";

const { values, positionals } = parseArgs({
  options: { metafile: { type: "string" }, quiet: { type: "boolean", default: false } },
  allowPositionals: true,
});
try {
  const report = await buildApp(resolve(positionals[0] ?? "."));
  // The merged esbuild metafile, for esbuild's bundle analyser.
  if (values.metafile !== undefined) writeFileSync(values.metafile, `${JSON.stringify(report.metafile, null, 2)}\n`);
  if (!values.quiet) console.log(formatReport(report.bundles));
} catch (e) {
  // esbuild has already printed its own errors (syntax, resolution) with their locations.
  if (Array.isArray(e?.errors)) process.exit(1);
  if (e?.name !== "BuildAppError") throw e;
  console.error(`build-app: ${e.code}: ${e.message}`);
  process.exit(1);
}
