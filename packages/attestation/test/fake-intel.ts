import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from "node:crypto";
import {
  caBasicConstraintsExtension,
  ecdsaSigner,
  encodeName,
  leafBasicConstraintsExtension,
  NAME,
  type NameAttribute,
  signCertificate,
  signCrl,
  spkiOfKey,
} from "@contrast/x509";
import type { SignedCollateral } from "../src/tdx/collateral-documents.js";

// A self-made "Intel SGX Root CA" and "Intel SGX TCB Signing" certificate (ECDSA P-256 with
// SHA-256, as Intel's), to sign altered collateral. Verification only accepts it when a test
// passes its root explicitly: the pinned Intel root rejects it.

const ROOT_NAME: NameAttribute[] = [
  [NAME.commonName, "Intel SGX Root CA"],
  [NAME.organization, "Intel Corporation"],
  [NAME.country, "US"],
];
const SIGNER_NAME: NameAttribute[] = [
  [NAME.commonName, "Intel SGX TCB Signing"],
  [NAME.organization, "Intel Corporation"],
  [NAME.country, "US"],
];

const VALIDITY = { notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2040-01-01T00:00:00Z") };

function certificate(
  serial: number,
  issuer: NameAttribute[],
  subject: NameAttribute[],
  publicKey: KeyObject,
  issuerKey: KeyObject,
  ca: boolean,
): X509Certificate {
  const der = signCertificate({
    serial,
    signer: ecdsaSigner(issuerKey),
    issuer: encodeName(issuer, "utf8"),
    subject: encodeName(subject, "utf8"),
    ...VALIDITY,
    subjectPublicKeyInfo: spkiOfKey(publicKey),
    extensions: [ca ? caBasicConstraintsExtension() : leafBasicConstraintsExtension()],
  });
  return new X509Certificate(Buffer.from(der));
}

export interface FakeIntel {
  root: X509Certificate;
  signer: X509Certificate;
  /** PEM: signing certificate, then root (an issuer chain header's content). */
  chain: string;
  sign(body: string): SignedCollateral;
  /** A root CA CRL valid 2020–2040 that revokes the given serials. */
  rootCrl(revoked: readonly number[]): Uint8Array;
}

export function fakeIntel(): FakeIntel {
  const rootKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signerKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const root = certificate(1, ROOT_NAME, ROOT_NAME, rootKeys.publicKey, rootKeys.privateKey, true);
  const signer = certificate(0x5150, ROOT_NAME, SIGNER_NAME, signerKeys.publicKey, rootKeys.privateKey, false);
  return {
    root,
    signer,
    chain: `${signer.toString()}${root.toString()}`,
    sign: (body) => ({
      body,
      signature: Buffer.from(
        sign("sha256", Buffer.from(body), { key: signerKeys.privateKey, dsaEncoding: "ieee-p1363" }),
      ).toString("hex"),
    }),
    rootCrl: (revoked) =>
      signCrl({
        signer: ecdsaSigner(rootKeys.privateKey),
        issuer: encodeName(ROOT_NAME, "utf8"),
        thisUpdate: VALIDITY.notBefore,
        nextUpdate: VALIDITY.notAfter,
        revoked: revoked.map((serial) => ({ serial, date: new Date("2021-01-01T00:00:00Z") })),
      }),
  };
}
