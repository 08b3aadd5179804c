import type { KeyObject } from "node:crypto";
import { DerTag, fromBase64Url, readDerChildren, readDerExact } from "@contrast/core";

/**
 * ECDSA verification over a digest the caller already has. Upstream signs and checks
 * `transitions/latest` over the bare 32-byte transition hash (Go's ecdsa.VerifyASN1), and a
 * verifier holding only that hash cannot hand Node the message behind it: `crypto.verify` always
 * hashes its input first. So the verification equation is done here, on public values only
 * (timing does not matter), for the NIST curves with a = -3.
 */

export interface EcdsaCurve {
  readonly p: bigint;
  readonly n: bigint;
  readonly b: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
  readonly bits: number;
}

// FIPS 186-5 / SP 800-186 domain parameters; a test compares them with OpenSSL's explicit ones.
const CURVES: Readonly<Record<string, EcdsaCurve>> = {
  "P-256": {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    bits: 256,
  },
  "P-384": {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    bits: 384,
  },
  "P-521": {
    p: (1n << 521n) - 1n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    gy: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
    bits: 521,
  },
};

/** The domain parameters, exported so tests can hold them against OpenSSL's. */
export function ecdsaCurveParameters(curve: string): EcdsaCurve | undefined {
  return CURVES[curve];
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function invert(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

/** Jacobian coordinates; z = 0 is the point at infinity. */
interface Point {
  readonly x: bigint;
  readonly y: bigint;
  readonly z: bigint;
}

const INFINITY: Point = { x: 1n, y: 1n, z: 0n };

function double(c: EcdsaCurve, P: Point): Point {
  if (P.z === 0n || P.y === 0n) return INFINITY;
  const { p } = c;
  const delta = mod(P.z * P.z, p);
  const gamma = mod(P.y * P.y, p);
  const beta = mod(P.x * gamma, p);
  const alpha = mod(3n * (P.x - delta) * (P.x + delta), p);
  const x = mod(alpha * alpha - 8n * beta, p);
  const z = mod((P.y + P.z) ** 2n - gamma - delta, p);
  const y = mod(alpha * (4n * beta - x) - 8n * gamma * gamma, p);
  return { x, y, z };
}

function add(c: EcdsaCurve, P: Point, Q: Point): Point {
  if (P.z === 0n) return Q;
  if (Q.z === 0n) return P;
  const { p } = c;
  const z1z1 = mod(P.z * P.z, p);
  const z2z2 = mod(Q.z * Q.z, p);
  const u1 = mod(P.x * z2z2, p);
  const u2 = mod(Q.x * z1z1, p);
  const s1 = mod(P.y * Q.z * z2z2, p);
  const s2 = mod(Q.y * P.z * z1z1, p);
  if (u1 === u2) return s1 === s2 ? double(c, P) : INFINITY;
  const h = mod(u2 - u1, p);
  const i = mod(4n * h * h, p);
  const j = mod(h * i, p);
  const r = mod(2n * (s2 - s1), p);
  const v = mod(u1 * i, p);
  const x = mod(r * r - j - 2n * v, p);
  const y = mod(r * (v - x) - 2n * s1 * j, p);
  const z = mod(((P.z + Q.z) ** 2n - z1z1 - z2z2) * h, p);
  return { x, y, z };
}

/** u1·G + u2·Q in one pass (Shamir's trick). */
function twoMultiply(c: EcdsaCurve, u1: bigint, G: Point, u2: bigint, Q: Point): Point {
  const GQ = add(c, G, Q);
  let R = INFINITY;
  const top = Math.max(u1.toString(2).length, u2.toString(2).length);
  for (let i = BigInt(top - 1); i >= 0n; i--) {
    R = double(c, R);
    const a = (u1 >> i) & 1n;
    const b = (u2 >> i) & 1n;
    if (a === 1n && b === 1n) R = add(c, R, GQ);
    else if (a === 1n) R = add(c, R, G);
    else if (b === 1n) R = add(c, R, Q);
  }
  return R;
}

function toBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** A positive, minimally encoded DER INTEGER, as Go's cryptobyte reader demands. */
function positiveInteger(value: Uint8Array): bigint | undefined {
  if (value.length === 0 || ((value[0] as number) & 0x80) !== 0) return undefined;
  if (value.length > 1 && value[0] === 0 && ((value[1] as number) & 0x80) === 0) return undefined;
  const v = toBigInt(value);
  return v === 0n ? undefined : v;
}

/** Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, nothing before or after. */
function parseSignature(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  try {
    const fields = readDerChildren(readDerExact(der, DerTag.SEQUENCE));
    const [r, s] = fields;
    if (fields.length !== 2 || r?.tag !== DerTag.INTEGER || s?.tag !== DerTag.INTEGER) return undefined;
    const rv = positiveInteger(r.value);
    const sv = positiveInteger(s.value);
    return rv === undefined || sv === undefined ? undefined : { r: rv, s: sv };
  } catch {
    return undefined;
  }
}

/** SEC 1 / FIPS 186-5 bits2int: the digest's leftmost bits, as many as the order has. */
function digestToInt(c: EcdsaCurve, digest: Uint8Array): bigint {
  const orderBytes = Math.ceil(c.bits / 8);
  const taken = digest.length > orderBytes ? digest.subarray(0, orderBytes) : digest;
  const excess = taken.length * 8 - c.bits;
  const e = toBigInt(taken);
  return excess > 0 ? e >> BigInt(excess) : e;
}

function publicPoint(key: KeyObject): { curve: EcdsaCurve; Q: Point } | undefined {
  if (key.asymmetricKeyType !== "ec") return undefined;
  const jwk = key.export({ format: "jwk" });
  const curve = jwk.crv === undefined ? undefined : CURVES[jwk.crv];
  if (curve === undefined || jwk.x === undefined || jwk.y === undefined) return undefined;
  const x = toBigInt(fromBase64Url(jwk.x));
  const y = toBigInt(fromBase64Url(jwk.y));
  // y² = x³ - 3x + b: never trust that a point handed in lies on the curve.
  if (x >= curve.p || y >= curve.p || mod(y * y - (x * x * x - 3n * x + curve.b), curve.p) !== 0n) return undefined;
  return { curve, Q: { x, y, z: 1n } };
}

/**
 * Checks an ASN.1 DER ECDSA signature over `digest` as given (no further hashing), exactly as
 * Go's ecdsa.VerifyASN1 does. Any malformed input yields false.
 */
export function verifyEcdsaDigest(publicKey: KeyObject, digest: Uint8Array, derSignature: Uint8Array): boolean {
  const key = publicPoint(publicKey);
  const sig = parseSignature(derSignature);
  if (key === undefined || sig === undefined) return false;
  const { curve: c, Q } = key;
  if (sig.r >= c.n || sig.s >= c.n) return false;
  const w = invert(sig.s, c.n);
  const e = digestToInt(c, digest);
  const R = twoMultiply(c, mod(e * w, c.n), { x: c.gx, y: c.gy, z: 1n }, mod(sig.r * w, c.n), Q);
  if (R.z === 0n) return false;
  const zInv = invert(R.z, c.p);
  const x = mod(R.x * zInv * zInv, c.p);
  return mod(x, c.n) === sig.r;
}
