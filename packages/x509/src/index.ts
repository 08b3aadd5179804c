// @contrast/x509: one DER writer, X.509 certificate and CRL building and parsing, extensions and
// public keys. Reading DER is core's (readDer); trust decisions are the callers'.

export {
  type CertificateTemplate,
  ecdsaSigner,
  rsaPssSigner,
  type Signer,
  signCertificate,
} from "./certificate.js";
export { type CrlTemplate, signCrl } from "./crl.js";
export {
  derBitString,
  derBoolean,
  derCommonNameName,
  derExplicit,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  encodeName,
  NAME,
  type NameAttribute,
} from "./der-writer.js";
export { X509_ERROR_CODES, type X509ErrorCode } from "./error-codes.js";
export { X509Error } from "./errors.js";
export {
  authorityKeyIdExtension,
  type CertificateExtension,
  caBasicConstraintsExtension,
  encodeExtension,
  extKeyUsageExtension,
  type GeneralNames,
  KEY_USAGE,
  keyIdentifier,
  keyUsageExtension,
  leafBasicConstraintsExtension,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  X509_OIDS,
} from "./extensions.js";
export { type Crl, certificateExtensions, parseCrl, serialHex, signatureAlgorithmOid } from "./parse.js";
export { checkedSpki, spkiOfKey } from "./public-key.js";
