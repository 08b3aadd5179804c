import { buildApp } from "@contrast/build-app";

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
