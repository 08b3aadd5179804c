import { constants, createPublicKey, type KeyObject, privateDecrypt, publicEncrypt } from "node:crypto";
import { isContrastError } from "@contrast/core";
import type { SeedShareDocument } from "@contrast/manifest";
import { MeshPkiError } from "./errors.js";
import { parseSeedShareOwnerPublicKeyHex, seedShareOwnerPublicKeyHex } from "./keys.js";
import { SALT_BYTES, type SeedAndSalt } from "./seed-engine.js";

/** The RSA-OAEP label of every seed share; part of the compatibility contract. */
export const SEED_SHARE_LABEL = "seedshare";

const OAEP = {
  padding: constants.RSA_PKCS1_OAEP_PADDING,
  // OpenSSL uses the OAEP hash for MGF1 too unless told otherwise: SHA-256 for both, as upstream.
  oaepHash: "sha256",
  oaepLabel: Buffer.from(SEED_SHARE_LABEL, "ascii"),
} as const;

/** Encrypts the seed for one owner (RSA-OAEP, SHA-256 and MGF1-SHA-256, label "seedshare"). */
export function encryptSeed(seed: Uint8Array, ownerPublicKey: KeyObject): Uint8Array {
  return new Uint8Array(publicEncrypt({ key: ownerPublicKey, ...OAEP }, seed));
}

/** Decrypts one share with the owner's private key. */
export function decryptSeed(encryptedSeed: Uint8Array, ownerPrivateKey: KeyObject): Uint8Array {
  try {
    return new Uint8Array(privateDecrypt({ key: ownerPrivateKey, ...OAEP }, encryptedSeed));
  } catch (cause) {
    throw new MeshPkiError("SEED_SHARE_DECRYPT_FAILED", "the seed share does not decrypt with this key", {
      kind: "crypto",
      cause,
      hint: "The share or the key is damaged, or the share was made for another key.",
    });
  }
}

/**
 * The SeedShareDocument the Coordinator returns on the first SetManifest: the seed encrypted for
 * every `SeedshareOwnerPubKeys` entry (hex PKCS#1), in manifest order, and the salt.
 */
export function createSeedShareDocument(secret: SeedAndSalt, ownerPublicKeysHex: readonly string[]): SeedShareDocument {
  const shares = ownerPublicKeysHex.map((hex, i) => {
    let key: KeyObject;
    try {
      key = parseSeedShareOwnerPublicKeyHex(hex);
    } catch (cause) {
      throw new MeshPkiError("SEED_SHARE_OWNER_KEY_INVALID", `SeedshareOwnerPubKeys[${i}] is not a usable RSA key`, {
        cause,
        hint:
          isContrastError(cause) && cause.hint
            ? cause.hint
            : "Put the hex PKCS#1 DER public key of seedshare-owner.pem in SeedshareOwnerPubKeys; `contrast manifest validate` checks it.",
        details: { index: i, reason: isContrastError(cause) ? cause.code : "unknown" },
      });
    }
    return { PublicKey: hex, EncryptedSeed: encryptSeed(secret.seed, key) };
  });
  return { SeedShares: shares, salt: new Uint8Array(secret.salt) };
}

/**
 * What `contrast recover` does with seed-shares.json: find the share made for this owner key (by
 * its hex PKCS#1 public key) and decrypt it. Returns the seed and the document's salt.
 */
export function recoverSeed(doc: SeedShareDocument, ownerPrivateKey: KeyObject): SeedAndSalt {
  const own = seedShareOwnerPublicKeyHex(createPublicKey(ownerPrivateKey));
  const share = doc.SeedShares.find((s) => s.PublicKey.toLowerCase() === own);
  if (share === undefined) {
    throw new MeshPkiError("SEED_SHARE_NO_MATCH", "no matching seed share found for this seed share owner key", {
      hint: "Use the seedshare-owner.pem whose public key is listed in the manifest's SeedshareOwnerPubKeys.",
      details: { publicKey: own },
    });
  }
  if (doc.salt.length !== SALT_BYTES) {
    throw new MeshPkiError("SALT_INVALID_LENGTH", `the salt has ${doc.salt.length} bytes; expected ${SALT_BYTES}`, {
      hint: "Use the seed-shares.json written when the manifest was first set, unmodified.",
    });
  }
  return { seed: decryptSeed(share.EncryptedSeed, ownerPrivateKey), salt: new Uint8Array(doc.salt) };
}
