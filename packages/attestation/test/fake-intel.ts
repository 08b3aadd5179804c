import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from "node:crypto";
import { DerTag, encodeDer, encodeOid } from "@contrast/core";
import { derInteger, encodeName, NAME, type NameAttribute } from "@contrast/x509";
import type { SignedCollateral } from "../src/tdx/collateral-documents.js";

// A self-made "Intel SGX Root CA" and "Intel SGX TCB Signing" certificate (ECDSA P-256 with
// SHA-256, as Intel's), to sign altered collateral. Verification only accepts it when a test
// passes its root explicitly: the pinned Intel root rejects it.

const cat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const seq = (...parts: Uint8Array[]) => encodeDer(DerTag.SEQUENCE, cat(parts));
const ECDSA_SHA256 = seq(encodeDer(DerTag.OID, encodeOid("1.2.840.10045.4.3.2")));
const utc = (d: Date) =>
  encodeDer(DerTag.UTC_TIME, new TextEncoder().encode(`${d.toISOString().replace(/[-:T]/g, "").slice(2, 14)}Z`));

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

function signed(tbs: Uint8Array, key: KeyObject): Uint8Array {
  return seq(tbs, ECDSA_SHA256, encodeDer(DerTag.BIT_STRING, cat([new Uint8Array([0]), sign("sha256", tbs, key)])));
}

function certificate(
  serial: number,
  issuer: NameAttribute[],
  subject: NameAttribute[],
  publicKey: KeyObject,
  issuerKey: KeyObject,
  ca: boolean,
): X509Certificate {
  const basicConstraints = seq(
    encodeDer(DerTag.OID, encodeOid("2.5.29.19")),
    encodeDer(DerTag.BOOLEAN, new Uint8Array([0xff])),
    encodeDer(DerTag.OCTET_STRING, seq(...(ca ? [encodeDer(DerTag.BOOLEAN, new Uint8Array([0xff]))] : []))),
  );
  const tbs = seq(
    encodeDer(0xa0, derInteger(2)),
    derInteger(serial),
    ECDSA_SHA256,
    encodeName(issuer, "utf8"),
    seq(utc(new Date("2020-01-01T00:00:00Z")), utc(new Date("2040-01-01T00:00:00Z"))),
    encodeName(subject, "utf8"),
    new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
    encodeDer(0xa3, seq(basicConstraints)),
  );
  return new X509Certificate(Buffer.from(signed(tbs, issuerKey)));
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
    rootCrl: (revoked) => {
      const entries = revoked.map((s) => seq(derInteger(s), utc(new Date("2021-01-01T00:00:00Z"))));
      const tbs = seq(
        derInteger(1),
        ECDSA_SHA256,
        encodeName(ROOT_NAME, "utf8"),
        utc(new Date("2020-01-01T00:00:00Z")),
        utc(new Date("2040-01-01T00:00:00Z")),
        ...(entries.length > 0 ? [seq(...entries)] : []),
      );
      return signed(tbs, rootKeys.privateKey);
    },
  };
}
