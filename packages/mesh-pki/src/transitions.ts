import { type KeyObject, sign, verify } from "node:crypto";
import { bytesEqual, concatBytes, sha256, toHex, utf8 } from "@contrast/core";
import { verifyEcdsaDigest } from "./ecdsa-digest.js";
import { MeshPkiError } from "./errors.js";

const HASH_BYTES = 32;

/** The all-zero previous hash that marks the first transition of a history. */
export const ZERO_TRANSITION_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

/** One step of the manifest history: `transitions/<hash>` holds manifestHash ‖ previousHash. */
export interface Transition {
  readonly manifestHash: Uint8Array;
  readonly previousTransitionHash: Uint8Array;
}

function checkHash(value: Uint8Array, what: string): void {
  if (value.length !== HASH_BYTES) {
    throw new MeshPkiError("TRANSITION_MALFORMED", `${what} has ${value.length} bytes; expected ${HASH_BYTES}`, {
      hint: "Transition hashes and manifest hashes are SHA-256 digests.",
    });
  }
}

/** The 64 bytes stored under `transitions/<hash>`. */
export function encodeTransition(t: Transition): Uint8Array {
  checkHash(t.manifestHash, "the manifest hash");
  checkHash(t.previousTransitionHash, "the previous transition hash");
  return concatBytes(t.manifestHash, t.previousTransitionHash);
}

export function decodeTransition(bytes: Uint8Array): Transition {
  if (bytes.length !== 2 * HASH_BYTES) {
    throw new MeshPkiError("TRANSITION_MALFORMED", `a transition has ${bytes.length} bytes; expected 64`, {
      hint: "The history store entry is damaged.",
    });
  }
  return {
    manifestHash: bytes.slice(0, HASH_BYTES),
    previousTransitionHash: bytes.slice(HASH_BYTES),
  };
}

/** SHA-256(manifestHash ‖ previousTransitionHash): the transition's key in the history store. */
export function transitionHash(t: Transition): Uint8Array {
  return sha256(encodeTransition(t));
}

/**
 * Signs a transition with the transaction signing key. Upstream signs the raw 32-byte transition
 * hash as an ECDSA "digest"; since that hash is SHA-256 of the encoded transition, signing the
 * encoding with SHA-256 yields exactly that signature (ASN.1 DER), with OpenSSL doing the math.
 */
export function signTransition(t: Transition, transactionKey: KeyObject): Uint8Array {
  return new Uint8Array(sign("sha256", encodeTransition(t), { key: transactionKey, dsaEncoding: "der" }));
}

/** Checks a `transitions/latest` signature against the transaction signing public key. */
export function verifyTransitionSignature(
  t: Transition,
  signature: Uint8Array,
  transactionPublicKey: KeyObject,
): boolean {
  try {
    return verify("sha256", encodeTransition(t), { key: transactionPublicKey, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

/** Throws TRANSITION_SIGNATURE_INVALID unless the signature verifies (what proves a recovery seed). */
export function assertTransitionSignature(t: Transition, signature: Uint8Array, transactionPublicKey: KeyObject): void {
  if (!verifyTransitionSignature(t, signature, transactionPublicKey)) {
    throw new MeshPkiError("TRANSITION_SIGNATURE_INVALID", "the latest transition's signature does not verify", {
      kind: "crypto",
      hint: "The seed does not belong to this deployment, or the history store was tampered with.",
      details: { transitionHash: toHex(transitionHash(t)) },
    });
  }
}

export interface LatestTransition {
  readonly transitionHash: Uint8Array;
  readonly signature: Uint8Array;
}

/** `transitions/latest` = transition hash (32) ‖ DER signature. */
export function encodeLatestTransition(latest: LatestTransition): Uint8Array {
  checkHash(latest.transitionHash, "the transition hash");
  return concatBytes(latest.transitionHash, latest.signature);
}

export function decodeLatestTransition(bytes: Uint8Array): LatestTransition {
  if (bytes.length <= HASH_BYTES) {
    throw new MeshPkiError("TRANSITION_MALFORMED", `transitions/latest has ${bytes.length} bytes; too short`, {
      hint: "The history store entry is damaged.",
    });
  }
  return { transitionHash: bytes.slice(0, HASH_BYTES), signature: bytes.slice(HASH_BYTES) };
}

/**
 * Checks `transitions/latest` from its own bytes alone, as upstream's history does: the signature
 * must verify over the stored 32-byte transition hash with the transaction signing public key.
 * No transition or manifest is needed, so a peer or a recovery can trust the head of the history
 * before walking it.
 */
export function verifyLatestTransition(latest: LatestTransition, transactionPublicKey: KeyObject): boolean {
  return (
    latest.transitionHash.length === HASH_BYTES &&
    verifyEcdsaDigest(transactionPublicKey, latest.transitionHash, latest.signature)
  );
}

/** Throws TRANSITION_SIGNATURE_INVALID unless `transitions/latest` verifies (see verifyLatestTransition). */
export function assertLatestTransition(latest: LatestTransition, transactionPublicKey: KeyObject): void {
  if (!verifyLatestTransition(latest, transactionPublicKey)) {
    throw new MeshPkiError("TRANSITION_SIGNATURE_INVALID", "the latest transition's signature does not verify", {
      kind: "crypto",
      hint: "The seed does not belong to this deployment, or the history store was tampered with.",
      details: { transitionHash: toHex(latest.transitionHash) },
    });
  }
}

/** Checks that stored transition bytes really are the transition a hash names. */
export function transitionMatchesHash(t: Transition, hash: Uint8Array): boolean {
  return hash.length === HASH_BYTES && bytesEqual(transitionHash(t), hash);
}

/**
 * NEWER upstream (`contrast sign`): a workload owner authorises an update by signing
 * SHA-256(lower-case hex of the transition hash). The signature is ASN.1 DER ECDSA over that
 * digest, which is what signing the hex text with SHA-256 computes.
 */
export function signingHashText(t: Transition): Uint8Array {
  return utf8(toHex(transitionHash(t)));
}

export function signUpdate(t: Transition, workloadOwnerKey: KeyObject): Uint8Array {
  return new Uint8Array(sign("sha256", signingHashText(t), { key: workloadOwnerKey, dsaEncoding: "der" }));
}

export function verifyUpdateSignature(
  t: Transition,
  signature: Uint8Array,
  workloadOwnerPublicKey: KeyObject,
): boolean {
  try {
    return verify("sha256", signingHashText(t), { key: workloadOwnerPublicKey, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

/** The detached signed-update digest, SHA-256 over the hex text, for callers that need it. */
export function updateSigningHash(t: Transition): Uint8Array {
  return sha256(signingHashText(t));
}
