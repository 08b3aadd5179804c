import type { KeyObject } from "node:crypto";
import { bytesEqual, sha256, toHex } from "@contrast/core";
import {
  assertLatestTransition,
  decodeLatestTransition,
  decodeTransition,
  encodeLatestTransition,
  encodeTransition,
  type LatestTransition,
  signTransition,
  type Transition,
  ZERO_TRANSITION_HASH,
} from "@contrast/mesh-pki";
import { CoordinatorError } from "../errors.js";
import type { HistoryStore } from "./store.js";

const LATEST_KEY = "transitions/latest";

/** One step of the history as GetManifests reports it. */
export interface HistoryEntry {
  readonly transitionHash: Uint8Array;
  readonly transition: Transition;
  readonly manifest: Uint8Array;
}

/**
 * The Coordinator's history on top of a HistoryStore, in upstream's layout: content-addressed
 * `manifests/<sha256>`, `policies/<sha256>` and `transitions/<sha256>` (manifest hash ‖ previous
 * transition hash), and `transitions/latest` = transition hash ‖ ECDSA signature by the
 * seed-derived transaction key, moved only by compare-and-swap. Every read re-hashes what it got,
 * so a damaged or substituted entry is an error, never a silent wrong answer.
 */
export class History {
  constructor(readonly store: HistoryStore) {}

  putManifest(manifest: Uint8Array): Promise<Uint8Array> {
    return this.#put("manifests", manifest);
  }

  getManifest(hash: Uint8Array): Promise<Uint8Array> {
    return this.#get("manifests", hash);
  }

  putPolicy(policy: Uint8Array): Promise<Uint8Array> {
    return this.#put("policies", policy);
  }

  getPolicy(hash: Uint8Array): Promise<Uint8Array> {
    return this.#get("policies", hash);
  }

  putTransition(t: Transition): Promise<Uint8Array> {
    return this.#put("transitions", encodeTransition(t));
  }

  async getTransition(hash: Uint8Array): Promise<Transition> {
    const bytes = await this.#get("transitions", hash);
    try {
      return decodeTransition(bytes);
    } catch (e) {
      throw corrupt(`transitions/${toHex(hash)} is not a transition`, e);
    }
  }

  /** Whether a latest transition exists (recovery mode after a restart); does not verify it. */
  async hasLatest(): Promise<boolean> {
    return (await this.store.get(LATEST_KEY)) !== undefined;
  }

  /** The latest transition without checking its signature: only for deciding on recovery. */
  async readLatestUnverified(): Promise<LatestTransition | undefined> {
    const bytes = await this.store.get(LATEST_KEY);
    if (bytes === undefined) return undefined;
    try {
      return decodeLatestTransition(bytes);
    } catch (e) {
      throw corrupt("transitions/latest is malformed", e);
    }
  }

  /**
   * The latest transition, its signature checked against the transaction key derived from the
   * seed: the proof that the seed (or the Coordinator holding it) wrote it.
   */
  async getLatest(transactionPublicKey: KeyObject): Promise<LatestTransition | undefined> {
    const latest = await this.readLatestUnverified();
    if (latest !== undefined) assertLatestTransition(latest, transactionPublicKey);
    return latest;
  }

  /**
   * Moves `transitions/latest` from `previous` (undefined: none yet) to a signed `next`. Fails with
   * HISTORY_CONCURRENT_UPDATE when another writer moved it first; the caller's state is then stale.
   */
  async setLatest(
    previous: LatestTransition | undefined,
    next: Transition,
    transactionKey: KeyObject,
  ): Promise<LatestTransition> {
    const hash = await this.putTransition(next);
    const latest: LatestTransition = { transitionHash: hash, signature: signTransition(next, transactionKey) };
    const swapped = await this.store.compareAndSwap(
      LATEST_KEY,
      previous === undefined ? undefined : encodeLatestTransition(previous),
      encodeLatestTransition(latest),
    );
    if (!swapped) {
      throw new CoordinatorError("HISTORY_CONCURRENT_UPDATE", "the history was updated concurrently", {
        hint: "Another Coordinator (or request) changed the manifest first. Fetch the current manifests and retry.",
      });
    }
    return latest;
  }

  /**
   * The history ending at `latestHash`, oldest first, every transition and manifest verified by
   * hash. A cycle or a chain longer than `maxLength` is corruption, not an endless walk.
   */
  async chain(latestHash: Uint8Array, maxLength = 100_000): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    let hash = latestHash;
    while (!bytesEqual(hash, ZERO_TRANSITION_HASH)) {
      if (entries.length >= maxLength) throw corrupt(`the history is longer than ${maxLength} transitions`);
      const transition = await this.getTransition(hash);
      entries.push({ transitionHash: hash, transition, manifest: await this.getManifest(transition.manifestHash) });
      hash = transition.previousTransitionHash;
    }
    return entries.reverse();
  }

  async #put(kind: string, value: Uint8Array): Promise<Uint8Array> {
    const hash = sha256(value);
    await this.store.set(`${kind}/${toHex(hash)}`, value);
    return hash;
  }

  async #get(kind: string, hash: Uint8Array): Promise<Uint8Array> {
    const key = `${kind}/${toHex(hash)}`;
    const value = await this.store.get(key);
    if (value === undefined) {
      throw new CoordinatorError("HISTORY_ENTRY_MISSING", `${key} is missing from the history store`, {
        hint: "The state volume (or the ConfigMaps) lost entries; restore them from a backup, or from manifests and policies saved from GetManifests.",
        details: { key },
      });
    }
    const actual = sha256(value);
    if (!bytesEqual(actual, hash)) {
      throw new CoordinatorError("HISTORY_HASH_MISMATCH", `${key} does not hash to its name (got ${toHex(actual)})`, {
        hint: "The history store was modified or damaged outside the Coordinator.",
        details: { key, actual: toHex(actual) },
      });
    }
    return value;
  }
}

function corrupt(message: string, cause?: unknown): CoordinatorError {
  return new CoordinatorError("HISTORY_CORRUPT", message, {
    hint: "The history store was modified or damaged outside the Coordinator.",
    ...(cause === undefined ? {} : { cause }),
  });
}
