import { createPublicKey, type KeyObject, type PublicKeyInput } from "node:crypto";
import {
  DerTag,
  decodeOid,
  fromBase64Url,
  isContrastError,
  readDerChildren,
  readDerExact,
  toHex,
} from "@contrast/core";
import { derBitString, derOid, derSequence } from "./der-writer.js";
import { X509Error } from "./errors.js";

// Exporting a KeyObject as SPKI goes through OpenSSL's encoder framework and costs about as much
// as a third of a P-384 signature; parsing one back costs as much again. Mesh certificates are
// issued for every starting pod (mesh-pki), so the common case (a NIST EC key) is handled here directly:
// the point is read through JWK (cheap) or checked against the curve equation in the SPKI bytes.

const EC_PUBLIC_KEY = "1.2.840.10045.2.1";

interface WeierstrassCurve {
  readonly oid: string;
  readonly jwk: string;
  readonly openssl: string;
  readonly p: bigint;
  readonly b: bigint;
  readonly bytes: number;
}

/** NIST prime curves (a = -3); `p` and `b` are checked against OpenSSL in the tests. */
export const NIST_CURVES: readonly WeierstrassCurve[] = [
  {
    oid: "1.2.840.10045.3.1.7",
    jwk: "P-256",
    openssl: "prime256v1",
    bytes: 32,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  {
    oid: "1.3.132.0.34",
    jwk: "P-384",
    openssl: "secp384r1",
    bytes: 48,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  {
    oid: "1.3.132.0.35",
    jwk: "P-521",
    openssl: "secp521r1",
    bytes: 66,
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
];

const BY_OID = new Map(NIST_CURVES.map((c) => [c.oid, c]));
const BY_OPENSSL_NAME = new Map(NIST_CURVES.map((c) => [c.openssl, c]));

function big(bytes: Uint8Array): bigint {
  return BigInt(`0x${toHex(bytes) || "0"}`);
}

function onCurve(curve: WeierstrassCurve, point: Uint8Array): boolean {
  if (point.length !== 1 + 2 * curve.bytes || point[0] !== 0x04) return false;
  const x = big(point.subarray(1, 1 + curve.bytes));
  const y = big(point.subarray(1 + curve.bytes));
  const { p, b } = curve;
  if (x >= p || y >= p) return false;
  return (y * y - (x * x * x - 3n * x + b)) % p === 0n;
}

function ecSpki(curve: WeierstrassCurve, point: Uint8Array): Uint8Array {
  return derSequence(derSequence(derOid(EC_PUBLIC_KEY), derOid(curve.oid)), derBitString(point));
}

function slowSpki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: "spki", format: "der" }));
}

/** The SubjectPublicKeyInfo DER of a key object's public half. */
export function spkiOfKey(key: KeyObject): Uint8Array {
  const curve =
    key.asymmetricKeyType === "ec" ? BY_OPENSSL_NAME.get(key.asymmetricKeyDetails?.namedCurve ?? "") : undefined;
  if (curve) {
    // From the public half only, so the private scalar is never copied into a JS string.
    const jwk = (key.type === "private" ? createPublicKey(key) : key).export({ format: "jwk" });
    if (jwk.crv === curve.jwk && jwk.x && jwk.y) {
      const x = fromBase64Url(jwk.x);
      const y = fromBase64Url(jwk.y);
      const point = new Uint8Array(1 + 2 * curve.bytes);
      point[0] = 0x04;
      point.set(x, 1 + curve.bytes - x.length);
      point.set(y, 1 + 2 * curve.bytes - y.length);
      return ecSpki(curve, point);
    }
  }
  return slowSpki(key.type === "private" ? createPublicKey(key) : key);
}

function malformed(cause?: unknown): X509Error {
  return new X509Error("X509_PUBLIC_KEY_MALFORMED", "public key: not a valid PKIX SubjectPublicKeyInfo", {
    cause,
    hint: "Pass the public key as SubjectPublicKeyInfo DER or a KeyObject.",
  });
}

/**
 * Checks SubjectPublicKeyInfo DER and returns it unchanged: strict DER, and for NIST EC keys an
 * uncompressed point on the named curve. Other key types are checked by OpenSSL.
 */
export function checkedSpki(der: Uint8Array): Uint8Array {
  try {
    const [alg, bits] = readDerChildren(readDerExact(der, DerTag.SEQUENCE));
    if (alg?.tag !== DerTag.SEQUENCE || bits?.tag !== DerTag.BIT_STRING) throw malformed();
    const [oid, params] = readDerChildren(alg);
    if (oid?.tag !== DerTag.OID) throw malformed();
    if (decodeOid(oid.value) === EC_PUBLIC_KEY && params?.tag === DerTag.OID) {
      const curve = BY_OID.get(decodeOid(params.value));
      if (curve) {
        if (bits.value[0] !== 0 || !onCurve(curve, bits.value.subarray(1))) throw malformed();
        return new Uint8Array(der);
      }
    }
  } catch (cause) {
    throw isContrastError(cause, "X509_PUBLIC_KEY_MALFORMED") ? cause : malformed(cause);
  }
  const input: PublicKeyInput = { key: Buffer.from(der), format: "der", type: "spki" };
  try {
    return slowSpki(createPublicKey(input));
  } catch (cause) {
    throw malformed(cause);
  }
}
