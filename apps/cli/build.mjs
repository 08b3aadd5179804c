// Bundles the CLI into one ESM file. Command modules are reached through dynamic import(), which
// esbuild (without code splitting) turns into lazily initialised sections of the same file: only
// the code of the command that runs is evaluated, so `contrast --version` stays fast.
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/contrast.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
  define: { __CONTRAST_VERSION__: JSON.stringify(pkg.version) },
  banner: {
    js: [
      "#!/usr/bin/env node",
      // CommonJS dependencies (commander) call require() for Node built-ins.
      'import { createRequire as __contrastCreateRequire } from "node:module";',
      "const require = __contrastCreateRequire(import.meta.url);",
    ].join("\n"),
  },
});
