import { createHash } from "node:crypto";
import { EvidenceError } from "../errors.js";
import type { SnpGuestPolicyBits } from "./report.js";

/**
 * Contrast's deterministic SEV-SNP ID block. Every guest is launched with an ID block whose ID
 * key is recovered from a constant signature (r = 2, s = 1), so that a verifier can recompute
 * ID_KEY_DIGEST from the expected launch digest and guest policy alone, with no key to keep
 * secret. The firmware refuses to launch a guest whose measurement or policy differ from the
 * ID block, so a matching ID_KEY_DIGEST proves both. Layouts: AMD SEV-SNP firmware ABI
 * (56860), "ID Block Structure", "ID Authentication Information Structure" and "ECDSA Public
 * Key Format".
 */

// NIST P-384 (FIPS 186-4, D.1.2.4). a = -3.
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn;
const N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
const B = 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn;
const GX = 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n;
const GY = 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn;

export interface P384Point {
  x: bigint;
  y: bigint;
}

const mod = (a: bigint, m: bigint) => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

function powMod(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Inverse modulo a prime, by Fermat; callers never pass 0. */
const invMod = (a: bigint, m: bigint) => powMod(a, m - 2n, m);

// Jacobian coordinates (X, Y, Z) with x = X/Z², y = Y/Z³; Z = 0 is the point at infinity. Keeps
// the scalar multiplication to one inversion instead of one per step.
type Jacobian = [bigint, bigint, bigint];
const INFINITY: Jacobian = [1n, 1n, 0n];

function double([x, y, z]: Jacobian): Jacobian {
  if (z === 0n || y === 0n) return INFINITY;
  const yy = (y * y) % P;
  const s = (4n * x * yy) % P;
  const zz = (z * z) % P;
  const m = mod(3n * (x - zz) * (x + zz), P); // a = -3
  const x3 = mod(m * m - 2n * s, P);
  const y3 = mod(m * (s - x3) - 8n * yy * yy, P);
  const z3 = (2n * y * z) % P;
  return [x3, y3, z3];
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p[2] === 0n) return q;
  if (q[2] === 0n) return p;
  const z1z1 = (p[2] * p[2]) % P;
  const z2z2 = (q[2] * q[2]) % P;
  const u1 = (p[0] * z2z2) % P;
  const u2 = (q[0] * z1z1) % P;
  const s1 = (p[1] * q[2] * z2z2) % P;
  const s2 = (q[1] * p[2] * z1z1) % P;
  if (u1 === u2) return s1 === s2 ? double(p) : INFINITY;
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const hh = (h * h) % P;
  const hhh = (h * hh) % P;
  const v = (u1 * hh) % P;
  const x3 = mod(r * r - hhh - 2n * v, P);
  const y3 = mod(r * (v - x3) - s1 * hhh, P);
  const z3 = (p[2] * q[2] * h) % P;
  return [x3, y3, z3];
}

function multiply(k: bigint, point: P384Point): Jacobian {
  let acc = INFINITY;
  const base: Jacobian = [point.x, point.y, 1n];
  for (let i = BigInt(k.toString(2).length - 1); i >= 0n; i--) {
    acc = double(acc);
    if ((k >> i) & 1n) acc = add(acc, base);
  }
  return acc;
}

function toAffine([x, y, z]: Jacobian): P384Point | undefined {
  if (z === 0n) return undefined;
  const zi = invMod(z, P);
  const zi2 = (zi * zi) % P;
  return { x: (x * zi2) % P, y: (y * zi2 * zi) % P };
}

export function isOnP384(pt: P384Point): boolean {
  if (pt.x < 0n || pt.x >= P || pt.y < 0n || pt.y >= P) return false;
  return mod(pt.y * pt.y - (pt.x * pt.x * pt.x - 3n * pt.x + B), P) === 0n;
}

const bigFromBytes = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString("hex")}`));

/**
 * SEC 1 v2 §4.1.6 public-key recovery for P-384 with SHA-384, for r < p (so the x-coordinate of
 * R is r itself; the j = 1 candidate, r + n, exceeds p for P-384 only when r < p - n, and
 * Contrast's constant r = 2 never needs it). Returns both candidates sorted by (x, then y), the
 * order in which Contrast takes the first.
 */
export function recoverP384PublicKeys(r: bigint, s: bigint, digest: Uint8Array): P384Point[] {
  if (r <= 0n || r >= N || s <= 0n || s >= N) {
    throw new EvidenceError("SNP_ID_KEY_RECOVERY_FAILED", "ECDSA r and s must lie in [1, n-1]", {
      kind: "input",
      hint: "The ID block signature is not a valid P-384 signature.",
    });
  }
  const rx = r;
  const alpha = mod(rx * rx * rx - 3n * rx + B, P);
  const beta = powMod(alpha, (P + 1n) / 4n, P); // p ≡ 3 (mod 4)
  if ((beta * beta) % P !== alpha) {
    throw new EvidenceError("SNP_ID_KEY_RECOVERY_FAILED", "r is not the x-coordinate of a P-384 point", {
      kind: "input",
      hint: "Choose an r for which x³ - 3x + b is a square modulo p.",
    });
  }
  const z = mod(bigFromBytes(digest), N); // 384-bit digest, 384-bit order: no truncation
  const rInv = invMod(r, N);
  const u1 = mod(-z * rInv, N);
  const u2 = (s * rInv) % N;
  const keys: P384Point[] = [];
  for (const y of [beta, P - beta]) {
    const sum = add(multiply(u1, { x: GX, y: GY }), multiply(u2, { x: rx, y }));
    const q = toAffine(sum);
    if (q !== undefined) keys.push(q);
  }
  return keys.sort((a, b) => (a.x !== b.x ? (a.x < b.x ? -1 : 1) : a.y < b.y ? -1 : a.y > b.y ? 1 : 0));
}

/** Encodes guest policy bits as the 64-bit POLICY field, with the must-be-one bit 17 set. */
export function encodeGuestPolicy(p: SnpGuestPolicyBits): bigint {
  const flag = (on: boolean, bit: bigint) => (on ? 1n << bit : 0n);
  if (!Number.isInteger(p.abiMinor) || p.abiMinor < 0 || p.abiMinor > 255)
    throw new RangeError("abiMinor must be a byte");
  if (!Number.isInteger(p.abiMajor) || p.abiMajor < 0 || p.abiMajor > 255)
    throw new RangeError("abiMajor must be a byte");
  return (
    BigInt(p.abiMinor) |
    (BigInt(p.abiMajor) << 8n) |
    flag(p.smt, 16n) |
    (1n << 17n) |
    flag(p.migrateMa, 18n) |
    flag(p.debug, 19n) |
    flag(p.singleSocket, 20n) |
    flag(p.cxlAllowed, 21n) |
    flag(p.memAes256Xts, 22n) |
    flag(p.raplDis, 23n) |
    flag(p.ciphertextHidingDram, 24n) |
    flag(p.pageSwapDisable, 25n)
  );
}

export const SNP_ID_BLOCK_SIZE = 0x60;
export const SNP_ID_AUTH_SIZE = 0x1000;
export const SNP_PUBLIC_KEY_SIZE = 0x404;

export interface SnpIdBlockFields {
  /** The expected launch digest (48 bytes). */
  launchDigest: Uint8Array;
  /** The full 64-bit POLICY value the guest is launched with. */
  policy: bigint;
  /** 16 bytes each; Contrast v1.5 leaves both zero. */
  familyId?: Uint8Array;
  imageId?: Uint8Array;
  /** Contrast uses 2, the IGVM tooling's default. */
  guestSvn?: number;
}

function fixed(name: string, b: Uint8Array | undefined, size: number): Uint8Array {
  const out = b ?? new Uint8Array(size);
  if (out.length !== size) throw new RangeError(`${name} must be ${size} bytes, got ${out.length}`);
  return out;
}

/** The 0x60-byte ID block (all integers little-endian). */
export function snpIdBlock(f: SnpIdBlockFields): Uint8Array {
  const b = new Uint8Array(SNP_ID_BLOCK_SIZE);
  const v = new DataView(b.buffer);
  b.set(fixed("launchDigest", f.launchDigest, 48), 0x00);
  b.set(fixed("familyId", f.familyId, 16), 0x30);
  b.set(fixed("imageId", f.imageId, 16), 0x40);
  v.setUint32(0x50, 1, true); // VERSION: 1 for this ABI
  v.setUint32(0x54, f.guestSvn ?? 2, true);
  v.setBigUint64(0x58, f.policy, true);
  return b;
}

/** Writes a number little-endian into a 72-byte (0x48) field, as AMD's structures hold them. */
function le72(n: bigint): Uint8Array {
  const out = new Uint8Array(0x48);
  let x = n;
  for (let i = 0; i < 48; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** The 0x404-byte "ECDSA public key" structure: curve 2 (P-384), Qx and Qy little-endian. */
export function amdEcdsaPublicKey(q: P384Point): Uint8Array {
  const b = new Uint8Array(SNP_PUBLIC_KEY_SIZE);
  new DataView(b.buffer).setUint32(0, 2, true);
  b.set(le72(q.x), 0x04);
  b.set(le72(q.y), 0x4c);
  return b;
}

/** The 0x200-byte signature structure: r and s little-endian in 72-byte fields. */
function amdEcdsaSignature(r: bigint, s: bigint): Uint8Array {
  const b = new Uint8Array(0x200);
  b.set(le72(r), 0);
  b.set(le72(s), 0x48);
  return b;
}

export interface ContrastIdBlock {
  idBlock: Uint8Array;
  /** The 0x1000-byte ID authentication information structure handed to the firmware. */
  idAuth: Uint8Array;
  /** The recovered ID key (the first of the two candidates in (x, y) order). */
  idKey: P384Point;
  /** SHA-384 of the AMD public-key structure: the report's ID_KEY_DIGEST. */
  idKeyDigest: Uint8Array;
}

/** Contrast's constant ID block signature. r = 2 is a valid x-coordinate; any s works. */
export const CONTRAST_ID_SIGNATURE = { r: 2n, s: 1n } as const;

const sha384 = (b: Uint8Array) => new Uint8Array(createHash("sha384").update(b).digest());

/**
 * Derives Contrast's ID block, ID authentication structure and ID key digest for a launch
 * digest and guest policy.
 */
export function contrastIdBlock(f: SnpIdBlockFields): ContrastIdBlock {
  const idBlock = snpIdBlock(f);
  // The key recovery is bigint arithmetic (tens of milliseconds), and a Coordinator validates or
  // a simulated TEE issues the same few launch digests over and over: remember recent results.
  const key = Buffer.from(idBlock).toString("hex");
  let derived = ID_BLOCK_CACHE.get(key);
  if (derived === undefined) {
    derived = deriveIdAuth(idBlock);
    if (ID_BLOCK_CACHE.size >= ID_BLOCK_CACHE_SIZE) {
      const oldest = ID_BLOCK_CACHE.keys().next().value;
      if (oldest !== undefined) ID_BLOCK_CACHE.delete(oldest);
    }
    ID_BLOCK_CACHE.set(key, derived);
  }
  // Copies, so that a caller changing its result cannot change another's.
  return {
    idBlock,
    idAuth: new Uint8Array(derived.idAuth),
    idKey: { ...derived.idKey },
    idKeyDigest: new Uint8Array(derived.idKeyDigest),
  };
}

const ID_BLOCK_CACHE_SIZE = 64;
const ID_BLOCK_CACHE = new Map<string, Omit<ContrastIdBlock, "idBlock">>();

function deriveIdAuth(idBlock: Uint8Array): Omit<ContrastIdBlock, "idBlock"> {
  const { r, s } = CONTRAST_ID_SIGNATURE;
  const [idKey] = recoverP384PublicKeys(r, s, sha384(idBlock));
  if (idKey === undefined) throw new Error("P-384 recovery with r = 2 yields two keys"); // unreachable
  const publicKey = amdEcdsaPublicKey(idKey);
  const idAuth = new Uint8Array(SNP_ID_AUTH_SIZE);
  const v = new DataView(idAuth.buffer);
  v.setUint32(0x00, 1, true); // ID_KEY_ALGO: ECDSA P-384 with SHA-384
  v.setUint32(0x04, 1, true); // AUTH_KEY_ALGO; ignored while AUTHOR_KEY_EN is 0
  idAuth.set(amdEcdsaSignature(r, s), 0x40);
  idAuth.set(publicKey, 0x240);
  return { idAuth, idKey, idKeyDigest: sha384(publicKey) };
}
