import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  type PrivateKeyInput,
  type PublicKeyInput,
} from "node:crypto";
import { decodePemBlock, encodePem, fromHex, isContrastError, sha256Hex, toHex } from "@contrast/core";
import { spkiOfKey } from "@contrast/x509";
import { deriveEcdsaKey } from "./det-keygen.js";
import { MeshPkiError } from "./errors.js";
import { drawRandom, type RandomSource } from "./random.js";

/** PEM types upstream writes and reads; part of the file-format contract. */
export const PEM_TYPES = {
  ecPrivateKey: "EC PRIVATE KEY",
  rsaPrivateKey: "RSA PRIVATE KEY",
  publicKey: "PUBLIC KEY",
  certificate: "CERTIFICATE",
} as const;

/** Default file names in a contrast workspace. */
export const WORKLOAD_OWNER_KEY_FILE = "workload-owner.pem";
export const SEEDSHARE_OWNER_KEY_FILE = "seedshare-owner.pem";

/** Contrast generates RSA-4096 seed share owner keys; smaller than this we refuse outright. */
export const MIN_RSA_BITS = 2048;
export const SEEDSHARE_OWNER_RSA_BITS = 4096;

const EC_CURVES = new Set(["prime256v1", "secp384r1", "secp521r1"]);

function readPem(pem: string | Uint8Array, type: string, role: string): Uint8Array {
  const text = typeof pem === "string" ? pem : Buffer.from(pem).toString("utf8");
  try {
    return decodePemBlock(text, type).der;
  } catch (cause) {
    if (isContrastError(cause, "PEM_WRONG_TYPE")) {
      throw new MeshPkiError("KEY_WRONG_TYPE", `${role}: ${cause.message}`, {
        cause,
        hint: `The ${role} must be a PEM "${type}" block; check that the right file was passed.`,
        details: cause.details ?? {},
      });
    }
    throw new MeshPkiError("KEY_MALFORMED", `${role}: ${(cause as Error).message}`, {
      cause,
      hint: `The ${role} file is damaged or not PEM; re-export it as "${type}".`,
    });
  }
}

function parseWith<T>(role: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    throw new MeshPkiError("KEY_MALFORMED", `${role}: the key does not parse`, {
      cause,
      hint: "The key file is damaged or holds a different kind of key.",
    });
  }
}

function requireEc(key: KeyObject, role: string): KeyObject {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || curve === undefined || !EC_CURVES.has(curve)) {
    throw new MeshPkiError(
      "KEY_WRONG_TYPE",
      `${role}: expected an ECDSA key on a NIST curve, got ${key.asymmetricKeyType ?? "unknown"}${curve ? ` ${curve}` : ""}`,
      {
        hint: `Use an ECDSA P-384 key for the ${role} (\`openssl ecparam -name secp384r1 -genkey -noout\` creates one).`,
      },
    );
  }
  return key;
}

function requireRsa(key: KeyObject, role: string): KeyObject {
  if (key.asymmetricKeyType !== "rsa") {
    throw new MeshPkiError(
      "KEY_WRONG_TYPE",
      `${role}: expected an RSA key, got ${key.asymmetricKeyType ?? "unknown"}`,
      {
        hint: `Use an RSA-${SEEDSHARE_OWNER_RSA_BITS} key for the ${role} (\`openssl genrsa -traditional ${SEEDSHARE_OWNER_RSA_BITS}\` creates one).`,
      },
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new MeshPkiError(
      "KEY_TOO_SMALL",
      `${role}: the RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are needed`,
      {
        hint: `Generate a new RSA-${SEEDSHARE_OWNER_RSA_BITS} key.`,
        details: { bits, minimum: MIN_RSA_BITS },
      },
    );
  }
  return key;
}

/** Reads `workload-owner.pem`: an ECDSA private key as PEM "EC PRIVATE KEY" (SEC1). */
export function parseWorkloadOwnerKey(pem: string | Uint8Array): KeyObject {
  return parseEcPrivateKey(pem, "workload owner key");
}

/** Reads a SEC1 "EC PRIVATE KEY" (also the mesh CA key that peer Coordinators exchange). */
export function parseEcPrivateKey(pem: string | Uint8Array, role = "EC private key"): KeyObject {
  const der = readPem(pem, PEM_TYPES.ecPrivateKey, role);
  const input: PrivateKeyInput = { key: Buffer.from(der), format: "der", type: "sec1" };
  return requireEc(
    parseWith(role, () => createPrivateKey(input)),
    role,
  );
}

/** Writes an ECDSA private key as PEM "EC PRIVATE KEY" (SEC1, with curve and public key). */
export function encodeEcPrivateKey(key: KeyObject): string {
  requireEc(key, "EC private key");
  if (key.type !== "private") {
    throw new MeshPkiError("KEY_WRONG_TYPE", "EC private key: got a public key", {
      hint: "Pass the private key.",
    });
  }
  return encodePem(PEM_TYPES.ecPrivateKey, new Uint8Array(key.export({ type: "sec1", format: "der" })));
}

/** Reads `seedshare-owner.pem`: an RSA private key as PEM "RSA PRIVATE KEY" (PKCS#1). */
export function parseSeedShareOwnerKey(pem: string | Uint8Array): KeyObject {
  const role = "seed share owner key";
  const der = readPem(pem, PEM_TYPES.rsaPrivateKey, role);
  const input: PrivateKeyInput = { key: Buffer.from(der), format: "der", type: "pkcs1" };
  return requireRsa(
    parseWith(role, () => createPrivateKey(input)),
    role,
  );
}

/** Writes an RSA private key as PEM "RSA PRIVATE KEY" (PKCS#1). */
export function encodeSeedShareOwnerKey(key: KeyObject): string {
  requireRsa(key, "seed share owner key");
  if (key.type !== "private") {
    throw new MeshPkiError("KEY_WRONG_TYPE", "seed share owner key: got a public key", {
      hint: "Pass the private key.",
    });
  }
  return encodePem(PEM_TYPES.rsaPrivateKey, new Uint8Array(key.export({ type: "pkcs1", format: "der" })));
}

/** Reads a PKIX "PUBLIC KEY" PEM block. */
export function parsePublicKey(pem: string | Uint8Array): KeyObject {
  const der = readPem(pem, PEM_TYPES.publicKey, "public key");
  const input: PublicKeyInput = { key: Buffer.from(der), format: "der", type: "spki" };
  return parseWith("public key", () => createPublicKey(input));
}

/** The PKIX (SubjectPublicKeyInfo) DER of a public or private key's public half. */
export function publicKeyDer(key: KeyObject): Uint8Array {
  return spkiOfKey(key);
}

/** Writes the public half of a key as PEM "PUBLIC KEY" (PKIX). */
export function encodePublicKey(key: KeyObject): string {
  return encodePem(PEM_TYPES.publicKey, publicKeyDer(key));
}

/**
 * The manifest's `WorkloadOwnerKeyDigests` entry for a key: SHA-256 (hex) of its PKIX DER public
 * key.
 */
export function workloadOwnerKeyDigest(key: KeyObject): string {
  return sha256Hex(publicKeyDer(requireEc(key, "workload owner key")));
}

/** The manifest's `SeedshareOwnerPubKeys` entry for a key: hex of its PKCS#1 DER public key. */
export function seedShareOwnerPublicKeyHex(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  requireRsa(pub, "seed share owner key");
  return toHex(new Uint8Array(pub.export({ type: "pkcs1", format: "der" })));
}

/** Parses a `SeedshareOwnerPubKeys` entry (hex PKCS#1 DER RSA public key). */
export function parseSeedShareOwnerPublicKeyHex(hex: string): KeyObject {
  const role = "seed share owner public key";
  let der: Uint8Array;
  try {
    der = fromHex(hex);
  } catch (cause) {
    throw new MeshPkiError("KEY_MALFORMED", `${role}: not hex`, {
      cause,
      hint: "SeedshareOwnerPubKeys entries are hex PKCS#1 DER RSA public keys.",
    });
  }
  const input: PublicKeyInput = { key: Buffer.from(der), format: "der", type: "pkcs1" };
  return requireRsa(
    parseWith(role, () => createPublicKey(input)),
    role,
  );
}

/**
 * A new workload owner key (ECDSA P-384). Drawn through det-keygen from injected randomness, so
 * a test can pin it and production passes `cryptoRandom`.
 */
export function generateWorkloadOwnerKey(random: RandomSource): KeyObject {
  return deriveEcdsaKey("P-384", drawRandom(random, 64)).privateKey;
}

/**
 * A new RSA-4096 seed share owner key. Node's RSA key generation cannot take our randomness, so
 * this one uses OpenSSL's CSPRNG directly.
 */
export function generateSeedShareOwnerKey(bits = SEEDSHARE_OWNER_RSA_BITS): Promise<KeyObject> {
  if (bits < MIN_RSA_BITS) {
    return Promise.reject(
      new MeshPkiError("KEY_TOO_SMALL", `RSA keys need at least ${MIN_RSA_BITS} bits, not ${bits}`, {
        hint: `Use ${SEEDSHARE_OWNER_RSA_BITS} bits.`,
      }),
    );
  }
  return new Promise((resolve, reject) => {
    generateKeyPair("rsa", { modulusLength: bits, publicExponent: 65537 }, (err, _pub, priv) =>
      err ? reject(err) : resolve(priv),
    );
  });
}
