// Bundles the CLI into one file. Command modules are reached through dynamic import(), which
// esbuild (without code splitting) turns into lazily initialised sections of the same file: only
// the code of the command that runs is evaluated, so `contrast --version` stays fast.
//
// The output is CommonJS on purpose: in an ESM bundle esbuild hoists every `node:*` import to the
// top, so built-ins such as node:crypto would load even for `--version`; in CommonJS they become
// require() calls inside the lazy sections. (Measured: about 10 ms per start.)
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/contrast.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
  define: { __CONTRAST_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: "#!/usr/bin/env node" },
});
