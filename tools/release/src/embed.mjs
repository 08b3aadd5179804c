import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildApp } from "@contrast/build-app";
import { releaseError } from "./errors.mjs";

/** The identifier apps/cli/src/release.ts reads its embedded release from. */
export const RELEASE_DEFINE = "__CONTRAST_RELEASE__";

/**
 * Bundles the CLI app at `cliDir` with release.json embedded, into `outDir` (contrast.cjs,
 * contrast-program.cjs, their source maps and licence files), through the shared app build.
 * @param {{ cliDir: string, releaseJson: string, outDir: string }} options
 */
export function buildReleaseCli(options) {
  return buildApp(options.cliDir, { outDir: options.outDir, defineJson: { [RELEASE_DEFINE]: options.releaseJson } });
}

/**
 * Runs the built CLI's `--version --output json` and checks that it reports the release: the
 * images, and every platform's handler and Coordinator policy hash. A bundle that lost its define
 * would otherwise ship as a development build under a release's name.
 * @param {string} outDir where buildReleaseCli wrote the bundle
 * @param {{ images: Record<string, string>, platforms: Record<string, { runtimeHandler: string, coordinatorPolicyHash: string }> }} release
 */
export function checkReleaseCli(outDir, release) {
  const run = spawnSync(process.execPath, [join(outDir, "contrast.cjs"), "--version", "--output", "json"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  const fail = (why) => {
    throw releaseError("RELEASE_CLI_EMBED_FAILED", `${join(outDir, "contrast.cjs")}: ${why}`, {
      details: { status: run.status, stdout: run.stdout.slice(0, 2000), stderr: run.stderr.slice(0, 2000) },
    });
  };
  if (run.status !== 0) return fail(`--version exited with ${run.status}: ${run.stderr.trim().split("\n")[0] ?? ""}`);
  let doc;
  try {
    doc = JSON.parse(run.stdout);
  } catch {
    return fail("--version --output json did not print JSON");
  }
  if (JSON.stringify(doc.images) !== JSON.stringify(release.images)) fail("it does not list the release's images");
  for (const [id, p] of Object.entries(release.platforms)) {
    const got = doc.platforms?.find((x) => x.id === id);
    if (got?.runtimeHandler !== p.runtimeHandler || got?.coordinatorPolicyHash !== p.coordinatorPolicyHash)
      fail(`it does not report the release's handler and Coordinator policy hash for ${id}`);
  }
}
