import { fromBase64 } from "@contrast/core";
import { ImageError } from "./errors.js";
import { DOCKER_HUB } from "./reference.js";
import type { RegistryCredentials } from "./registry.js";

/** What Docker's `config.json` tells a registry client. */
export interface DockerConfig {
  /** Basic credentials by registry (`docker.io`, `ghcr.io`, `host:port`), from `auths`. */
  readonly credentials: ReadonlyMap<string, RegistryCredentials>;
  /** The credential helper for every registry (`docker-credential-<credsStore>`). */
  readonly credsStore?: string;
  /** Credential helpers per registry (`credHelpers`); they take precedence over credsStore. */
  readonly credHelpers: ReadonlyMap<string, string>;
}

/**
 * The credentials stored in Docker's `config.json` (`auths`: base64 of "user:password" per
 * registry). Entries without such a pair (identity tokens, empty logins) are skipped; anything
 * else that is not a config file is DOCKER_CONFIG_INVALID. `file` names the file in messages.
 */
export function parseDockerConfig(text: string, file = "config.json"): DockerConfig {
  const credentials = new Map<string, RegistryCredentials>();
  try {
    const doc = JSON.parse(text) as {
      auths?: Record<string, { auth?: string }>;
      credsStore?: string;
      credHelpers?: Record<string, string>;
    };
    for (const [key, entry] of Object.entries(doc.auths ?? {})) {
      if (typeof entry?.auth !== "string" || entry.auth === "") continue;
      const plain = Buffer.from(fromBase64(entry.auth)).toString("utf8");
      const colon = plain.indexOf(":");
      if (colon < 0) continue;
      credentials.set(dockerConfigRegistry(key), { username: plain.slice(0, colon), password: plain.slice(colon + 1) });
    }
    const credHelpers = new Map<string, string>();
    for (const [key, helper] of Object.entries(doc.credHelpers ?? {})) {
      credHelpers.set(dockerConfigRegistry(key), helperName(helper, file));
    }
    return {
      credentials,
      credHelpers,
      ...(doc.credsStore === undefined || doc.credsStore === ""
        ? {}
        : { credsStore: helperName(doc.credsStore, file) }),
    };
  } catch (e) {
    throw new ImageError("DOCKER_CONFIG_INVALID", `${file} is not valid`, {
      hint: "Fix or move the file; it holds registry credentials.",
      cause: e,
    });
  }
}

/**
 * A helper name as Docker runs it, `docker-credential-<name>` on the PATH: a plain word, never a
 * path, so a config file cannot name an arbitrary program.
 */
function helperName(value: unknown, file: string): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) {
    throw new Error(`${file}: credential helper ${JSON.stringify(value)} is not a helper name`);
  }
  return value;
}

/**
 * The registry an `auths` key names. Docker writes Docker Hub as its legacy index URL
 * (`https://index.docker.io/v1/`) and other registries as host[:port], sometimes as a URL.
 */
export function dockerConfigRegistry(key: string): string {
  const host = key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return host === "index.docker.io" ? DOCKER_HUB : host;
}
