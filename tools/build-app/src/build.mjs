import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { BuildAppError, escapeRegExp, publishes, readPlan } from "./config.mjs";

/**
 * The policy every app shares:
 * - CommonJS on purpose: in an ESM bundle esbuild hoists every `node:*` import to the top, so
 *   built-ins such as node:crypto would load even for `--version`; in CommonJS they become
 *   require() calls inside the lazily initialised sections. (Measured on the CLI: about 10 ms per
 *   start.)
 * - Not minified: users' stack traces and bug reports stay readable, and the bundles are read
 *   once per process, where parsing, not download size, is the cost.
 * - Linked source maps and linked legal comments: the code stays lean, the licences ship beside it.
 * - Reproducible: paths are relative to the app (absWorkingDir), nothing reads the clock, and the
 *   only build-time value is the package version.
 */
const POLICY = {
  bundle: true,
  platform: "node",
  format: "cjs",
  minify: false,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
  metafile: true,
  write: false,
};

export const SHEBANG = "#!/usr/bin/env node";

/**
 * @typedef {{ path: string, bytes: number, sha256: string }} Output
 * @typedef {{ bundle: string, outputs: Output[], bytes: number, inputs: { group: string, bytes: number }[] }} BundleReport
 */

/**
 * Bundles the app in `appDir` as its package.json's "buildApp" section describes. `outDir`
 * redirects the output (tests); by default the files go where the configuration says.
 * `defineJson` gives the JSON files for the identifiers of the app's `buildApp.defineJson`
 * (identifier → file); without it they come from the environment variables the app names.
 * @param {string} appDir
 * @param {{ outDir?: string, defineJson?: Record<string, string>, env?: Record<string, string | undefined> }} [options]
 * @returns {Promise<{ bundles: BundleReport[], metafile: { inputs: object, outputs: object } }>}
 */
export async function buildApp(appDir, options = {}) {
  const root = resolve(appDir);
  const plan = readPlan(root);
  const outPath = (outfile) =>
    options.outDir === undefined ? join(root, outfile) : join(options.outDir, basename(outfile));
  const lazy = plan.bundles.filter((b) => b.importedAs !== undefined);
  const referenced = new Set();
  const reports = [];
  const merged = { inputs: {}, outputs: {} };
  const define = {
    ...(plan.versionConstant === undefined ? {} : { [plan.versionConstant]: JSON.stringify(plan.version) }),
    ...jsonDefines(plan, options.defineJson, options.env ?? process.env),
  };

  for (const bundle of plan.bundles) {
    const outfile = outPath(bundle.outfile);
    const others = lazy.filter((b) => b !== bundle);
    const result = await build({
      ...POLICY,
      absWorkingDir: root,
      entryPoints: [bundle.entry],
      outfile,
      target: plan.target,
      external: plan.external,
      define,
      banner: bundle.bin ? { js: SHEBANG } : {},
      plugins: others.length === 0 ? [] : [lazyBundles(others, referenced)],
    });
    const outputs = [];
    for (const file of result.outputFiles) {
      let bytes = file.contents;
      if (file.path === outfile) {
        bytes = Buffer.from(requireLazyBundles(Buffer.from(bytes).toString("utf8"), others, bundle.outfile));
        if (bundle.maxBytes !== undefined && bytes.length > bundle.maxBytes)
          throw new BuildAppError(
            "BUDGET_EXCEEDED",
            `${bundle.outfile} is ${bytes.length} bytes, over its budget of ${bundle.maxBytes} (buildApp.bundles[].maxBytes)`,
          );
      }
      const rel = relative(dirname(outfile), file.path);
      const published = join(dirname(bundle.outfile), rel);
      if (published.endsWith(".LEGAL.txt") && !publishes(plan.files, published))
        throw new BuildAppError(
          "OUTPUT_NOT_PUBLISHED",
          `"files" does not publish ${published} (the licences of bundled code)`,
        );
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, bytes);
      outputs.push({ path: published, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
    }
    Object.assign(merged.inputs, result.metafile.inputs);
    Object.assign(merged.outputs, result.metafile.outputs);
    const main = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
    outputs.sort(
      (a, b) => Number(b.path === bundle.outfile) - Number(a.path === bundle.outfile) || (a.path < b.path ? -1 : 1),
    );
    reports.push({
      bundle: bundle.outfile,
      outputs,
      bytes: outputs.find((o) => o.path === bundle.outfile)?.bytes ?? 0,
      inputs: groupInputs(main?.inputs ?? {}),
    });
  }
  for (const b of lazy) {
    if (!referenced.has(b))
      throw new BuildAppError(
        "LAZY_IMPORT_MISSING",
        `no bundle imports ${b.importedAs}, so ${b.outfile} would never load (buildApp.bundles[].importedAs)`,
      );
  }
  return { bundles: reports, metafile: merged };
}

/**
 * The JSON-valued defines: each identifier of `buildApp.defineJson` whose file is given (by the
 * caller, or by the environment variable the app names) becomes that file's value, re-serialised
 * so that only valid JSON reaches the bundle and the bytes do not depend on the file's layout.
 * An identifier without a file is not defined at all: the code's `typeof X === "undefined"`
 * branch (a development build) stays.
 * @param {import("./config.mjs").Plan} plan
 * @param {Record<string, string> | undefined} files
 * @param {Record<string, string | undefined>} env
 */
export function jsonDefines(plan, files, env) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const id of Object.keys(files ?? {})) {
    if (!(id in plan.defineJson))
      throw new BuildAppError("CONFIG_INVALID", `${id} is not one of the app's "buildApp.defineJson" identifiers`);
  }
  for (const [id, source] of Object.entries(plan.defineJson)) {
    const file = files?.[id] ?? env[source.slice("env:".length)];
    if (file === undefined || file === "") continue;
    let value;
    try {
      value = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new BuildAppError("DEFINE_JSON_INVALID", `${id}: ${file} is not a readable JSON file (${e.message})`);
    }
    out[id] = JSON.stringify(value);
  }
  return out;
}

/** Sends `import("./program.js")` to the lazily loaded bundle's file instead of inlining it. */
function lazyBundles(others, referenced) {
  return {
    name: "lazy-bundles",
    setup(b) {
      for (const other of others) {
        const filter = new RegExp(`^${escapeRegExp(other.importedAs)}$`);
        b.onResolve({ filter }, () => {
          referenced.add(other);
          return { path: `./${basename(other.outfile)}`, external: true };
        });
      }
    },
  };
}

/**
 * esbuild keeps import() for an external file; require() avoids starting Node's ESM loader (all
 * bundles are CommonJS). The replacement has the same length, so the source map stays exact.
 * @param {string} text
 */
export function requireLazyBundles(text, others, outfile) {
  let out = text;
  for (const other of others) {
    const target = JSON.stringify(`./${basename(other.outfile)}`);
    const dynamic = `await import(${target})`;
    out = out.split(dynamic).join(`require(${target})`.padEnd(dynamic.length));
    if (out.includes(`import(${target})`))
      throw new BuildAppError(
        "LAZY_IMPORT_FORM",
        `${outfile} loads ${other.importedAs} other than by \`await import(...)\`; only that form can become require()`,
      );
  }
  return out;
}

/** Bytes in the output by where they come from: a dependency, a workspace package, or the app. */
function groupInputs(inputs) {
  const groups = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const group = inputGroup(path);
    groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
  }
  return [...groups]
    .map(([group, bytes]) => ({ group, bytes }))
    .sort((a, b) => b.bytes - a.bytes || (a.group < b.group ? -1 : 1));
}

/** @param {string} path an esbuild input path, relative to the app */
export function inputGroup(path) {
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + "node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  const ws = /^(?:\.\.\/)+(packages|tools)\/([^/]+)\//.exec(path);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return "(the app)";
}

/**
 * The size report printed after a build: each bundle's files, and where its bytes come from.
 * @param {BundleReport[]} bundles
 * @param {number} [top]
 */
export function formatReport(bundles, top = 6) {
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const lines = [];
  for (const b of bundles) {
    for (const o of b.outputs)
      lines.push(`${o.path.padEnd(40)} ${kib(o.bytes).padStart(11)}  sha256:${o.sha256.slice(0, 16)}`);
    for (const i of b.inputs.slice(0, top)) lines.push(`  ${i.group.padEnd(38)} ${kib(i.bytes).padStart(11)}`);
    if (b.inputs.length > top) {
      const rest = b.inputs.slice(top).reduce((n, i) => n + i.bytes, 0);
      lines.push(`  ${`${b.inputs.length - top} more`.padEnd(38)} ${kib(rest).padStart(11)}`);
    }
  }
  return lines.join("\n");
}
