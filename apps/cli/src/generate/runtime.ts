import { sha256Hex, utf8 } from "@contrast/core";
import { type Platform, runtimeHandler } from "@contrast/manifest";
import { type PolicyProfile, settingsToJson } from "@contrast/policy";
import { releasePlatform } from "../release.js";

/**
 * The versioned runtime handler `generate` writes into `runtimeClassName`:
 * `contrast-cc-<platform>-<8 hex>`. A release build of the CLI takes it from its embedded release,
 * whose runtime-<platform>.yml installs that handler (docs/release.md). A development build has no
 * release, so the hash is taken from what a runtime build must agree with: the platform's built-in
 * policy profile (its settings and rules), `profileDigest`. A changed profile gives a new handler,
 * as a new runtime release does upstream; the same CLI gives the same name every time.
 * docs/deviations.md says so.
 */
export function runtimeHandlerFor(platform: Platform, profile: PolicyProfile): string {
  const released = releasePlatform(platform.id);
  if (released !== undefined) return released.runtimeHandler;
  return runtimeHandler(platform, profileDigest(profile).slice(0, 8));
}

/**
 * SHA-256 (hex) of a policy profile: its id, settings and rules. tools/release/src/runtime.mjs
 * computes the same digest as one input of a release's runtime hash.
 */
export function profileDigest(profile: PolicyProfile): string {
  return sha256Hex(utf8(`contrast runtime\0${profile.id}\0${settingsToJson(profile.settings)}\0${profile.rules}`));
}
