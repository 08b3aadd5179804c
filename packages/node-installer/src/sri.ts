import { createHash, type Hash } from "node:crypto";
import { fromBase64, toBase64 } from "@contrast/core";
import { NodeInstallError } from "./errors.js";

export type SriAlgorithm = "sha256" | "sha384" | "sha512";

const DIGEST_BYTES: Readonly<Record<SriAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 };
const STRENGTH: Readonly<Record<SriAlgorithm, number>> = { sha256: 1, sha384: 2, sha512: 3 };

export interface SriHash {
  readonly algorithm: SriAlgorithm;
  /** The decoded digest. */
  readonly digest: Uint8Array;
}

/**
 * The hashes of one Subresource Integrity value that a fetched file is checked against: only
 * those of the strongest algorithm present, as the SRI specification has a user agent do.
 */
export interface Integrity {
  readonly algorithm: SriAlgorithm;
  readonly hashes: readonly SriHash[];
}

// Standard base64 with padding, as SRI writes it; an option expression (`?...`) may follow.
const TOKEN = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(\?[\x21-\x7e]*)?$/;

/**
 * Parses an SRI string ("sha384-<base64>", several separated by white space). Unlike a browser,
 * which ignores tokens it does not understand, this rejects them: a typo in a release's
 * integrity value must not silently disable the check. Digest lengths are checked too.
 */
export function parseIntegrity(value: string): Integrity {
  const invalid = (why: string) =>
    new NodeInstallError("NODE_INSTALL_INTEGRITY_INVALID", `invalid integrity ${JSON.stringify(value)}: ${why}`);
  const tokens = value.split(/[ \t\n\r\f]+/).filter((t) => t !== "");
  if (tokens.length === 0) throw invalid("no hash");
  const hashes: SriHash[] = [];
  for (const token of tokens) {
    const m = TOKEN.exec(token);
    if (m === null) throw invalid(`${JSON.stringify(token)} is not <sha256|sha384|sha512>-<base64>`);
    const algorithm = m[1] as SriAlgorithm;
    const b64 = m[2] as string;
    let digest: Uint8Array;
    try {
      digest = fromBase64(b64);
    } catch {
      throw invalid(`the base64 of ${JSON.stringify(token)} is not canonical`);
    }
    if (digest.length !== DIGEST_BYTES[algorithm]) {
      throw invalid(`a ${algorithm} digest is ${DIGEST_BYTES[algorithm]} bytes in canonical base64`);
    }
    hashes.push({ algorithm, digest });
  }
  const strongest = hashes.reduce<SriAlgorithm>(
    (best, h) => (STRENGTH[h.algorithm] > STRENGTH[best] ? h.algorithm : best),
    "sha256",
  );
  return { algorithm: strongest, hashes: hashes.filter((h) => h.algorithm === strongest) };
}

/** The SRI string of some bytes, e.g. for writing a configuration. */
export function integrityOf(data: Uint8Array, algorithm: SriAlgorithm = "sha256"): string {
  return `${algorithm}-${createHash(algorithm).update(data).digest("base64")}`;
}

/** Hashes a stream of chunks for one integrity value; `matches()` after the last chunk. */
export class IntegrityCheck {
  readonly #integrity: Integrity;
  readonly #hash: Hash;

  constructor(integrity: Integrity) {
    this.#integrity = integrity;
    this.#hash = createHash(integrity.algorithm);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  /** True when the digest equals any of the strongest algorithm's hashes (SRI: one match suffices). */
  finish(): { matches: boolean; actual: string } {
    const actual = new Uint8Array(this.#hash.digest());
    const matches = this.#integrity.hashes.some(
      (h) => h.digest.length === actual.length && h.digest.every((b, i) => b === actual[i]),
    );
    return { matches, actual: `${this.#integrity.algorithm}-${toBase64(actual)}` };
  }
}
