import type { Clock } from "@contrast/core";
import { bytesEqual, ContrastError, toHex } from "@contrast/core";
import type { RandomSource } from "@contrast/mesh-pki";
import { CoordinatorError } from "./errors.js";

export const NONCE_BYTES = 32;
export const DEFAULT_NONCE_TTL_MS = 60_000;
export const DEFAULT_NONCE_CAPACITY = 10_000;

export interface NonceTableOptions {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly ttlMs?: number;
  /** At most this many live nonces; issuing one more evicts the oldest, so a flood cannot grow memory. */
  readonly capacity?: number;
}

interface Entry {
  readonly keyDigest: Uint8Array;
  readonly expiresAt: number;
}

/**
 * The attestation nonces the mesh API handed out: each bound to the SHA-256 of the client
 * certificate key of the connection that asked, valid for a short time, and used at most once:
 * `consume` removes it whether the attestation then succeeds or not, so evidence can never be
 * replayed against the same nonce.
 */
export class NonceTable {
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #ttlMs: number;
  readonly #capacity: number;
  // A Map iterates in insertion order: the first entry is the oldest, which eviction removes.
  readonly #entries = new Map<string, Entry>();

  constructor(options: NonceTableOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#ttlMs = options.ttlMs ?? DEFAULT_NONCE_TTL_MS;
    this.#capacity = Math.max(1, options.capacity ?? DEFAULT_NONCE_CAPACITY);
  }

  get size(): number {
    return this.#entries.size;
  }

  get ttlSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  /** A fresh nonce for the connection whose client key hashes to `keyDigest`. */
  issue(keyDigest: Uint8Array): Uint8Array {
    const now = this.#clock.now().getTime();
    this.#dropExpired(now);
    while (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    const nonce = this.#random(NONCE_BYTES);
    if (nonce.length !== NONCE_BYTES) {
      throw new ContrastError("INTERNAL", "the random source returned the wrong number of bytes", {
        kind: "internal",
        hint: "The injected random source must return exactly the number of bytes asked for.",
      });
    }
    this.#entries.set(toHex(nonce), { keyDigest: new Uint8Array(keyDigest), expiresAt: now + this.#ttlMs });
    return new Uint8Array(nonce);
  }

  /** Uses up `nonce` for the key `keyDigest`; throws when it is unknown, used, expired or another key's. */
  consume(nonce: Uint8Array, keyDigest: Uint8Array): void {
    const id = toHex(nonce);
    const entry = this.#entries.get(id);
    // Single use: gone from here on, whatever the outcome of this attestation.
    this.#entries.delete(id);
    if (entry === undefined || nonce.length !== NONCE_BYTES) {
      throw new CoordinatorError("COORDINATOR_NONCE_UNKNOWN", "the attestation nonce is unknown or was already used", {
        hint: "Ask for a new nonce with NewAttestationNonce right before NewMeshCert; every nonce works once.",
      });
    }
    if (this.#clock.now().getTime() >= entry.expiresAt) {
      throw new CoordinatorError("COORDINATOR_NONCE_EXPIRED", "the attestation nonce has expired", {
        hint: `Ask for a new nonce and use it within ${this.ttlSeconds} seconds.`,
      });
    }
    if (!bytesEqual(entry.keyDigest, keyDigest)) {
      throw new CoordinatorError(
        "COORDINATOR_NONCE_KEY_MISMATCH",
        "the attestation nonce was issued to another client key",
        { hint: "Ask for the nonce on the same connection (same client key) that sends the evidence." },
      );
    }
  }

  #dropExpired(now: number): void {
    for (const [id, entry] of this.#entries) {
      // Entries were inserted in time order, so the first live one ends the sweep; with a clock
      // that went backwards, later ones may still expire first and are caught on consume.
      if (entry.expiresAt > now) break;
      this.#entries.delete(id);
    }
  }
}
