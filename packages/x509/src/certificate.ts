import { createHash, type KeyObject, sign } from "node:crypto";
import { concatBytes, DerTag, encodeDer, readDerChildren, readDerExact } from "@contrast/core";
import {
  derBitString,
  derBoolean,
  derExplicit,
  derImplicit,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derTime,
  derUnsignedInteger,
} from "./der-writer.js";
import { MeshPkiError } from "./errors.js";
import type { ClassifiedSans } from "./san.js";

/** A certificate extension: `value` is the DER that goes inside extnValue's OCTET STRING. */
export interface CertificateExtension {
  readonly oid: string;
  readonly critical?: boolean;
  readonly value: Uint8Array;
}

export const OIDS = {
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  /** Contrast: the workload secret ID of the pod the certificate was issued to. */
  workloadSecretId: "1.3.9901.3.1",
} as const;

const SIGNATURE_ALGORITHMS: Readonly<Record<string, { oid: string; hash: string }>> = {
  // Go's x509 picks the hash by curve size; so do we.
  prime256v1: { oid: "1.2.840.10045.4.3.2", hash: "sha256" },
  secp384r1: { oid: "1.2.840.10045.4.3.3", hash: "sha384" },
  secp521r1: { oid: "1.2.840.10045.4.3.4", hash: "sha512" },
};

export interface Signer {
  readonly key: KeyObject;
  readonly hash: string;
  /** DER AlgorithmIdentifier (ECDSA: no parameters). */
  readonly algorithm: Uint8Array;
}

export function signerFor(key: KeyObject): Signer {
  const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
  const alg = SIGNATURE_ALGORITHMS[curve];
  if (key.type !== "private" || key.asymmetricKeyType !== "ec" || alg === undefined) {
    throw new MeshPkiError("KEY_WRONG_TYPE", "CA keys must be ECDSA private keys on P-256, P-384 or P-521", {
      hint: "Contrast's CA keys are ECDSA P-384.",
    });
  }
  return { key, hash: alg.hash, algorithm: derSequence(derOid(alg.oid)) };
}

export interface TbsFields {
  readonly serial: Uint8Array;
  readonly signer: Signer;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeyInfo: Uint8Array;
  /** Already-encoded Extension SEQUENCEs, in the order they should appear. */
  readonly extensions: readonly Uint8Array[];
}

const VERSION_3 = derExplicit(0, derInteger(2));

/** Builds the TBSCertificate, signs it and returns the DER Certificate. */
export function signCertificate(f: TbsFields): Uint8Array {
  const tbs = derSequence(
    VERSION_3,
    derUnsignedInteger(f.serial),
    f.signer.algorithm,
    f.issuer,
    derSequence(derTime(f.notBefore), derTime(f.notAfter)),
    f.subject,
    f.subjectPublicKeyInfo,
    ...(f.extensions.length > 0 ? [derExplicit(3, derSequence(...f.extensions))] : []),
  );
  const signature = new Uint8Array(sign(f.signer.hash, tbs, { key: f.signer.key, dsaEncoding: "der" }));
  return derSequence(tbs, f.signer.algorithm, derBitString(signature));
}

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
    oid: OIDS.keyUsage,
    critical: true,
    value: encodeDer(DerTag.BIT_STRING, concatBytes(new Uint8Array([unused]), bytes)),
  });
}

export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5 } as const;

export function extKeyUsageExtension(oids: readonly string[]): Uint8Array {
  return encodeExtension({ oid: OIDS.extKeyUsage, value: derSequence(...oids.map(derOid)) });
}

export function caBasicConstraintsExtension(): Uint8Array {
  return encodeExtension({ oid: OIDS.basicConstraints, critical: true, value: derSequence(derBoolean(true)) });
}

/**
 * BasicConstraints of an end-entity certificate, critical with an empty SEQUENCE (CA:FALSE): what
 * Go writes for a template with BasicConstraintsValid and not IsCA, as upstream's mesh leaves have.
 */
export function leafBasicConstraintsExtension(): Uint8Array {
  return encodeExtension({ oid: OIDS.basicConstraints, critical: true, value: derSequence() });
}

export function subjectKeyIdExtension(keyId: Uint8Array): Uint8Array {
  return encodeExtension({ oid: OIDS.subjectKeyIdentifier, value: derOctetString(keyId) });
}

export function authorityKeyIdExtension(keyId: Uint8Array): Uint8Array {
  return encodeExtension({ oid: OIDS.authorityKeyIdentifier, value: derSequence(derImplicit(0, keyId)) });
}

/** GeneralNames in Go's order: DNS names, then IP addresses, then URIs. */
export function subjectAltNameExtension(sans: ClassifiedSans, critical: boolean): Uint8Array {
  const te = new TextEncoder();
  const names = [
    ...sans.dns.map((d) => derImplicit(2, te.encode(d))),
    ...sans.ip.map((ip) => derImplicit(7, ip)),
    ...sans.uri.map((u) => derImplicit(6, te.encode(u))),
  ];
  return encodeExtension({ oid: OIDS.subjectAltName, critical, value: derSequence(...names) });
}

/**
 * RFC 5280 key identifier method 1: SHA-1 over the subjectPublicKey BIT STRING's bytes. This is
 * what Go's x509 generates for CA certificates that have none.
 */
export function keyIdentifier(subjectPublicKeyInfo: Uint8Array): Uint8Array {
  const [, bits] = readDerChildren(readDerExact(subjectPublicKeyInfo, DerTag.SEQUENCE));
  if (bits?.tag !== DerTag.BIT_STRING) {
    throw new MeshPkiError("KEY_MALFORMED", "public key: SubjectPublicKeyInfo has no BIT STRING", {
      hint: "The public key is damaged.",
    });
  }
  return new Uint8Array(createHash("sha1").update(bits.value.subarray(1)).digest());
}
