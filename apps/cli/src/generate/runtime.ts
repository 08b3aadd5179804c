import { sha256Hex, utf8 } from "@contrast/core";
import { type Platform, runtimeHandler } from "@contrast/manifest";
import { type PolicyProfile, settingsToJson } from "@contrast/policy";

/**
 * The versioned runtime handler `generate` writes into `runtimeClassName`:
 * `contrast-cc-<platform>-<8 hex>`. Upstream's hash names a runtime release. Ours has no release
 * yet, so the hash is taken from what a runtime build must agree with: the platform's built-in
 * policy profile (its settings and rules). A changed profile gives a new handler, as a new
 * runtime release does upstream; the same CLI gives the same name every time. One table, here;
 * docs/deviations.md says so.
 */
export function runtimeHandlerFor(platform: Platform, profile: PolicyProfile): string {
  const digest = sha256Hex(
    utf8(`contrast runtime\0${profile.id}\0${settingsToJson(profile.settings)}\0${profile.rules}`),
  );
  return runtimeHandler(platform, digest.slice(0, 8));
}
