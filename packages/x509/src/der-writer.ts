import { DerTag, encodeDer, encodeOid, utf8 } from "@contrast/core";

// Small DER constructors for the certificate and CRL fields we write. Reading DER stays in core
// (readDer and friends), so that every parser shares one bounds check.
//
// Each constructor writes its header and its parts into one new array: a Coordinator builds a
// leaf of ~60 nested elements per mesh certificate, and concatenating the parts first and then
// copying them again behind the header (core's encodeDer) doubled the copies and allocations.

/** Bytes of the identifier and length octets for `length` content bytes (definite form). */
function headerLength(length: number): number {
  if (length < 0x80) return 2;
  let n = 0;
  for (let l = length; l > 0; l = Math.floor(l / 256)) n++;
  return 2 + n;
}

/** Writes the identifier and length octets at the start of `out`; returns where the content goes. */
function writeHeader(out: Uint8Array, tag: number, length: number, size: number): number {
  out[0] = tag;
  if (size === 2) {
    out[1] = length;
    return 2;
  }
  out[1] = 0x80 | (size - 2);
  for (let i = size - 1, l = length; i >= 2; i--, l = Math.floor(l / 256)) out[i] = l & 0xff;
  return size;
}

/** One TLV whose content is `parts` in order. */
function derOf(tag: number, parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const size = headerLength(length);
  const out = new Uint8Array(size + length);
  let offset = writeHeader(out, tag, length, size);
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** One TLV with `value` as its content. */
function derValue(tag: number, value: Uint8Array): Uint8Array {
  const size = headerLength(value.length);
  const out = new Uint8Array(size + value.length);
  out.set(value, writeHeader(out, tag, value.length, size));
  return out;
}

export function derSequence(...parts: readonly Uint8Array[]): Uint8Array {
  return derOf(DerTag.SEQUENCE, parts);
}

export function derSet(...parts: readonly Uint8Array[]): Uint8Array {
  return derOf(DerTag.SET, parts);
}

// The same few OIDs are written into every certificate; encoding them once saves real time when
// a Coordinator issues certificates for many pods. Callers never mutate the returned bytes.
const oidCache = new Map<string, Uint8Array>();

export function derOid(oid: string): Uint8Array {
  let der = oidCache.get(oid);
  if (der === undefined) {
    der = encodeDer(DerTag.OID, encodeOid(oid));
    if (oidCache.size < 256) oidCache.set(oid, der);
  }
  return der;
}

const TRUE = encodeDer(DerTag.BOOLEAN, new Uint8Array([0xff]));
const FALSE = encodeDer(DerTag.BOOLEAN, new Uint8Array([0x00]));

/** Shared constants: callers never mutate the returned bytes. */
export function derBoolean(value: boolean): Uint8Array {
  return value ? TRUE : FALSE;
}

const NULL = encodeDer(DerTag.NULL, new Uint8Array());

export function derNull(): Uint8Array {
  return NULL;
}

export function derOctetString(value: Uint8Array): Uint8Array {
  return derValue(DerTag.OCTET_STRING, value);
}

/** A BIT STRING of whole bytes (no unused bits), as used for keys and signatures. */
export function derBitString(value: Uint8Array): Uint8Array {
  return derOf(DerTag.BIT_STRING, [UNUSED_BITS_NONE, value]);
}

const UNUSED_BITS_NONE = new Uint8Array([0]);

/** Context-specific constructed [n] EXPLICIT wrapper. */
export function derExplicit(n: number, inner: Uint8Array): Uint8Array {
  return derValue(0xa0 | n, inner);
}

/** Context-specific primitive [n] IMPLICIT value. */
export function derImplicit(n: number, value: Uint8Array): Uint8Array {
  return derValue(0x80 | n, value);
}

/** INTEGER from unsigned big-endian magnitude bytes: minimal, positive. */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let body = magnitude.subarray(start);
  if (body.length === 0) body = new Uint8Array([0]);
  if ((body[0] as number) & 0x80) return derOf(DerTag.INTEGER, [UNUSED_BITS_NONE, body]);
  return derValue(DerTag.INTEGER, body);
}

/** INTEGER from a JavaScript number or bigint (two's complement, minimal). */
export function derInteger(value: number | bigint): Uint8Array {
  // Most INTEGERs we write (versions, claims, TCB parts) are small: no bigint for those.
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0x7fffffff) {
    return smallInteger(value);
  }
  let v = BigInt(value);
  const bytes: number[] = [];
  if (v >= 0n) {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  } else {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v < -1n);
    if (((bytes[0] as number) & 0x80) === 0) bytes.unshift(0xff);
  }
  return derValue(DerTag.INTEGER, new Uint8Array(bytes));
}

/** A non-negative INTEGER below 2^31: minimal two's complement, a leading zero before a high bit. */
function smallInteger(value: number): Uint8Array {
  let n = 1;
  while (n < 4 && value >= 2 ** (8 * n - 1)) n++;
  const out = new Uint8Array(2 + n);
  out[0] = DerTag.INTEGER;
  out[1] = n;
  for (let i = n + 1, v = value; i >= 2; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

// X.680 PrintableString's alphabet; Go writes a string as PrintableString when it fits, else
// UTF8String, and so do we so that names compare equal byte for byte.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function derDirectoryString(value: string): Uint8Array {
  return PRINTABLE.test(value)
    ? encodeDer(DerTag.PRINTABLE_STRING, utf8(value))
    : encodeDer(DerTag.UTF8_STRING, utf8(value));
}

/** Attribute types of distinguished names (X.520). */
export const NAME = {
  commonName: "2.5.4.3",
  country: "2.5.4.6",
  locality: "2.5.4.7",
  state: "2.5.4.8",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
} as const;

export type NameAttribute = readonly [oid: string, value: string];

/**
 * How a Name's strings are written: "go" as Go's x509 does (PrintableString when the value fits,
 * else UTF8String), "utf8" as AMD's and Intel's certificates do (UTF8String, but countryName is
 * always a PrintableString, as X.520 requires).
 */
export type NameStrings = "go" | "utf8";

function nameString(type: string, value: string, strings: NameStrings): Uint8Array {
  if (strings === "go") return derDirectoryString(value);
  return encodeDer(type === NAME.country ? DerTag.PRINTABLE_STRING : DerTag.UTF8_STRING, utf8(value));
}

/** A Name: one RDN per attribute, in the order given. */
export function encodeName(attributes: readonly NameAttribute[], strings: NameStrings = "go"): Uint8Array {
  return derSequence(
    ...attributes.map(([type, value]) => derSet(derSequence(derOid(type), nameString(type, value, strings)))),
  );
}

/** A Name with one RDN holding the common name (the only attribute Contrast's certificates set). */
export function derCommonNameName(commonName: string): Uint8Array {
  return encodeName(commonName === "" ? [] : [[NAME.commonName, commonName]]);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
export function derTime(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  // Every certificate carries two: digits written straight into the bytes, no strings on the way.
  if (y >= 0 && y <= 9999) {
    const utc = y >= 1950 && y < 2050;
    const out = new Uint8Array(utc ? 15 : 17);
    out[0] = utc ? DerTag.UTC_TIME : DerTag.GENERALIZED_TIME;
    out[1] = out.length - 2;
    let at = 2;
    const digits = (value: number, width: number) => {
      for (let i = width - 1, n = value; i >= 0; i--, n = Math.floor(n / 10)) out[at + i] = 0x30 + (n % 10);
      at += width;
    };
    if (utc) digits(y % 100, 2);
    else digits(y, 4);
    digits(date.getUTCMonth() + 1, 2);
    digits(date.getUTCDate(), 2);
    digits(date.getUTCHours(), 2);
    digits(date.getUTCMinutes(), 2);
    digits(date.getUTCSeconds(), 2);
    out[at] = 0x5a; // Z
    return out;
  }
  const rest =
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2);
  if (y >= 1950 && y < 2050) return encodeDer(DerTag.UTC_TIME, utf8(`${pad(y % 100, 2)}${rest}Z`));
  return encodeDer(DerTag.GENERALIZED_TIME, utf8(`${pad(y, 4)}${rest}Z`));
}
