#!/usr/bin/env node
// contrast-release render --images FILE --layout DIR --image-prefix HOST/PATH --out DIR
//   [--runtime-payload FILE] [--reference-values FILE] [--coordinator-store fs|configmap] [--no-cli]
// Writes runtime-<platform>.yml, coordinator-<platform>.yml and release.json into --out, and the
// CLI bundle with the release embedded into --out/cli (docs/release.md).
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { nodeFileSystem } from "@contrast/oci";
import { buildReleaseCli, checkReleaseCli } from "./embed.mjs";
import { releaseError } from "./errors.mjs";
import { renderRelease } from "./render.mjs";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const USAGE =
  "usage: contrast-release render --images FILE --layout DIR --image-prefix HOST/PATH --out DIR [--runtime-payload FILE] [--reference-values FILE] [--coordinator-store fs|configmap] [--no-cli]";

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      images: { type: "string" },
      layout: { type: "string" },
      "image-prefix": { type: "string" },
      out: { type: "string" },
      "runtime-payload": { type: "string" },
      "reference-values": { type: "string" },
      "no-cli": { type: "boolean", default: false },
      "coordinator-store": { type: "string", default: "configmap" },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals[0] !== "render" || positionals.length !== 1)
    throw releaseError("RELEASE_USAGE", `expected the command "render"`, { hint: USAGE });
  for (const flag of ["images", "layout", "image-prefix", "out"]) {
    if (values[flag] === undefined) throw releaseError("RELEASE_USAGE", `--${flag} is required`, { hint: USAGE });
  }
  const store = values["coordinator-store"];
  if (store !== "fs" && store !== "configmap")
    throw releaseError("RELEASE_USAGE", `--coordinator-store must be fs or configmap, not ${JSON.stringify(store)}`);
  const read = (file) => {
    try {
      return readFileSync(file, "utf8");
    } catch (e) {
      throw releaseError("RELEASE_USAGE", `cannot read ${file}: ${e.message}`);
    }
  };
  const out = resolve(values.out);
  const rendered = await renderRelease({
    imagesJson: read(values.images),
    imagesSource: values.images,
    layoutDir: resolve(values.layout),
    fs: nodeFileSystem,
    imagePrefix: values["image-prefix"],
    coordinatorStore: store,
    ...(values["runtime-payload"] === undefined ? {} : { runtimePayload: read(values["runtime-payload"]) }),
    ...(values["reference-values"] === undefined ? {} : { referenceValues: read(values["reference-values"]) }),
  });
  mkdirSync(out, { recursive: true });
  for (const f of rendered.files) writeFileSync(join(out, f.name), f.text);
  for (const w of rendered.warnings) console.error(`warning: ${w.code ?? ""} ${w.message}`);
  for (const f of rendered.files) console.log(join(values.out, f.name));
  if (!values["no-cli"]) {
    const report = await buildReleaseCli({
      cliDir: join(REPO, "apps/cli"),
      releaseJson: join(out, "release.json"),
      outDir: join(out, "cli"),
    });
    // The entry bundle starts with `#!/usr/bin/env node`: runnable as `./contrast.cjs`.
    chmodSync(join(out, "cli", "contrast.cjs"), 0o755);
    checkReleaseCli(join(out, "cli"), /** @type {any} */ (rendered.release));
    for (const b of report.bundles)
      for (const o of b.outputs)
        console.log(`${join(values.out, "cli", o.path.replace(/^dist\//, ""))}  sha256:${o.sha256}`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  if (typeof e?.code === "string") {
    console.error(`contrast-release: ${e.code}: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    process.exit(1);
  }
  throw e;
});
