import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/x509 reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const X509_ERROR_CODES = [
  {
    code: "X509_MALFORMED",
    kind: "input",
    meaning: "A certificate or CRL cannot be parsed.",
    hint: "The certificate or CRL is damaged.",
  },
  {
    code: "X509_PUBLIC_KEY_MALFORMED",
    kind: "input",
    meaning:
      "A SubjectPublicKeyInfo is not strict DER, or its NIST EC point is compressed or off the curve, or OpenSSL does not read it.",
    hint: "Pass the public key as SubjectPublicKeyInfo DER or a KeyObject.",
  },
  {
    code: "X509_SIGNING_KEY_UNSUPPORTED",
    kind: "input",
    meaning: "A certificate or CRL signing key is not of a type and size the signer supports.",
    hint: "Sign with an ECDSA private key on P-256, P-384 or P-521, or an RSA private key for RSASSA-PSS.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type X509ErrorCode = (typeof X509_ERROR_CODES)[number]["code"];
