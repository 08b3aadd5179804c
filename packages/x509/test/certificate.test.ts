import { generateKeyPairSync, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectCode, openssl, scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { ecdsaSigner, rsaPssSigner, type Signer, signCertificate } from "../src/certificate.js";
import { derCommonNameName, encodeName, NAME } from "../src/der-writer.js";
import {
  authorityKeyIdExtension,
  caBasicConstraintsExtension,
  extKeyUsageExtension,
  KEY_USAGE,
  keyIdentifier,
  keyUsageExtension,
  leafBasicConstraintsExtension,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  X509_OIDS,
} from "../src/extensions.js";
import { certificateExtensions } from "../src/parse.js";
import { spkiOfKey } from "../src/public-key.js";
import { pemFile } from "./helpers.js";

const NOT_BEFORE = new Date("2025-01-01T00:00:00Z");
const NOT_AFTER = new Date("2035-01-01T00:00:00Z");

function selfSigned(key: { publicKey: KeyObject }, signer: Signer, cn: string): Uint8Array {
  const name = derCommonNameName(cn);
  const spki = spkiOfKey(key.publicKey);
  return signCertificate({
    serial: 1,
    signer,
    issuer: name,
    subject: name,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    subjectPublicKeyInfo: spki,
    extensions: [
      keyUsageExtension([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign]),
      caBasicConstraintsExtension(),
      subjectKeyIdExtension(keyIdentifier(spki)),
    ],
  });
}

describe("certificate building", () => {
  it("signs with ECDSA on every NIST curve and RSASSA-PSS, and each verifies with its key", () => {
    const cases: [{ publicKey: KeyObject; privateKey: KeyObject }, (k: KeyObject) => Signer, string][] = [
      [generateKeyPairSync("ec", { namedCurve: "P-256" }), ecdsaSigner, "ecdsa-with-SHA256"],
      [generateKeyPairSync("ec", { namedCurve: "P-384" }), ecdsaSigner, "ecdsa-with-SHA384"],
      [generateKeyPairSync("ec", { namedCurve: "P-521" }), ecdsaSigner, "ecdsa-with-SHA512"],
      [generateKeyPairSync("rsa", { modulusLength: 2048 }), (k) => rsaPssSigner(k), "rsassaPss"],
    ];
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const dir = scratchDir();
    for (const [key, signerOf, algorithm] of cases) {
      const der = selfSigned(key, signerOf(key.privateKey), "x509 test");
      const cert = new X509Certificate(der);
      expect(cert.verify(key.publicKey)).toBe(true);
      expect(cert.verify(other.publicKey)).toBe(false);
      const tampered = new Uint8Array(der);
      tampered[tampered.length - 3] = (tampered[tampered.length - 3] as number) ^ 1;
      expect(new X509Certificate(tampered).verify(key.publicKey)).toBe(false);
      // openssl checks the self-signature and reads the algorithm as written.
      const file = pemFile(dir, "ca.pem", "CERTIFICATE", der);
      const verify = openssl(["verify", "-attime", "1800000000", "-CAfile", file, file]).toString();
      expect(verify).toContain(": OK");
      expect(openssl(["x509", "-in", file, "-noout", "-text"]).toString()).toContain(algorithm);
    }
  });

  it("writes AMD's RSASSA-PSS parameters: SHA-384, MGF1 with SHA-384, salt 48, trailer 1", () => {
    const key = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const dir = scratchDir();
    const file = pemFile(dir, "pss.pem", "CERTIFICATE", selfSigned(key, rsaPssSigner(key.privateKey), "pss"));
    const text = openssl(["x509", "-in", file, "-noout", "-text"]).toString();
    expect(text).toMatch(/Hash Algorithm: sha384/);
    expect(text).toMatch(/Mask Algorithm: mgf1 with sha384/);
    expect(text).toMatch(/Salt Length: 0x30/);
    expect(text).toMatch(/Trailer Field: 0x01/);
  });

  it("computes the subject key identifier as openssl does (RFC 5280 method 1)", () => {
    const dir = scratchDir();
    for (const curve of ["P-256", "P-384"]) {
      const key = generateKeyPairSync("ec", { namedCurve: curve });
      const keyFile = join(dir, "key.pem");
      writeFileSync(keyFile, key.privateKey.export({ type: "pkcs8", format: "pem" }));
      const certFile = join(dir, "openssl.pem");
      openssl([
        "req",
        "-x509",
        "-new",
        "-key",
        keyFile,
        "-subj",
        "/CN=ski",
        "-days",
        "1",
        "-out",
        certFile,
        "-addext",
        "subjectKeyIdentifier=hash",
      ]);
      const ski = certificateExtensions(new Uint8Array(new X509Certificate(readFileSync(certFile)).raw)).get(
        X509_OIDS.subjectKeyIdentifier,
      );
      // extnValue is an OCTET STRING holding the 20-byte identifier.
      expect(Buffer.from(ski as Uint8Array).subarray(2)).toEqual(Buffer.from(keyIdentifier(spkiOfKey(key.publicKey))));
    }
  });

  it("issues a leaf whose chain, key usages and SANs openssl and Node read as written", () => {
    const ca = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const leaf = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const caSpki = spkiOfKey(ca.publicKey);
    const caDer = selfSigned(ca, ecdsaSigner(ca.privateKey), "x509 CA");
    const leafDer = signCertificate({
      serial: new Uint8Array([0x80, 1, 2]),
      signer: ecdsaSigner(ca.privateKey),
      issuer: derCommonNameName("x509 CA"),
      subject: encodeName([
        [NAME.commonName, "web"],
        [NAME.organization, "Contrast"],
      ]),
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      subjectPublicKeyInfo: spkiOfKey(leaf.publicKey),
      extensions: [
        keyUsageExtension([KEY_USAGE.digitalSignature]),
        extKeyUsageExtension([X509_OIDS.clientAuth, X509_OIDS.serverAuth]),
        leafBasicConstraintsExtension(),
        authorityKeyIdExtension(keyIdentifier(caSpki)),
        subjectAltNameExtension(
          { dns: ["web", "*.svc"], ip: [new Uint8Array([10, 0, 0, 7])], uri: ["spiffe://x/y"] },
          false,
        ),
      ],
    });
    const dir = scratchDir();
    const caFile = pemFile(dir, "ca.pem", "CERTIFICATE", caDer);
    const leafFile = pemFile(dir, "leaf.pem", "CERTIFICATE", leafDer);
    expect(
      openssl(["verify", "-attime", "1800000000", "-purpose", "sslserver", "-CAfile", caFile, leafFile]).toString(),
    ).toContain(": OK");
    const cert = new X509Certificate(leafDer);
    expect(cert.serialNumber).toBe("800102");
    expect(cert.subject).toBe("CN=web\nO=Contrast");
    expect(cert.subjectAltName).toBe("DNS:web, DNS:*.svc, IP Address:10.0.0.7, URI:spiffe://x/y");
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"]);
    expect(cert.checkIssued(new X509Certificate(caDer))).toBe(true);
    const text = openssl(["x509", "-in", leafFile, "-noout", "-text"]).toString();
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
  });

  it("refuses keys it cannot sign with", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
    expectCode(() => ecdsaSigner(rsa.privateKey), "X509_SIGNING_KEY_UNSUPPORTED", "input");
    expectCode(() => ecdsaSigner(ec.publicKey), "X509_SIGNING_KEY_UNSUPPORTED", "input");
    expectCode(() => ecdsaSigner(k1.privateKey), "X509_SIGNING_KEY_UNSUPPORTED", "input");
    expectCode(() => rsaPssSigner(ec.privateKey), "X509_SIGNING_KEY_UNSUPPORTED", "input");
    expectCode(() => rsaPssSigner(rsa.publicKey), "X509_SIGNING_KEY_UNSUPPORTED", "input");
  });
});
