import { createHash } from "node:crypto";
import { concatBytes, DerTag, encodeDer, readDerChildren, readDerExact, utf8 } from "@contrast/core";
import { derBoolean, derImplicit, derOctetString, derOid, derSequence } from "./der-writer.js";
import { X509Error } from "./errors.js";

/** A certificate extension: `value` is the DER that goes inside extnValue's OCTET STRING. */
export interface CertificateExtension {
  readonly oid: string;
  readonly critical?: boolean;
  readonly value: Uint8Array;
}

/** RFC 5280 extension and extended key usage OIDs that the certificates we write carry. */
export const X509_OIDS = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** The Extension SEQUENCE; `critical` is written only when true (DER omits the default). */
export function encodeExtension(ext: CertificateExtension): Uint8Array {
  return derSequence(derOid(ext.oid), ...(ext.critical ? [derBoolean(true)] : []), derOctetString(ext.value));
}

/** KeyUsage bits by their RFC 5280 number, as a minimal named BIT STRING. */
export function keyUsageExtension(bits: readonly number[]): Uint8Array {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] as number) | (0x80 >> (b & 7));
  const unused = 7 - (highest & 7);
  return encodeExtension({
    oid: X509_OIDS.keyUsage,
    critical: true,
    value: encodeDer(DerTag.BIT_STRING, concatBytes(new Uint8Array([unused]), bytes)),
  });
}

export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5 } as const;

export function extKeyUsageExtension(oids: readonly string[]): Uint8Array {
  return encodeExtension({ oid: X509_OIDS.extKeyUsage, value: derSequence(...oids.map(derOid)) });
}

export function caBasicConstraintsExtension(): Uint8Array {
  return encodeExtension({ oid: X509_OIDS.basicConstraints, critical: true, value: derSequence(derBoolean(true)) });
}

/**
 * BasicConstraints of an end-entity certificate, critical with an empty SEQUENCE (CA:FALSE): what
 * Go writes for a template with BasicConstraintsValid and not IsCA, as upstream's mesh leaves have.
 */
export function leafBasicConstraintsExtension(): Uint8Array {
  return encodeExtension({ oid: X509_OIDS.basicConstraints, critical: true, value: derSequence() });
}

export function subjectKeyIdExtension(keyId: Uint8Array): Uint8Array {
  return encodeExtension({ oid: X509_OIDS.subjectKeyIdentifier, value: derOctetString(keyId) });
}

export function authorityKeyIdExtension(keyId: Uint8Array): Uint8Array {
  return encodeExtension({ oid: X509_OIDS.authorityKeyIdentifier, value: derSequence(derImplicit(0, keyId)) });
}

/** The GeneralNames a subjectAltName carries: DNS names, IP addresses (4 or 16 bytes), URIs. */
export interface GeneralNames {
  readonly dns: readonly string[];
  readonly ip: readonly Uint8Array[];
  readonly uri: readonly string[];
}

/** GeneralNames in Go's order: DNS names, then IP addresses, then URIs. */
export function subjectAltNameExtension(sans: GeneralNames, critical: boolean): Uint8Array {
  const names = [
    ...sans.dns.map((d) => derImplicit(2, utf8(d))),
    ...sans.ip.map((ip) => derImplicit(7, ip)),
    ...sans.uri.map((u) => derImplicit(6, utf8(u))),
  ];
  return encodeExtension({ oid: X509_OIDS.subjectAltName, critical, value: derSequence(...names) });
}

/**
 * RFC 5280 key identifier method 1: SHA-1 over the subjectPublicKey BIT STRING's bytes. This is
 * what Go's x509 generates for CA certificates that have none.
 */
export function keyIdentifier(subjectPublicKeyInfo: Uint8Array): Uint8Array {
  const [, bits] = readDerChildren(readDerExact(subjectPublicKeyInfo, DerTag.SEQUENCE));
  if (bits?.tag !== DerTag.BIT_STRING) {
    throw new X509Error("X509_PUBLIC_KEY_MALFORMED", "public key: SubjectPublicKeyInfo has no BIT STRING", {
      hint: "The public key is damaged.",
    });
  }
  return new Uint8Array(createHash("sha1").update(bits.value.subarray(1)).digest());
}
