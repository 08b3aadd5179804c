// Builds the SO_ORIGINAL_DST addon with node-gyp against the headers of the Node that runs this
// script (<prefix>/include/node, as Debian's and nodesource's packages and the official tarballs
// install them), so nothing is downloaded. node-gyp is npm's bundled copy, or one on PATH.
// The result is copied to dist/original_dst.node, where the library looks by default and from
// where apps copy it next to their bundle.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = dirname(here);
const prefix = dirname(dirname(process.execPath));

const nodeDir = [prefix, "/usr", "/usr/local"].find((dir) => existsSync(join(dir, "include/node/node_api.h")));
if (nodeDir === undefined) {
  fail(`no Node headers (include/node/node_api.h) under ${prefix}, /usr or /usr/local`);
}

const bundledGyp = [
  join(prefix, "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"),
  "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
  "/usr/share/nodejs/node-gyp/bin/node-gyp.js",
].find((file) => existsSync(file));
const command = bundledGyp === undefined ? ["node-gyp"] : [process.execPath, bundledGyp];

try {
  const [program, ...args] = command;
  execFileSync(program, [...args, "rebuild", `--nodedir=${nodeDir}`, `--directory=${here}`, "--loglevel=warn"], {
    stdio: "inherit",
    env: { ...process.env, npm_config_nodedir: nodeDir },
  });
} catch (error) {
  fail(`node-gyp failed (${error.message}); it needs python3, make and a C compiler`);
}

mkdirSync(join(packageDir, "dist"), { recursive: true });
copyFileSync(join(here, "build/Release/original_dst.node"), join(packageDir, "dist/original_dst.node"));

function fail(message) {
  process.stderr.write(`@contrast/netfilter: cannot build the original-destination addon: ${message}\n`);
  process.exit(1);
}
