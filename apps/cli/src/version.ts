import { PLATFORMS } from "@contrast/manifest";
import type { Output } from "./output.js";

declare const __CONTRAST_VERSION__: string | undefined;

/** Set by the bundler from package.json; "0.0.0-dev" when run from source. */
export const VERSION = typeof __CONTRAST_VERSION__ === "string" ? __CONTRAST_VERSION__ : "0.0.0-dev";
export const COMPATIBLE_WITH = "Contrast v1.5";

export function printVersion(out: Output): void {
  if (out.json) {
    out.document(true, {
      version: VERSION,
      compatibleWith: COMPATIBLE_WITH,
      node: process.version,
      platforms: PLATFORMS.map((p) => ({ id: p.id, name: p.name, tee: p.tee, simulated: p.simulated })),
    });
    return;
  }
  out.info(`contrast ${VERSION} (TypeScript implementation, compatible with ${COMPATIBLE_WITH})`);
  out.info(`node ${process.version}`);
  out.info("platforms (--reference-values):");
  const width = Math.max(...PLATFORMS.map((p) => p.id.length));
  for (const p of PLATFORMS) {
    const what = p.simulated
      ? out.style("yellow", "simulated TEE, INSECURE: for development, tests and demos only")
      : `${p.tee.toUpperCase()} on ${p.hypervisor}${p.gpu ? ", GPU" : ""}`;
    out.info(`  ${p.id.padEnd(width)}  ${what}`);
  }
}
