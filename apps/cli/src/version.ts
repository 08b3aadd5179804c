import { PLATFORMS } from "@contrast/manifest";
import type { Output } from "./output.js";
import { EMBEDDED_RELEASE } from "./release.js";

declare const __CONTRAST_VERSION__: string | undefined;

/** Set by the bundler from package.json; "0.0.0-dev" when run from source. */
export const VERSION = typeof __CONTRAST_VERSION__ === "string" ? __CONTRAST_VERSION__ : "0.0.0-dev";
export const COMPATIBLE_WITH = "Contrast v1.5";

/**
 * `contrast --version`. Like upstream (reference §2.1) a release build lists its embedded image
 * references and, per platform, the runtime handler, the reference values ("(no default)" when the
 * release has none) and the Coordinator policy hash; a development build lists the platforms only.
 */
export function printVersion(out: Output): void {
  const release = EMBEDDED_RELEASE;
  if (out.json) {
    out.document(true, {
      version: VERSION,
      compatibleWith: COMPATIBLE_WITH,
      node: process.version,
      ...(release === undefined ? {} : { images: release.images }),
      platforms: PLATFORMS.map((p) => {
        const r = release?.platforms[p.id];
        return {
          id: p.id,
          name: p.name,
          tee: p.tee,
          simulated: p.simulated,
          ...(r === undefined
            ? {}
            : {
                runtimeHandler: r.runtimeHandler,
                coordinatorPolicyHash: r.coordinatorPolicyHash,
                referenceValues: r.referenceValues ?? null,
              }),
        };
      }),
    });
    return;
  }
  out.info(`contrast ${VERSION} (TypeScript implementation, compatible with ${COMPATIBLE_WITH})`);
  out.info(`node ${process.version}`);
  if (release !== undefined) {
    out.info("container image versions:");
    for (const name of Object.keys(release.images).sort()) out.info(`  ${release.images[name]}`);
  }
  out.info("platforms (--reference-values):");
  const width = Math.max(...PLATFORMS.map((p) => p.id.length));
  for (const p of PLATFORMS) {
    const what = p.simulated
      ? out.style("yellow", "simulated TEE, INSECURE: for development, tests and demos only")
      : `${p.tee.toUpperCase()} on ${p.hypervisor}${p.gpu ? ", GPU" : ""}`;
    out.info(`  ${p.id.padEnd(width)}  ${what}`);
    const r = release?.platforms[p.id];
    if (r === undefined) continue;
    out.info(`      runtime handler:          ${r.runtimeHandler}`);
    out.info(`      coordinator policy hash:  ${r.coordinatorPolicyHash}`);
    const values = r.referenceValues === undefined ? [] : referenceValueLines(r.referenceValues);
    if (values.length === 0) out.info("      reference values:         (no default)");
    else {
      out.info("      reference values:");
      for (const line of values) out.info(`        ${line}`);
    }
  }
}

/** `key: value` lines of the manifest's reference values (SNP launch digest and TCB, TDX MRTD…). */
function referenceValueLines(values: Readonly<Record<string, unknown>>, prefix = ""): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const name = prefix === "" ? key : `${prefix}.${key}`;
    if (typeof value === "object" && value !== null)
      lines.push(...referenceValueLines(value as Record<string, unknown>, name));
    else lines.push(`${name}: ${String(value)}`);
  }
  return lines;
}
