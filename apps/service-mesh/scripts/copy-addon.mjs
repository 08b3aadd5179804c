// Puts @contrast/netfilter's SO_ORIGINAL_DST addon next to the bundle, where pod mode loads it by
// path (dist/original_dst.node). The addon is built by the netfilter package's own build.
import { copyFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const from = join(dirname(require.resolve("@contrast/netfilter/package.json")), "dist", "original_dst.node");
const to = new URL("../dist/original_dst.node", import.meta.url);
if (!existsSync(from)) {
  process.stderr.write(
    `copy-addon: ${from} is missing; build @contrast/netfilter first (pod mode needs it, standalone does not)\n`,
  );
  process.exit(1);
}
copyFileSync(from, to);
