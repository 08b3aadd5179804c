import { ContrastError } from "@contrast/core";
import { PLATFORMS, type Platform, parsePlatform } from "./platforms.js";

/** What users write as `runtimeClassName`; `generate` replaces it with the versioned handler. */
export const RUNTIME_CLASS_PLACEHOLDER = "contrast-cc";

const HASH = /^[0-9a-f]{8}$/;

/**
 * The RuntimeClass and Kata handler name `contrast-cc-<platform>-<8 hex>`. The hash identifies
 * the runtime build, so several Contrast versions can coexist on one node.
 */
export function runtimeHandler(platform: Platform | string, runtimeHash: string): string {
  const p = typeof platform === "string" ? parsePlatform(platform) : platform;
  if (!HASH.test(runtimeHash)) {
    throw new ContrastError(
      "RUNTIME_HANDLER_INVALID",
      `runtime hash ${JSON.stringify(runtimeHash)} is not 8 lower-case hex characters`,
      {
        hint: "Use the first 8 hex characters of the runtime's digest.",
      },
    );
  }
  return `${RUNTIME_CLASS_PLACEHOLDER}-${p.id}-${runtimeHash}`;
}

/**
 * Splits a handler name into platform and hash. Stricter than upstream's "4 or 5 dash-separated
 * parts": the platform must be one we know, so a typo cannot select the wrong reference values.
 */
export function parseRuntimeHandler(name: string): { platform: Platform; hash: string } {
  const prefix = `${RUNTIME_CLASS_PLACEHOLDER}-`;
  const invalid = (why: string) =>
    new ContrastError("RUNTIME_HANDLER_INVALID", `invalid runtime handler ${JSON.stringify(name)}: ${why}`, {
      hint: `Runtime handlers look like ${RUNTIME_CLASS_PLACEHOLDER}-<platform>-<8 hex>, e.g. ${RUNTIME_CLASS_PLACEHOLDER}-metal-qemu-tdx-4c6bca70.`,
    });
  if (!name.startsWith(prefix)) throw invalid(`missing prefix ${prefix}`);
  const rest = name.slice(prefix.length);
  const dash = rest.lastIndexOf("-");
  const hash = rest.slice(dash + 1);
  if (dash < 0 || !HASH.test(hash)) throw invalid("missing 8-hex-character runtime hash");
  const id = rest.slice(0, dash);
  const platform = PLATFORMS.find((p) => p.id === id);
  if (platform === undefined) throw invalid(`unknown platform ${JSON.stringify(id)}`);
  return { platform, hash };
}
