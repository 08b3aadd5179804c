import { verify as cryptoVerify, X509Certificate } from "node:crypto";
import { decodePem, fromHex, isHex, type JsonObject, parseJson, utf8 } from "@contrast/core";
import { type Crl, serialHex } from "@contrast/x509";
import { EvidenceError } from "../errors.js";
import type { SignedCollateral } from "./collateral-documents.js";
import { collateralError, intelDate } from "./collateral-fields.js";

/**
 * Checks one of Intel's signed documents (TCB info or QE identity): its issuer chain ends in the
 * pinned root, the TCB Signing certificate is not revoked and is valid at `now`, the signature
 * covers the body, and the document is within its issueDate..nextUpdate window. Returns the body.
 */
export function verifySignedCollateral(
  doc: SignedCollateral,
  chainPem: string,
  root: X509Certificate,
  rootCrl: Crl | undefined,
  now: Date,
  what: string,
): JsonObject {
  let certs: X509Certificate[];
  try {
    certs = decodePem(chainPem)
      .filter((b) => b.type === "CERTIFICATE")
      .map((b) => new X509Certificate(b.der));
  } catch (cause) {
    throw collateralError(`${what}: the issuer chain cannot be read`, undefined, cause);
  }
  const [signer, sentRoot] = certs;
  if (!signer || !sentRoot || certs.length !== 2 || !Buffer.from(sentRoot.raw).equals(Buffer.from(root.raw))) {
    throw collateralError(`${what}: the issuer chain must be the TCB signing certificate and the pinned Intel root`);
  }
  if (
    !/CN=Intel SGX TCB Signing(\n|$)/.test(signer.subject) ||
    !signer.checkIssued(root) ||
    !signer.verify(root.publicKey)
  ) {
    throw new EvidenceError(
      "TDX_COLLATERAL_SIGNATURE_INVALID",
      `${what}: the signing certificate is not Intel's TCB Signing certificate`,
      {
        hint: "Fetch the collateral from Intel's PCS.",
      },
    );
  }
  // As go-tdx-guest: the TCB Signing certificate is issued by the root, so the root CA CRL
  // is what would revoke it.
  if (rootCrl?.revoked.has(serialHex(signer.serialNumber))) {
    throw new EvidenceError("TDX_COLLATERAL_SIGNER_REVOKED", `${what}: the TCB Signing certificate is revoked`, {
      hint: "Intel revoked the certificate that signed this collateral; fetch current collateral from Intel's PCS.",
    });
  }
  for (const c of [signer, root]) {
    if (now < new Date(c.validFrom) || now > new Date(c.validTo)) {
      throw new EvidenceError(
        "TDX_COLLATERAL_NOT_VALID_AT_TIME",
        `${what}: ${c.subject.split("\n").pop()} is not valid at ${now.toISOString()}`,
        {
          hint: "The TCB Signing certificate was renewed in 2025; use the issuer chain served with the document.",
        },
      );
    }
  }
  if (
    !isHex(doc.signature, 64) ||
    !cryptoVerify(
      "sha256",
      utf8(doc.body),
      { key: signer.publicKey, dsaEncoding: "ieee-p1363" },
      fromHex(doc.signature),
    )
  ) {
    throw new EvidenceError("TDX_COLLATERAL_SIGNATURE_INVALID", `${what} is not signed by Intel's TCB Signing key`, {
      hint: "The collateral was altered; fetch it again from Intel's PCS.",
    });
  }
  const body = parseJson(doc.body, { maxBytes: 1024 * 1024 }) as JsonObject;
  const issue = intelDate(body.issueDate, `${what} issueDate`);
  const next = intelDate(body.nextUpdate, `${what} nextUpdate`);
  if (now < issue || now > next) {
    throw new EvidenceError(
      "TDX_COLLATERAL_NOT_VALID_AT_TIME",
      `${what} is valid from ${issue.toISOString()} to ${next.toISOString()}, not at ${now.toISOString()}`,
      {
        hint: "Fetch current collateral from Intel's PCS.",
        details: { issueDate: issue.toISOString(), nextUpdate: next.toISOString() },
      },
    );
  }
  return body;
}
