// Bundles the CLI into two files:
// - dist/contrast.cjs, the entry: argument peeking, output, `--version`. Small, so that the
//   commonest trivial call does not parse the whole CLI.
// - dist/contrast-program.cjs: commander and every command, reached through `import("./program.js")`.
//   Command modules inside it are dynamic imports too, which esbuild (without code splitting)
//   turns into lazily initialised sections: only the code of the command that runs is evaluated.
// The program file renders its own errors, so no class (ContrastError and its subclasses) is ever
// shared between the two files' copies of a package.
//
// The output is CommonJS on purpose: in an ESM bundle esbuild hoists every `node:*` import to the
// top, so built-ins such as node:crypto would load even for `--version`; in CommonJS they become
// require() calls inside the lazy sections. (Measured: about 10 ms per start.)
import { readFileSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
  define: { __CONTRAST_VERSION__: JSON.stringify(pkg.version) },
};

/** Sends the entry's `import("./program.js")` to the second file instead of inlining it. */
const programElsewhere = {
  name: "program-elsewhere",
  setup(b) {
    b.onResolve({ filter: /^\.\/program\.js$/ }, () => ({ path: "./contrast-program.cjs", external: true }));
  },
};

await build({
  ...common,
  entryPoints: ["src/main.ts"],
  outfile: "dist/contrast.cjs",
  banner: { js: "#!/usr/bin/env node" },
  plugins: [programElsewhere],
});
// esbuild keeps import() for an external file; require() avoids starting Node's ESM loader
// (both files are CommonJS). Same length, so the source map stays exact.
const entry = readFileSync("dist/contrast.cjs", "utf8");
const dynamic = 'await import("./contrast-program.cjs")';
if (!entry.includes(dynamic)) throw new Error("build: the entry no longer imports the program file");
writeFileSync("dist/contrast.cjs", entry.replace(dynamic, 'require("./contrast-program.cjs")'.padEnd(dynamic.length)));
await build({ ...common, entryPoints: ["src/program.ts"], outfile: "dist/contrast-program.cjs" });
