import { createHash } from "node:crypto";
import { toHex } from "./bytes.js";

export type HashAlgorithm = "sha256" | "sha384" | "sha512";

export const HASH_SIZES: Readonly<Record<HashAlgorithm, number>> = {
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

export function digest(algorithm: HashAlgorithm, ...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash(algorithm);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  return digest("sha256", ...parts);
}

export function sha384(...parts: readonly Uint8Array[]): Uint8Array {
  return digest("sha384", ...parts);
}

export function sha512(...parts: readonly Uint8Array[]): Uint8Array {
  return digest("sha512", ...parts);
}

/** Lower-case hex SHA-256: the form of every policy and manifest hash. */
export function sha256Hex(...parts: readonly Uint8Array[]): string {
  return toHex(sha256(...parts));
}
