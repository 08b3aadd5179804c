import { ContrastError } from "./error.js";

/** ASN.1 universal tags that the project reads or writes. */
export const DerTag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export interface DerElement {
  /** The identifier octet (single-byte tags only; high-tag-number form is rejected). */
  readonly tag: number;
  readonly constructed: boolean;
  /** Offset of the identifier octet in the input. */
  readonly offset: number;
  readonly headerLength: number;
  readonly value: Uint8Array;
  /** Offset just past this element. */
  readonly end: number;
}

function derError(message: string, offset: number): ContrastError {
  return new ContrastError("DER_MALFORMED", `${message} at offset ${offset}`, {
    hint: "The binary structure is damaged or not DER; re-export it.",
    details: { offset },
  });
}

/**
 * Reads one DER element strictly: definite, minimally encoded lengths that fit in the input.
 * Every length is checked before use, so hostile input cannot cause an out-of-bounds read.
 */
export function readDer(bytes: Uint8Array, offset = 0): DerElement {
  if (offset >= bytes.length) throw derError("truncated element", offset);
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw derError("high-tag-number form is not supported", offset);
  let pos = offset + 1;
  if (pos >= bytes.length) throw derError("missing length", offset);
  const first = bytes[pos++] as number;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw derError("indefinite length is not DER", offset);
  } else {
    const count = first & 0x7f;
    if (count > 4) throw derError("length field too large", offset);
    if (pos + count > bytes.length) throw derError("truncated length", offset);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[pos++] as number);
    if (bytes[pos - count] === 0 || length < 0x80) throw derError("non-minimal length", offset);
  }
  const end = pos + length;
  if (end > bytes.length) throw derError("length exceeds input", offset);
  return {
    tag,
    constructed: (tag & 0x20) !== 0,
    offset,
    headerLength: pos - offset,
    value: bytes.subarray(pos, end),
    end,
  };
}

/** Reads exactly one element that must span the whole input. */
export function readDerExact(bytes: Uint8Array, expectedTag?: number): DerElement {
  const el = readDer(bytes, 0);
  if (el.end !== bytes.length) throw derError("trailing data after element", el.end);
  if (expectedTag !== undefined && el.tag !== expectedTag) {
    throw derError(`expected tag 0x${hex2(expectedTag)}, got 0x${hex2(el.tag)}`, 0);
  }
  return el;
}

/** The children of a constructed element, in order. */
export function readDerChildren(parent: DerElement): DerElement[] {
  if (!parent.constructed) throw derError("element is not constructed", parent.offset);
  const out: DerElement[] = [];
  let pos = 0;
  while (pos < parent.value.length) {
    const child = readDer(parent.value, pos);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function encodeDer(tag: number, value: Uint8Array): Uint8Array {
  const len = value.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const lenBytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) lenBytes.unshift(n & 0xff);
    header = [tag, 0x80 | lenBytes.length, ...lenBytes];
  }
  const out = new Uint8Array(header.length + len);
  out.set(header, 0);
  out.set(value, header.length);
  return out;
}

/** Decodes an OBJECT IDENTIFIER's content octets into dotted form. */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw derError("empty OID", 0);
  const arcs: number[] = [];
  let acc = 0;
  for (let i = 0; i < value.length; i++) {
    const b = value[i] as number;
    if (acc === 0 && b === 0x80) throw derError("non-minimal OID arc", i);
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) throw derError("OID arc too large", i);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const firstArc = acc < 40 ? 0 : acc < 80 ? 1 : 2;
        arcs.push(firstArc, acc - firstArc * 40);
      } else arcs.push(acc);
      acc = 0;
    } else if (i === value.length - 1) throw derError("truncated OID", i);
  }
  return arcs.join(".");
}

/** Encodes a dotted OID into content octets (without tag and length). */
export function encodeOid(oid: string): Uint8Array {
  const arcs = oid.split(".").map((s) => {
    if (!/^(0|[1-9][0-9]*)$/.test(s)) throw invalidOid(oid);
    return Number(s);
  });
  const [a, b, ...rest] = arcs;
  if (a === undefined || b === undefined || a > 2 || (a < 2 && b >= 40)) throw invalidOid(oid);
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    if (!Number.isSafeInteger(arc)) throw invalidOid(oid);
    const chunk: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return new Uint8Array(out);
}

function invalidOid(oid: string): ContrastError {
  return new ContrastError("DER_INVALID_OID", `invalid object identifier ${JSON.stringify(oid)}`, {
    hint: "OIDs are dotted decimal arcs such as 1.3.9901.2.1.",
  });
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}
