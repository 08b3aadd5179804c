import type { KeyObject } from "node:crypto";
import { basename } from "node:path";
import { ContrastError, isContrastError } from "@contrast/core";
import { loadManifest, MANIFEST_MAX_BYTES, type Manifest, type ManifestIssue } from "@contrast/manifest";
import { parseSeedShareOwnerKey, parseWorkloadOwnerKey } from "@contrast/mesh-pki";
import { type Context, resolvePath } from "../context.js";
import { readBounded } from "../files.js";

/** Upstream's default file names (reference §2.1). */
export const FILES = {
  manifest: "manifest.json",
  workloadOwnerKey: "workload-owner.pem",
  seedShareOwnerKey: "seedshare-owner.pem",
  seedShares: "seed-shares.json",
  rootCa: "coordinator-root-ca.pem",
  meshCa: "mesh-ca.pem",
  verifyDir: "verify",
} as const;

const KEY_MAX_BYTES = 64 * 1024;

export interface ManifestFile {
  readonly path: string;
  /** The exact bytes: what SetManifest sends and what verify compares. */
  readonly bytes: Uint8Array;
  readonly manifest: Manifest;
  readonly issues: readonly ManifestIssue[];
  readonly hash: string;
}

/** Reads and validates --manifest; a manifest with errors stops the command (ManifestError). */
export async function readManifestFile(ctx: Context, explicit: string | undefined): Promise<ManifestFile> {
  const path = resolvePath(ctx, explicit, FILES.manifest);
  const bytes = await readBounded(path, MANIFEST_MAX_BYTES, "manifest");
  const result = loadManifest(bytes, { source: path });
  return { path, bytes, manifest: result.manifest, issues: result.issues, hash: result.hash };
}

/**
 * Reads a private key file with the given parser. A wrong key type or a damaged file keeps the
 * parser's code and names the file and the flag that chose it; a missing file is undefined when
 * `optional`.
 */
async function readKey(
  path: string,
  flag: string,
  parse: (pem: Uint8Array) => KeyObject,
  optional: boolean,
): Promise<KeyObject | undefined> {
  let pem: Uint8Array;
  try {
    pem = await readBounded(path, KEY_MAX_BYTES, "key file");
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    return parse(pem);
  } catch (e) {
    if (!isContrastError(e)) throw e;
    throw new ContrastError(e.code, `${path}: ${e.message}`, {
      kind: e.kind,
      cause: e,
      hint: `${e.hint ?? "Check the key file."} (${flag} chose ${basename(path)})`,
      details: { ...e.details, file: path, flag },
    });
  }
}

/** workload-owner.pem (ECDSA, SEC1 PEM); undefined when the file does not exist. */
export function readWorkloadOwnerKey(path: string): Promise<KeyObject | undefined> {
  return readKey(path, "--workload-owner-key", parseWorkloadOwnerKey, true);
}

/** seedshare-owner.pem (RSA, PKCS#1 PEM); required. */
export async function readSeedShareOwnerKey(path: string): Promise<KeyObject> {
  return (await readKey(path, "--seedshare-owner-key", parseSeedShareOwnerKey, false)) as KeyObject;
}
