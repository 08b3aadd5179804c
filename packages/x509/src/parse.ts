import { type DerElement, DerTag, decodeOid, readDerChildren, readDerExact, toHex } from "@contrast/core";
import { X509Error } from "./errors.js";

// Certificate and CRL structures that Node's X509Certificate does not expose: extensions by
// OID and certificate revocation lists. Read with core's bounds-checked DER reader.

function malformed(what: string, cause?: unknown): X509Error {
  return new X509Error("X509_MALFORMED", `${what} is malformed`, {
    cause,
    hint: "The certificate or CRL is damaged.",
  });
}

/** The extensions of a certificate as OID -> extnValue contents. */
export function certificateExtensions(der: Uint8Array): Map<string, Uint8Array> {
  const cert = readDerExact(der, DerTag.SEQUENCE);
  const [tbs] = readDerChildren(cert);
  if (tbs?.tag !== DerTag.SEQUENCE) throw malformed("certificate");
  const out = new Map<string, Uint8Array>();
  const wrapper = readDerChildren(tbs).find((el) => el.tag === 0xa3); // [3] EXPLICIT Extensions
  if (!wrapper) return out;
  const [list] = readDerChildren(wrapper);
  if (list?.tag !== DerTag.SEQUENCE) throw malformed("certificate extensions");
  for (const ext of readDerChildren(list)) {
    const parts = readDerChildren(ext);
    const oid = parts[0];
    const value = parts[parts.length - 1];
    if (oid?.tag !== DerTag.OID || value?.tag !== DerTag.OCTET_STRING) throw malformed("certificate extension");
    const id = decodeOid(oid.value);
    if (out.has(id)) throw malformed(`certificate (duplicate extension ${id})`);
    out.set(id, value.value);
  }
  return out;
}

/** The OID of a certificate's or CRL's outer signatureAlgorithm. */
export function signatureAlgorithmOid(der: Uint8Array): string {
  const [, alg] = readDerChildren(readDerExact(der, DerTag.SEQUENCE));
  const [oid] = alg ? readDerChildren(alg) : [];
  if (oid?.tag !== DerTag.OID) throw malformed("signature algorithm");
  return decodeOid(oid.value);
}

export function readTime(el: DerElement | undefined): Date {
  if (el === undefined || (el.tag !== DerTag.UTC_TIME && el.tag !== DerTag.GENERALIZED_TIME)) throw malformed("time");
  const s = Buffer.from(el.value).toString("latin1");
  const m = (
    el.tag === DerTag.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
  ).exec(s);
  if (!m) throw malformed(`time ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (el.tag === DerTag.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const d = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  if (Number.isNaN(d.getTime())) throw malformed(`time ${JSON.stringify(s)}`);
  return d;
}

/** Normalised serial number: lower-case hex without leading zeros. */
export function serialHex(raw: string | Uint8Array): string {
  const hex = typeof raw === "string" ? raw.toLowerCase() : toHex(raw);
  return hex.replace(/^0+(?=.)/, "");
}

export interface Crl {
  der: Uint8Array;
  /** The signed part (TBSCertList), for checking the signature. */
  tbs: Uint8Array;
  /** The issuer's DER Name. */
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Revoked serial numbers, as serialHex writes them. */
  revoked: Set<string>;
  signatureAlgorithm: string;
  signature: Uint8Array;
}

/** Parses a DER CertificateList (RFC 5280 §5). */
export function parseCrl(der: Uint8Array): Crl {
  try {
    const top = readDerExact(der, DerTag.SEQUENCE);
    const [tbsEl, , sigEl] = readDerChildren(top);
    if (tbsEl?.tag !== DerTag.SEQUENCE || sigEl?.tag !== DerTag.BIT_STRING || sigEl.value[0] !== 0)
      throw malformed("CRL");
    const fields = readDerChildren(tbsEl);
    let i = fields[0]?.tag === DerTag.INTEGER ? 1 : 0; // optional version
    i++; // signature AlgorithmIdentifier
    const issuer = fields[i++];
    if (issuer?.tag !== DerTag.SEQUENCE) throw malformed("CRL issuer");
    const thisUpdate = readTime(fields[i++]);
    let nextUpdate: Date | undefined;
    const maybeNext = fields[i];
    if (maybeNext && (maybeNext.tag === DerTag.UTC_TIME || maybeNext.tag === DerTag.GENERALIZED_TIME)) {
      nextUpdate = readTime(maybeNext);
      i++;
    }
    const revoked = new Set<string>();
    const list = fields[i];
    if (list?.tag === DerTag.SEQUENCE) {
      for (const entry of readDerChildren(list)) {
        const [serial] = readDerChildren(entry);
        if (serial?.tag !== DerTag.INTEGER) throw malformed("CRL entry");
        revoked.add(serialHex(serial.value));
      }
    }
    return {
      der,
      tbs: top.value.subarray(tbsEl.offset, tbsEl.end),
      issuer: tbsEl.value.subarray(issuer.offset, issuer.end),
      thisUpdate,
      nextUpdate,
      revoked,
      signatureAlgorithm: signatureAlgorithmOid(der),
      signature: sigEl.value.subarray(1),
    };
  } catch (e) {
    if (e instanceof X509Error) throw e;
    throw malformed("CRL", e);
  }
}
