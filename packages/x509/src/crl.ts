import { constants, type KeyObject, sign } from "node:crypto";
import { DerTag, encodeDer, encodeOid, utf8 } from "@contrast/core";

// A minimal X.509 v3 writer for the simulated TEE's certificates. It writes exactly the shapes
// AMD uses (RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48, trailer 1), so that the simulated
// chain is checked by the same code as AMD's.

const seq = (...parts: Uint8Array[]) => encodeDer(DerTag.SEQUENCE, concat(parts));
const set = (...parts: Uint8Array[]) => encodeDer(DerTag.SET, concat(parts));
const oid = (dotted: string) => encodeDer(DerTag.OID, encodeOid(dotted));
const explicit = (n: number, inner: Uint8Array) => encodeDer(0xa0 + n, inner);
const nul = () => encodeDer(DerTag.NULL, new Uint8Array());

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

/** DER INTEGER of a non-negative number or big-endian magnitude. */
export function derInteger(value: number | Uint8Array): Uint8Array {
  let bytes: number[];
  if (typeof value === "number") {
    bytes = [];
    for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    if (bytes.length === 0) bytes = [0];
  } else {
    bytes = [...value];
    while (bytes.length > 1 && bytes[0] === 0) bytes.shift();
    if (bytes.length === 0) bytes = [0];
  }
  if (((bytes[0] as number) & 0x80) !== 0) bytes.unshift(0);
  return encodeDer(DerTag.INTEGER, new Uint8Array(bytes));
}

export const SHA384_OID = "2.16.840.1.101.3.4.2.2";
const RSASSA_PSS = "1.2.840.113549.1.1.10";
const MGF1 = "1.2.840.113549.1.1.8";

/** AlgorithmIdentifier for RSASSA-PSS / SHA-384 / MGF1-SHA-384 / salt 48 / trailer 1, as AMD writes it. */
export function rsaPssSha384(): Uint8Array {
  const sha384 = seq(oid(SHA384_OID), nul());
  return seq(
    oid(RSASSA_PSS),
    seq(
      explicit(0, sha384),
      explicit(1, seq(oid(MGF1), sha384)),
      explicit(2, derInteger(48)),
      explicit(3, derInteger(1)),
    ),
  );
}

export type NameAttribute = readonly [oid: string, value: string];

export const NAME = {
  commonName: "2.5.4.3",
  country: "2.5.4.6",
  locality: "2.5.4.7",
  state: "2.5.4.8",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
} as const;

export function encodeName(attributes: readonly NameAttribute[]): Uint8Array {
  return seq(
    ...attributes.map(([type, value]) =>
      set(seq(oid(type), encodeDer(type === NAME.country ? DerTag.PRINTABLE_STRING : DerTag.UTF8_STRING, utf8(value)))),
    ),
  );
}

function encodeTime(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  const year = d.getUTCFullYear();
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return year < 2050
    ? encodeDer(DerTag.UTC_TIME, utf8(`${iso.slice(2)}Z`))
    : encodeDer(DerTag.GENERALIZED_TIME, utf8(`${iso}Z`));
}

export interface CertificateExtension {
  oid: string;
  critical?: boolean;
  /** The extnValue contents (wrapped in an OCTET STRING here). */
  value: Uint8Array;
}

export function basicConstraintsCa(): CertificateExtension {
  return { oid: "2.5.29.19", critical: true, value: seq(encodeDer(DerTag.BOOLEAN, new Uint8Array([0xff]))) };
}

export interface CertificateTemplate {
  serial: number | Uint8Array;
  issuer: readonly NameAttribute[];
  subject: readonly NameAttribute[];
  notBefore: Date;
  notAfter: Date;
  subjectPublicKey: KeyObject;
  extensions?: readonly CertificateExtension[];
}

/** Builds and signs a certificate with RSASSA-PSS/SHA-384 (salt 48) using `issuerKey`. */
export function signCertificateRsaPss(t: CertificateTemplate, issuerKey: KeyObject): Uint8Array {
  const alg = rsaPssSha384();
  const spki = new Uint8Array(t.subjectPublicKey.export({ type: "spki", format: "der" }));
  const ext = (t.extensions ?? []).map((e) =>
    seq(
      oid(e.oid),
      ...(e.critical ? [encodeDer(DerTag.BOOLEAN, new Uint8Array([0xff]))] : []),
      encodeDer(DerTag.OCTET_STRING, e.value),
    ),
  );
  const tbs = seq(
    explicit(0, derInteger(2)),
    derInteger(t.serial),
    alg,
    encodeName(t.issuer),
    seq(encodeTime(t.notBefore), encodeTime(t.notAfter)),
    encodeName(t.subject),
    spki,
    ...(ext.length > 0 ? [explicit(3, seq(...ext))] : []),
  );
  const signature = sign("sha384", tbs, { key: issuerKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
  return seq(tbs, alg, encodeDer(DerTag.BIT_STRING, concat([new Uint8Array([0]), signature])));
}

/** Builds and signs a CRL (RFC 5280 v2) with RSASSA-PSS/SHA-384, as AMD's KDS serves them. */
export function signCrlRsaPss(
  crl: {
    issuer: readonly NameAttribute[];
    thisUpdate: Date;
    nextUpdate: Date;
    revoked: readonly { serial: number | Uint8Array; date: Date }[];
  },
  issuerKey: KeyObject,
): Uint8Array {
  const alg = rsaPssSha384();
  const entries = crl.revoked.map((r) => seq(derInteger(r.serial), encodeTime(r.date)));
  const tbs = seq(
    derInteger(1),
    alg,
    encodeName(crl.issuer),
    encodeTime(crl.thisUpdate),
    encodeTime(crl.nextUpdate),
    ...(entries.length > 0 ? [seq(...entries)] : []),
  );
  const signature = sign("sha384", tbs, { key: issuerKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
  return seq(tbs, alg, encodeDer(DerTag.BIT_STRING, concat([new Uint8Array([0]), signature])));
}
