import { fromBase64 } from "@contrast/core";
import { ImageError } from "./errors.js";
import { DOCKER_HUB } from "./reference.js";
import type { RegistryCredentials } from "./registry.js";

/** What Docker's `config.json` tells a registry client. */
export interface DockerConfig {
  /** Basic credentials by registry (`docker.io`, `ghcr.io`, `host:port`), from `auths`. */
  readonly credentials: ReadonlyMap<string, RegistryCredentials>;
  /** The credential helper the file names; helpers are not run, so its logins are not used. */
  readonly credsStore?: string;
}

/**
 * The credentials stored in Docker's `config.json` (`auths`: base64 of "user:password" per
 * registry). Entries without such a pair (identity tokens, empty logins) are skipped; anything
 * else that is not a config file is DOCKER_CONFIG_INVALID. `file` names the file in messages.
 */
export function parseDockerConfig(text: string, file = "config.json"): DockerConfig {
  const credentials = new Map<string, RegistryCredentials>();
  try {
    const doc = JSON.parse(text) as { auths?: Record<string, { auth?: string }>; credsStore?: string };
    for (const [key, entry] of Object.entries(doc.auths ?? {})) {
      if (typeof entry?.auth !== "string" || entry.auth === "") continue;
      const plain = Buffer.from(fromBase64(entry.auth)).toString("utf8");
      const colon = plain.indexOf(":");
      if (colon < 0) continue;
      credentials.set(dockerConfigRegistry(key), { username: plain.slice(0, colon), password: plain.slice(colon + 1) });
    }
    return { credentials, ...(doc.credsStore === undefined ? {} : { credsStore: String(doc.credsStore) }) };
  } catch (e) {
    throw new ImageError("DOCKER_CONFIG_INVALID", `${file} is not valid`, {
      hint: "Fix or move the file; it holds registry credentials.",
      cause: e,
    });
  }
}

/**
 * The registry an `auths` key names. Docker writes Docker Hub as its legacy index URL
 * (`https://index.docker.io/v1/`) and other registries as host[:port], sometimes as a URL.
 */
export function dockerConfigRegistry(key: string): string {
  const host = key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return host === "index.docker.io" ? DOCKER_HUB : host;
}
