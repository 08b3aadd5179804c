import { spawnSync } from "node:child_process";
import { verify as cryptoVerify, generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DerTag, encodeDer, isContrastError } from "@contrast/core";
import { childEnv, fuzzRuns, openssl, scratchDir } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ecdsaSigner, rsaPssSigner, signCertificate } from "../src/certificate.js";
import { signCrl } from "../src/crl.js";
import { derCommonNameName, derSequence } from "../src/der-writer.js";
import { caBasicConstraintsExtension, encodeExtension, KEY_USAGE, keyUsageExtension } from "../src/extensions.js";
import { certificateExtensions, parseCrl, serialHex, signatureAlgorithmOid } from "../src/parse.js";
import { spkiOfKey } from "../src/public-key.js";
import { pemFile, TESTDATA } from "./helpers.js";

const tdx = (name: string) => new Uint8Array(readFileSync(join(TESTDATA, "attestation/tdx", name)));
const snp = (name: string) => new Uint8Array(readFileSync(join(TESTDATA, "attestation/snp", name)));

/** What `openssl crl -CAfile` says of a CRL's signature (it reports on stderr, exit status 0 either way). */
function crlVerdict(crlFile: string, caFile: string): string {
  const r = spawnSync("openssl", ["crl", "-in", crlFile, "-CAfile", caFile, "-noout"], { env: childEnv() });
  return r.stderr.toString().trim().split("\n")[0] ?? "";
}

const THIS_UPDATE = new Date("2025-01-01T00:00:00Z");
const NEXT_UPDATE = new Date("2025-02-01T00:00:00Z");

function ca(kind: "ec" | "rsa") {
  const key =
    kind === "ec"
      ? generateKeyPairSync("ec", { namedCurve: "P-384" })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signer = kind === "ec" ? ecdsaSigner(key.privateKey) : rsaPssSigner(key.privateKey);
  const name = derCommonNameName(`CRL test CA ${kind}`);
  const cert = signCertificate({
    serial: 7,
    signer,
    issuer: name,
    subject: name,
    notBefore: new Date("2024-01-01T00:00:00Z"),
    notAfter: new Date("2034-01-01T00:00:00Z"),
    subjectPublicKeyInfo: spkiOfKey(key.publicKey),
    extensions: [keyUsageExtension([KEY_USAGE.keyCertSign, 6]), caBasicConstraintsExtension()],
  });
  return { key, signer, name, cert };
}

describe("CRL building", () => {
  it("writes CRLs that openssl verifies with the issuer and reads back the revoked serials", () => {
    const dir = scratchDir();
    for (const kind of ["ec", "rsa"] as const) {
      const c = ca(kind);
      const der = signCrl({
        signer: c.signer,
        issuer: c.name,
        thisUpdate: THIS_UPDATE,
        nextUpdate: NEXT_UPDATE,
        revoked: [
          { serial: 0x10001, date: THIS_UPDATE },
          { serial: new Uint8Array([0, 0xde, 0xad]), date: THIS_UPDATE },
        ],
      });
      const caFile = pemFile(dir, "ca.pem", "CERTIFICATE", c.cert);
      const crlFile = pemFile(dir, "crl.pem", "X509 CRL", der);
      const out = openssl(["crl", "-in", crlFile, "-CAfile", caFile, "-noout", "-text"], {
        stdio: ["pipe", "pipe", "pipe"],
      }).toString();
      expect(out).toMatch(/Serial Number: 010001/);
      expect(out).toMatch(/Serial Number: DEAD/);
      expect(out).toMatch(/Version 2/);
      expect(crlVerdict(crlFile, caFile)).toBe("verify OK");

      const crl = parseCrl(der);
      expect([...crl.revoked]).toEqual(["10001", "dead"]);
      expect(crl.thisUpdate).toEqual(THIS_UPDATE);
      expect(crl.nextUpdate).toEqual(NEXT_UPDATE);
      expect(Buffer.from(crl.issuer)).toEqual(Buffer.from(c.name));
      const verifyKey =
        kind === "ec"
          ? c.key.publicKey
          : { key: c.key.publicKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 48 };
      expect(cryptoVerify("sha384", crl.tbs, verifyKey, crl.signature)).toBe(true);

      // A changed byte in the signed part makes openssl refuse the signature.
      const tampered = new Uint8Array(der);
      const at = Buffer.from(der).indexOf(Buffer.from([0xde, 0xad]));
      tampered[at] = 0xdf;
      const badFile = pemFile(dir, "bad.pem", "X509 CRL", tampered);
      expect(crlVerdict(badFile, caFile)).toBe("verify failure");
    }
  });

  it("round-trips any revoked list through parseCrl (property)", () => {
    const c = ca("ec");
    fc.assert(
      fc.property(fc.uniqueArray(fc.bigInt({ min: 0n, max: (1n << 159n) - 1n }), { maxLength: 8 }), (serials) => {
        const crl = parseCrl(
          signCrl({
            signer: c.signer,
            issuer: c.name,
            thisUpdate: THIS_UPDATE,
            nextUpdate: NEXT_UPDATE,
            revoked: serials.map((serial) => ({ serial, date: THIS_UPDATE })),
          }),
        );
        expect([...crl.revoked].sort()).toEqual(serials.map((s) => s.toString(16)).sort());
      }),
      { numRuns: fuzzRuns(50) },
    );
  });
});

describe("X.509 parsing", () => {
  it("reads Intel's real CRLs", () => {
    const pck = parseCrl(tdx("gtg-pckcrl-platform.der"));
    // openssl: lastUpdate=Jun  8 07:27:52 2023 GMT, nextUpdate=Jul  8 07:27:52 2023 GMT
    expect(pck.thisUpdate.toISOString()).toBe("2023-06-08T07:27:52.000Z");
    expect(pck.nextUpdate?.toISOString()).toBe("2023-07-08T07:27:52.000Z");
    expect(pck.signatureAlgorithm).toBe("1.2.840.10045.4.3.2");
    expect(pck.revoked.size).toBeGreaterThan(0);
    const root = parseCrl(tdx("gtg-rootcrl.der"));
    expect(root.revoked.size).toBe(0);
  });

  it("reads AMD's extensions from a real VCEK, as openssl lists them", () => {
    const der = snp("gsg-milan-vcek.der");
    const ext = certificateExtensions(der);
    expect(signatureAlgorithmOid(der)).toBe("1.2.840.113549.1.1.10");
    const dir = scratchDir();
    const file = join(dir, "vcek.der");
    writeFileSync(file, der);
    const text = openssl(["x509", "-inform", "DER", "-in", file, "-noout", "-text"]).toString();
    for (const oid of ext.keys()) {
      if (oid.startsWith("1.3.6.1.4.1.3704.")) expect(text).toContain(oid);
    }
    expect(ext.has("1.3.6.1.4.1.3704.1.4")).toBe(true); // hwID
  });

  it("refuses a certificate that repeats an extension", () => {
    const c = ca("ec");
    const ext = encodeExtension({ oid: "1.2.3.4", value: derSequence() });
    const der = signCertificate({
      serial: 1,
      signer: c.signer,
      issuer: c.name,
      subject: c.name,
      notBefore: THIS_UPDATE,
      notAfter: NEXT_UPDATE,
      subjectPublicKeyInfo: spkiOfKey(c.key.publicKey),
      extensions: [ext, ext],
    });
    expect(() => certificateExtensions(der)).toThrow(expect.objectContaining({ code: "X509_MALFORMED" }));
  });

  it("normalises serial numbers", () => {
    expect(serialHex("00AB01")).toBe("ab01");
    expect(serialHex(new Uint8Array([0, 0]))).toBe("0");
  });

  it("turns damaged CRLs and certificates into coded errors, never a crash (fuzz)", () => {
    const inputs = [tdx("gtg-pckcrl-platform.der"), tdx("gtg-rootcrl.der"), snp("gsg-milan-vcek.der")];
    const mutated = fc
      .tuple(
        fc.constantFrom(...inputs),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
      )
      .map(([bytes, flips]) => {
        const out = new Uint8Array(bytes);
        for (const [at, xor] of flips) out[at % out.length] = (out[at % out.length] as number) ^ xor;
        return out;
      });
    const truncated = fc
      .tuple(fc.constantFrom(...inputs), fc.nat())
      .map(([bytes, n]) => bytes.subarray(0, n % bytes.length));
    const junk = fc.uint8Array({ maxLength: 300 }).map((b) => encodeDer(DerTag.SEQUENCE, b));
    fc.assert(
      fc.property(fc.oneof(mutated, truncated, junk, fc.uint8Array({ maxLength: 64 })), (bytes) => {
        for (const parse of [parseCrl, certificateExtensions, signatureAlgorithmOid]) {
          try {
            parse(bytes);
          } catch (e) {
            expect(isContrastError(e)).toBe(true);
            expect((e as { code: string }).code).toMatch(/^(X509_MALFORMED|DER_MALFORMED|DER_INVALID_OID)$/);
          }
        }
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
