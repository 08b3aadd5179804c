import { derSerial, type Serial, type Signer } from "./certificate.js";
import { derBitString, derInteger, derSequence, derTime } from "./der-writer.js";

export interface CrlTemplate {
  readonly signer: Signer;
  /** DER Name of the issuing CA. */
  readonly issuer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked?: readonly { readonly serial: Serial; readonly date: Date }[];
}

const VERSION_2 = derInteger(1);

/**
 * Builds and signs a CertificateList (RFC 5280 §5, v2, without extensions), the shape of the CRLs
 * AMD's KDS and Intel's PCS serve.
 */
export function signCrl(t: CrlTemplate): Uint8Array {
  const entries = (t.revoked ?? []).map((r) => derSequence(derSerial(r.serial), derTime(r.date)));
  const tbs = derSequence(
    VERSION_2,
    t.signer.algorithm,
    t.issuer,
    derTime(t.thisUpdate),
    derTime(t.nextUpdate),
    ...(entries.length > 0 ? [derSequence(...entries)] : []),
  );
  return derSequence(tbs, t.signer.algorithm, derBitString(t.signer.sign(tbs)));
}
