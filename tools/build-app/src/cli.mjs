#!/usr/bin/env node
// build-app [--metafile FILE] [--define-json ID=FILE]... [--out-dir DIR] [APP_DIR]: bundles the app (default: the current directory, which is
// where `pnpm build` runs a package's script) and prints the size report.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildApp, formatReport } from "./build.mjs";
import { BuildAppError } from "./config.mjs";

const { values, positionals } = parseArgs({
  options: {
    metafile: { type: "string" },
    quiet: { type: "boolean", default: false },
    "define-json": { type: "string", multiple: true },
    "out-dir": { type: "string" },
  },
  allowPositionals: true,
});
try {
  /** @type {Record<string, string>} */
  const defineJson = {};
  for (const pair of values["define-json"] ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new BuildAppError("CONFIG_INVALID", `--define-json ${pair}: expected ID=FILE`);
    defineJson[pair.slice(0, at)] = resolve(pair.slice(at + 1));
  }
  const report = await buildApp(resolve(positionals[0] ?? "."), {
    defineJson,
    ...(values["out-dir"] === undefined ? {} : { outDir: resolve(values["out-dir"]) }),
  });
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
