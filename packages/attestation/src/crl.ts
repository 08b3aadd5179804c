import { constants, verify as cryptoVerify, type X509Certificate } from "node:crypto";
import type { Crl } from "@contrast/x509";
import { EvidenceError } from "./errors.js";

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const ECDSA_SHA384 = "1.2.840.10045.4.3.3";
const RSASSA_PSS = "1.2.840.113549.1.1.10";

/**
 * Checks a CRL's signature with its issuer's key and that `now` lies within its update window.
 * Supports the algorithms Intel (ECDSA) and AMD (RSASSA-PSS, SHA-384, salt 48) use.
 */
export function verifyCrl(crl: Crl, issuer: X509Certificate, now: Date, what: string): void {
  let ok: boolean;
  if (crl.signatureAlgorithm === ECDSA_SHA256 || crl.signatureAlgorithm === ECDSA_SHA384) {
    ok = cryptoVerify(
      crl.signatureAlgorithm === ECDSA_SHA256 ? "sha256" : "sha384",
      crl.tbs,
      issuer.publicKey,
      crl.signature,
    );
  } else if (crl.signatureAlgorithm === RSASSA_PSS) {
    ok = cryptoVerify(
      "sha384",
      crl.tbs,
      { key: issuer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
      crl.signature,
    );
  } else {
    throw new EvidenceError("CRL_INVALID", `${what}: unsupported signature algorithm ${crl.signatureAlgorithm}`, {
      hint: "Use the vendor's CRL.",
    });
  }
  if (!ok)
    throw new EvidenceError("CRL_INVALID", `${what} is not signed by its issuer`, {
      hint: "The CRL was altered or belongs to another issuer.",
    });
  if (now < crl.thisUpdate || (crl.nextUpdate !== undefined && now > crl.nextUpdate)) {
    throw new EvidenceError(
      "CRL_NOT_VALID_AT_TIME",
      `${what} covers ${crl.thisUpdate.toISOString()} to ${crl.nextUpdate?.toISOString() ?? "(open)"}, not ${now.toISOString()}`,
      { hint: "Fetch a current CRL; revocation cannot be judged with a stale one." },
    );
  }
}
