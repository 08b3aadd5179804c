import { generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import { EVIDENCE_OIDS } from "@contrast/attestation";
import { type Clock, encodePem, isContrastError } from "@contrast/core";
import {
  certificateExtensions,
  derCommonNameName,
  ecdsaSigner,
  encodeExtension,
  rsaPssSigner,
  type Signer,
  signCertificate,
  spkiOfKey,
} from "@contrast/x509";
import { AtlsError } from "./errors.js";
import type { EvidenceIssuer } from "./issuer.js";
import { reportData } from "./report-data.js";

/** The aTLS certificate is valid from two hours before to two hours after its making. */
export const ATLS_VALIDITY_MS = 2 * 3_600_000;

export interface AtlsCertificate {
  readonly privateKey: KeyObject;
  readonly certificateDer: Uint8Array;
  readonly certificatePem: string;
  readonly keyPem: string;
  /** PKIX SubjectPublicKeyInfo DER of the certificate's key. */
  readonly publicKeyDer: Uint8Array;
}

export interface CreateAtlsCertificateOptions {
  /** Makes the evidence; without one the certificate carries none (an unattested client). */
  readonly issuer?: EvidenceIssuer | undefined;
  /** The verifier's nonce the evidence binds; needed with an issuer. */
  readonly nonce?: Uint8Array | undefined;
  readonly clock: Clock;
  readonly random: (size: number) => Uint8Array;
  /** The key to certify; a fresh P-256 key when left out. EC (P-256/384/521) or RSA. */
  readonly key?: KeyObject | undefined;
}

function signerFor(key: KeyObject): Signer {
  return key.asymmetricKeyType === "rsa" ? rsaPssSigner(key, "sha256") : ecdsaSigner(key);
}

/**
 * Makes an aTLS certificate as upstream does: self-signed, CN=Contrast, valid now ± 2 h, a random
 * positive 128-bit serial, and (with an issuer) one non-critical extension under the evidence
 * OID whose value is the evidence document with report data = SHA-512(SPKI DER ‖ nonce).
 */
export async function createAtlsCertificate(options: CreateAtlsCertificateOptions): Promise<AtlsCertificate> {
  const privateKey = options.key ?? generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
  const publicKeyDer = spkiOfKey(privateKey);
  const extensions: Uint8Array[] = [];
  if (options.issuer !== undefined) {
    if (options.nonce === undefined)
      throw new AtlsError("ATLS_NONCE_MISSING", "an attested certificate needs the verifier's nonce");
    let evidence: Uint8Array;
    try {
      evidence = await options.issuer.issue(reportData(publicKeyDer, options.nonce));
    } catch (e) {
      if (isContrastError(e)) throw e;
      throw new AtlsError("ATLS_ISSUER_FAILED", `the ${options.issuer.platform} issuer failed: ${String(e)}`, {
        cause: e,
      });
    }
    extensions.push(encodeExtension({ oid: options.issuer.oid, value: evidence }));
  }
  const serial = options.random(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive and nonzero, 127 random bits
  const now = options.clock.now().getTime();
  const name = derCommonNameName("Contrast");
  const certificateDer = signCertificate({
    serial,
    signer: signerFor(privateKey),
    issuer: name,
    subject: name,
    notBefore: new Date(now - ATLS_VALIDITY_MS),
    notAfter: new Date(now + ATLS_VALIDITY_MS),
    subjectPublicKeyInfo: publicKeyDer,
    extensions,
  });
  return {
    privateKey,
    certificateDer,
    certificatePem: encodePem("CERTIFICATE", certificateDer),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyDer,
  };
}

export interface ParsedAtlsCertificate {
  readonly certificate: X509Certificate;
  /** PKIX SubjectPublicKeyInfo DER of the certificate's key. */
  readonly publicKeyDer: Uint8Array;
  /** The evidence extension, if the certificate carries one. */
  readonly evidence: { readonly oid: string; readonly document: Uint8Array } | undefined;
}

const KNOWN_OIDS: readonly string[] = [EVIDENCE_OIDS.snp, EVIDENCE_OIDS.tdx];

/**
 * Parses a peer's aTLS certificate and checks what the certificate itself can prove: that it is
 * signed by its own key and valid at `now`, as Go's Verify against a pool of just that
 * certificate does. The evidence is returned unverified.
 */
export function checkAtlsCertificate(der: Uint8Array | undefined, now: Date): ParsedAtlsCertificate {
  const parsed = readAtlsCertificate(der);
  const { certificate } = parsed;
  let selfSigned = false;
  try {
    selfSigned = certificate.verify(certificate.publicKey);
  } catch {
    selfSigned = false;
  }
  if (!selfSigned) {
    throw new AtlsError("ATLS_CERTIFICATE_NOT_SELF_SIGNED", "the peer's certificate is not signed by its own key");
  }
  const t = now.getTime();
  if (t < Date.parse(certificate.validFrom) || t > Date.parse(certificate.validTo)) {
    throw new AtlsError(
      "ATLS_CERTIFICATE_NOT_VALID_AT_TIME",
      `the peer's certificate is valid from ${certificate.validFrom} to ${certificate.validTo}, not at ${now.toISOString()}`,
    );
  }
  return parsed;
}

/**
 * Parses a peer certificate without judging it: what a server needs of a client certificate that
 * is only used for its key (TLS already proved possession of it), as upstream's servers take any
 * client certificate on the user API.
 */
export function readAtlsCertificate(der: Uint8Array | undefined): ParsedAtlsCertificate {
  if (der === undefined || der.length === 0) {
    throw new AtlsError("ATLS_PEER_CERTIFICATE_MISSING", "the peer presented no certificate");
  }
  let certificate: X509Certificate;
  let extensions: Map<string, Uint8Array>;
  try {
    certificate = new X509Certificate(der);
    extensions = certificateExtensions(der);
  } catch (e) {
    throw new AtlsError("ATLS_CERTIFICATE_MALFORMED", "the peer's certificate cannot be parsed", { cause: e });
  }
  let publicKeyDer: Uint8Array;
  try {
    publicKeyDer = new Uint8Array(certificate.publicKey.export({ type: "spki", format: "der" }));
  } catch (e) {
    throw new AtlsError("ATLS_CERTIFICATE_MALFORMED", "the peer certificate's key cannot be read", { cause: e });
  }
  const oid = [...extensions.keys()].find((o) => KNOWN_OIDS.includes(o));
  return {
    certificate,
    publicKeyDer,
    evidence: oid === undefined ? undefined : { oid, document: extensions.get(oid) as Uint8Array },
  };
}
