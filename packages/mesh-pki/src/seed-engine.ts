import { hkdfSync } from "node:crypto";
import { SEED_SALT_BYTES } from "@contrast/manifest";
import { type DeterministicEcKey, deriveEcdsaKey } from "./det-keygen.js";
import { MeshPkiError } from "./errors.js";
import { drawRandom, type RandomSource } from "./random.js";

/** Length of the secret seed the Coordinator generates on the first manifest set. */
export const SEED_BYTES = 64;
/** Shortest seed upstream accepts: the size of the HKDF hash (its own test vectors use 32 bytes). */
export const MIN_SEED_BYTES = 32;
/**
 * Longest seed that can work: every derived secret is as long as the seed, and HKDF-SHA256 yields
 * at most 255 blocks of 32 bytes (RFC 5869), so upstream's derivation fails above this length.
 */
export const MAX_SEED_BYTES = 255 * 32;
export const SALT_BYTES = SEED_SALT_BYTES;
/** Workload secrets a SeedEngine remembers at most (see workloadSecret). */
const MAX_REMEMBERED_WORKLOAD_SECRETS = 4096;

/** The HKDF info strings; part of the compatibility contract with upstream Contrast. */
export const SEED_LABELS = {
  podState: "POD STATE SECRET",
  /** Derived by upstream (and here) but never used for anything. */
  history: "HISTORY SECRET",
  transactionSigning: "TRANSACTION SIGNING SECRET",
  rootCa: "ROOT CA SEED",
  workloadSecretPrefix: "WORKLOAD SECRET ID: ",
} as const;

export interface SeedAndSalt {
  readonly seed: Uint8Array;
  readonly salt: Uint8Array;
}

/** A fresh seed and salt, as the Coordinator makes them on the first SetManifest. */
export function generateSeed(random: RandomSource): SeedAndSalt {
  return { seed: drawRandom(random, SEED_BYTES), salt: drawRandom(random, SALT_BYTES) };
}

/**
 * Derives every long-lived secret of a deployment from the seed and salt: the pod state seed
 * (and from it the workload secrets), the transaction signing key and the root CA key. The same
 * seed and salt always give the same values, which is what makes recovery possible.
 */
export class SeedEngine {
  readonly #salt: Uint8Array;
  readonly #podStateSeed: Uint8Array;
  readonly #historySeed: Uint8Array;
  readonly #transactionSigningSeed: Uint8Array;
  readonly #rootCaSeed: Uint8Array;
  #transactionSigningKey: DeterministicEcKey | undefined;
  #rootCaKey: DeterministicEcKey | undefined;
  /**
   * Workload secrets already derived, by ID: every pod of a workload asks for the same one, and
   * HKDF (a secret KeyObject and four HMACs) is a measurable part of a NewMeshCert. The pod state
   * seed they derive from is held all the same, so remembering them exposes nothing new.
   */
  readonly #workloadSecrets = new Map<string, Uint8Array>();

  private constructor(seed: Uint8Array, salt: Uint8Array) {
    this.#salt = new Uint8Array(salt);
    this.#podStateSeed = this.#derive(seed, SEED_LABELS.podState);
    this.#historySeed = this.#derive(seed, SEED_LABELS.history);
    this.#transactionSigningSeed = this.#derive(seed, SEED_LABELS.transactionSigning);
    this.#rootCaSeed = this.#derive(seed, SEED_LABELS.rootCa);
  }

  /**
   * Accepts what upstream accepts: seeds of 32 bytes or more (up to what HKDF can expand), although
   * every seed made by a Coordinator is 64 bytes long. A seed of another accepted length derives
   * other keys, exactly as upstream does with it.
   */
  static fromSeed(seed: Uint8Array, salt: Uint8Array): SeedEngine {
    if (seed.length < MIN_SEED_BYTES || seed.length > MAX_SEED_BYTES) {
      throw new MeshPkiError(
        "SEED_INVALID_LENGTH",
        `the seed has ${seed.length} bytes; expected ${MIN_SEED_BYTES} to ${MAX_SEED_BYTES} (Coordinators make ${SEED_BYTES})`,
        {
          hint: "Use the seed decrypted from your seed share, unmodified.",
          details: { min: MIN_SEED_BYTES, max: MAX_SEED_BYTES, actual: seed.length },
        },
      );
    }
    if (salt.length !== SALT_BYTES) {
      throw new MeshPkiError("SALT_INVALID_LENGTH", `the salt has ${salt.length} bytes; expected ${SALT_BYTES}`, {
        hint: "Use the salt from seed-shares.json, unmodified.",
        details: { expected: SALT_BYTES, actual: salt.length },
      });
    }
    return new SeedEngine(seed, salt);
  }

  /** HKDF-SHA256 with the engine's salt; the output is as long as the input secret. */
  #derive(secret: Uint8Array, info: string): Uint8Array {
    return new Uint8Array(hkdfSync("sha256", secret, this.#salt, info, secret.length));
  }

  get salt(): Uint8Array {
    return new Uint8Array(this.#salt);
  }

  get podStateSeed(): Uint8Array {
    return new Uint8Array(this.#podStateSeed);
  }

  /** Derived as upstream does, but used by nothing in v1.5; exposed so its test vector can be checked. */
  get historySeed(): Uint8Array {
    return new Uint8Array(this.#historySeed);
  }

  get transactionSigningSeed(): Uint8Array {
    return new Uint8Array(this.#transactionSigningSeed);
  }

  get rootCaSeed(): Uint8Array {
    return new Uint8Array(this.#rootCaSeed);
  }

  /**
   * The secret of every pod whose policy entry names `workloadSecretId`; as long as the seed, so
   * 64 bytes for a seed a Coordinator made.
   */
  workloadSecret(workloadSecretId: string): Uint8Array {
    if (workloadSecretId === "") {
      throw new MeshPkiError("WORKLOAD_SECRET_ID_EMPTY", "the workload secret ID is empty", {
        hint: "Set WorkloadSecretID in the manifest's policy entry, or request no workload secret.",
      });
    }
    let secret = this.#workloadSecrets.get(workloadSecretId);
    if (secret === undefined) {
      secret = this.#derive(this.#podStateSeed, `${SEED_LABELS.workloadSecretPrefix}${workloadSecretId}`);
      // IDs come from the manifest's policy entries, so this stays small; the bound is a backstop.
      if (this.#workloadSecrets.size >= MAX_REMEMBERED_WORKLOAD_SECRETS) this.#workloadSecrets.clear();
      this.#workloadSecrets.set(workloadSecretId, secret);
    }
    // A copy: callers own what they get (it goes into a response message).
    return new Uint8Array(secret);
  }

  /** The ECDSA P-384 key that signs `transitions/latest` in the history store. */
  get transactionSigningKey(): DeterministicEcKey {
    this.#transactionSigningKey ??= deriveEcdsaKey("P-384", this.#transactionSigningSeed);
    return this.#transactionSigningKey;
  }

  /** The ECDSA P-384 key of the root CA; stable across manifest updates and recoveries. */
  get rootCaKey(): DeterministicEcKey {
    this.#rootCaKey ??= deriveEcdsaKey("P-384", this.#rootCaSeed);
    return this.#rootCaKey;
  }
}
