import { createECDH, createHmac, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { concatBytes, DerTag, encodeDer, fromHex, toHex, utf8 } from "@contrast/core";
import { derBitString, derExplicit, derInteger, derOid, derSequence } from "@contrast/x509";
import { MeshPkiError } from "./errors.js";

/** The NIST curves that c2sp.org/det-keygen covers, by their JOSE names. */
export type DetKeygenCurve = "P-224" | "P-256" | "P-384" | "P-521";

interface CurveParams {
  /** OpenSSL's name, for ECDH point multiplication. */
  readonly openssl: string;
  readonly oid: string;
  readonly order: bigint;
  readonly bits: number;
}

const CURVES: Readonly<Record<DetKeygenCurve, CurveParams>> = {
  "P-224": {
    openssl: "secp224r1",
    oid: "1.3.132.0.33",
    bits: 224,
    order: 0xffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3dn,
  },
  "P-256": {
    openssl: "prime256v1",
    oid: "1.2.840.10045.3.1.7",
    bits: 256,
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  "P-384": {
    openssl: "secp384r1",
    oid: "1.3.132.0.34",
    bits: 384,
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  "P-521": {
    openssl: "secp521r1",
    oid: "1.3.132.0.35",
    bits: 521,
    order:
      0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
};

/** The curve orders, exported so tests can check them against OpenSSL's explicit parameters. */
export function curveOrder(curve: DetKeygenCurve): bigint {
  return CURVES[curve].order;
}

export interface DeterministicEcKey {
  readonly curve: DetKeygenCurve;
  /** The private scalar, big-endian, left-padded to the byte length of the curve order. */
  readonly d: Uint8Array;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

function hmac(key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const ZERO = new Uint8Array([0x00]);
const ONE = new Uint8Array([0x01]);

/**
 * HMAC_DRBG with SHA-256 (SP 800-90A §10.1.2), reduced to what det-keygen needs: instantiate with
 * entropy ‖ personalization and no nonce, generate without additional input.
 */
class HmacDrbg {
  private k: Uint8Array = new Uint8Array(32);
  private v: Uint8Array = new Uint8Array(32).fill(0x01);

  constructor(seedMaterial: Uint8Array) {
    this.k = hmac(this.k, this.v, ZERO, seedMaterial);
    this.v = hmac(this.k, this.v);
    this.k = hmac(this.k, this.v, ONE, seedMaterial);
    this.v = hmac(this.k, this.v);
  }

  generate(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let filled = 0; filled < length; filled += 32) {
      this.v = hmac(this.k, this.v);
      out.set(this.v.subarray(0, Math.min(32, length - filled)), filled);
    }
    // The update without additional input that ends every generate call (steps 11.1-11.2).
    this.k = hmac(this.k, this.v, ZERO);
    this.v = hmac(this.k, this.v);
    return out;
  }
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

function toFixedBytes(value: bigint, length: number): Uint8Array {
  return fromHex(value.toString(16).padStart(length * 2, "0"));
}

/**
 * Derives an ECDSA key pair from a seed with the c2sp.org/det-keygen process (the algorithm of
 * filippo.io/keygen.ECDSA that Contrast uses for its root CA and transaction signing keys). The
 * output must never change: deployments recover their keys from seeds users already hold.
 */
export function deriveEcdsaKey(curve: DetKeygenCurve, seed: Uint8Array): DeterministicEcKey {
  const params = CURVES[curve] as CurveParams | undefined;
  if (params === undefined) {
    throw new MeshPkiError("DET_KEYGEN_UNSUPPORTED_CURVE", `unsupported curve ${JSON.stringify(curve)}`, {
      kind: "internal",
      hint: "Deterministic key generation supports P-224, P-256, P-384 and P-521.",
    });
  }
  if (seed.length < 16) {
    throw new MeshPkiError(
      "DET_KEYGEN_SEED_TOO_SHORT",
      `the key seed has ${seed.length} bytes; at least 16 are needed`,
      {
        hint: "Derive keys only from seeds of at least 128 bits.",
      },
    );
  }
  const byteLength = Math.ceil(params.bits / 8);
  const drbg = new HmacDrbg(concatBytes(seed, utf8(`det ECDSA key gen ${curve}`)));
  // bits2int: keep the leftmost `bits` bits of the DRBG output (only P-521 needs the shift).
  const excess = BigInt(byteLength * 8 - params.bits);
  const sample = () => toBigInt(drbg.generate(byteLength)) >> excess;
  let d = sample();
  // Only P-256 has a non-negligible chance of overflowing the order, so only it retries, once.
  if (d >= params.order && curve === "P-256") d = sample();
  if (d === 0n || d >= params.order) {
    throw new MeshPkiError("DET_KEYGEN_OUT_OF_RANGE", `the derived ${curve} scalar is out of range`, {
      kind: "crypto",
      hint: "This has negligible probability for a random seed; check the seed and report the case.",
    });
  }
  return keyFromScalar(curve, toFixedBytes(d, byteLength));
}

/** Builds the key objects for a private scalar on one of the det-keygen curves. */
export function keyFromScalar(curve: DetKeygenCurve, d: Uint8Array): DeterministicEcKey {
  const params = CURVES[curve];
  const ecdh = createECDH(params.openssl);
  ecdh.setPrivateKey(d);
  // SEC1 rather than JWK: Node's JWK import does not know P-224.
  const sec1 = derSequence(
    derInteger(1),
    encodeDer(DerTag.OCTET_STRING, d),
    derExplicit(0, derOid(params.oid)),
    derExplicit(1, derBitString(new Uint8Array(ecdh.getPublicKey()))),
  );
  const privateKey = createPrivateKey({ key: Buffer.from(sec1), format: "der", type: "sec1" });
  return { curve, d: new Uint8Array(d), privateKey, publicKey: createPublicKey(privateKey) };
}
