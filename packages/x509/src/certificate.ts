import { constants, type KeyObject, sign } from "node:crypto";
import {
  derBitString,
  derExplicit,
  derInteger,
  derNull,
  derOid,
  derSequence,
  derTime,
  derUnsignedInteger,
} from "./der-writer.js";
import { X509Error } from "./errors.js";

/** What signs a TBSCertificate or TBSCertList: its AlgorithmIdentifier and the signing itself. */
export interface Signer {
  /** DER AlgorithmIdentifier, written both inside and outside the signed part. */
  readonly algorithm: Uint8Array;
  /** The signature over `tbs`, as the BIT STRING carries it. */
  sign(tbs: Uint8Array): Uint8Array;
}

const ECDSA_ALGORITHMS: Readonly<Record<string, { oid: string; hash: string }>> = {
  // Go's x509 picks the hash by curve size; so do we.
  prime256v1: { oid: "1.2.840.10045.4.3.2", hash: "sha256" },
  secp384r1: { oid: "1.2.840.10045.4.3.3", hash: "sha384" },
  secp521r1: { oid: "1.2.840.10045.4.3.4", hash: "sha512" },
};

/** ECDSA with the hash Go's x509 picks for the key's curve; the AlgorithmIdentifier has no parameters. */
export function ecdsaSigner(key: KeyObject): Signer {
  const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
  const alg = ECDSA_ALGORITHMS[curve];
  if (key.type !== "private" || key.asymmetricKeyType !== "ec" || alg === undefined) {
    throw new X509Error("X509_SIGNING_KEY_UNSUPPORTED", "ECDSA signing needs a private key on P-256, P-384 or P-521", {
      hint: "Pass an ECDSA private key on a NIST curve.",
    });
  }
  const algorithm = derSequence(derOid(alg.oid));
  return {
    algorithm,
    sign: (tbs) => new Uint8Array(sign(alg.hash, tbs, { key, dsaEncoding: "der" })),
  };
}

const RSASSA_PSS = "1.2.840.113549.1.1.10";
const MGF1 = "1.2.840.113549.1.1.8";
const HASHES: Readonly<Record<"sha256" | "sha384" | "sha512", { oid: string; bytes: number }>> = {
  sha256: { oid: "2.16.840.1.101.3.4.2.1", bytes: 32 },
  sha384: { oid: "2.16.840.1.101.3.4.2.2", bytes: 48 },
  sha512: { oid: "2.16.840.1.101.3.4.2.3", bytes: 64 },
};

/**
 * RSASSA-PSS with MGF1 over the same hash and a salt as long as the digest, with every parameter
 * written out (trailer field included), as AMD writes its ARK, ASK and VCEK certificates and CRLs
 * with SHA-384.
 */
export function rsaPssSigner(key: KeyObject, hash: "sha256" | "sha384" | "sha512" = "sha384"): Signer {
  if (key.type !== "private" || key.asymmetricKeyType !== "rsa") {
    throw new X509Error("X509_SIGNING_KEY_UNSUPPORTED", "RSASSA-PSS signing needs an RSA private key", {
      hint: "Pass an RSA private key.",
    });
  }
  const h = HASHES[hash];
  const hashAlg = derSequence(derOid(h.oid), derNull());
  const algorithm = derSequence(
    derOid(RSASSA_PSS),
    derSequence(
      derExplicit(0, hashAlg),
      derExplicit(1, derSequence(derOid(MGF1), hashAlg)),
      derExplicit(2, derInteger(h.bytes)),
      derExplicit(3, derInteger(1)),
    ),
  );
  return {
    algorithm,
    sign: (tbs) =>
      new Uint8Array(sign(hash, tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.bytes })),
  };
}

/** A serial number: a non-negative number or bigint, or an unsigned big-endian magnitude. */
export type Serial = number | bigint | Uint8Array;

export function derSerial(serial: Serial): Uint8Array {
  return serial instanceof Uint8Array ? derUnsignedInteger(serial) : derInteger(serial);
}

export interface CertificateTemplate {
  readonly serial: Serial;
  readonly signer: Signer;
  /** DER Name of the issuer and of the subject (see encodeName). */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectPublicKeyInfo: Uint8Array;
  /** Already-encoded Extension SEQUENCEs, in the order they should appear. */
  readonly extensions?: readonly Uint8Array[];
}

const VERSION_3 = derExplicit(0, derInteger(2));

/** Builds the TBSCertificate (X.509 v3), signs it and returns the DER Certificate. */
export function signCertificate(t: CertificateTemplate): Uint8Array {
  const extensions = t.extensions ?? [];
  const tbs = derSequence(
    VERSION_3,
    derSerial(t.serial),
    t.signer.algorithm,
    t.issuer,
    derSequence(derTime(t.notBefore), derTime(t.notAfter)),
    t.subject,
    t.subjectPublicKeyInfo,
    ...(extensions.length > 0 ? [derExplicit(3, derSequence(...extensions))] : []),
  );
  return derSequence(tbs, t.signer.algorithm, derBitString(t.signer.sign(tbs)));
}
