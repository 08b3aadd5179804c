import { execFileSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../src/bytes.js";
import { DerTag, decodeOid, encodeDer, encodeOid, readDer, readDerChildren, readDerExact } from "../src/der.js";
import { decodePem, decodePemBlock, encodePem } from "../src/pem.js";
import { errorCode, FUZZ_RUNS } from "./helpers.js";

const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
const spkiPem = publicKey.export({ type: "spki", format: "pem" }) as string;
const spkiDer = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
const sec1Pem = privateKey.export({ type: "sec1", format: "pem" }) as string;

describe("PEM", () => {
  it("writes exactly what Node/OpenSSL writes", () => {
    expect(encodePem("PUBLIC KEY", spkiDer)).toBe(spkiPem);
  });

  it("reads OpenSSL output and finds blocks among other text", () => {
    const block = decodePemBlock(spkiPem, "PUBLIC KEY");
    expect(block.der).toEqual(spkiDer);
    const both = `some explanatory text\n${spkiPem}\r\n${sec1Pem}trailer`;
    expect(decodePem(both).map((b) => b.type)).toEqual(["PUBLIC KEY", "EC PRIVATE KEY"]);
  });

  it("reads a certificate made by the openssl CLI", () => {
    const pem = execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "/dev/null",
      "-subj",
      "/CN=pem-test",
      "-days",
      "1",
    ]).toString();
    const block = decodePemBlock(pem, "CERTIFICATE");
    expect(new X509Certificate(block.der).subject).toBe("CN=pem-test");
    expect(readDerExact(block.der, DerTag.SEQUENCE).constructed).toBe(true);
  });

  it("gives precise codes for wrong, missing, multiple, damaged and encrypted blocks", () => {
    expect(errorCode(() => decodePemBlock(spkiPem, "EC PRIVATE KEY"))).toBe("PEM_WRONG_TYPE");
    expect(errorCode(() => decodePemBlock("no pem here", "CERTIFICATE"))).toBe("PEM_NOT_FOUND");
    expect(errorCode(() => decodePemBlock(spkiPem + spkiPem, "PUBLIC KEY"))).toBe("PEM_MULTIPLE_BLOCKS");
    expect(errorCode(() => decodePem(spkiPem.replace("END PUBLIC", "END PRIVATE")))).toBe("PEM_MALFORMED");
    expect(errorCode(() => decodePem(spkiPem.replace(/-----END[^\n]*\n/, "")))).toBe("PEM_MALFORMED");
    expect(errorCode(() => decodePem(spkiPem.replace(/\n[A-Za-z0-9]/, "\n!")))).toBe("PEM_MALFORMED");
    const encrypted =
      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    expect(errorCode(() => decodePem(encrypted))).toBe("PEM_ENCRYPTED");
  });

  it("writes the armour Node/OpenSSL write for every body length, line breaks at 64 (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (der) => {
        const b64 = Buffer.from(der).toString("base64");
        const lines = b64.match(/.{1,64}/g) ?? [];
        expect(encodePem("CERTIFICATE", der)).toBe(
          `-----BEGIN CERTIFICATE-----\n${lines.map((l) => `${l}\n`).join("")}-----END CERTIFICATE-----\n`,
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
    // Exactly one and two full lines, and nothing: no empty line before END.
    expect(encodePem("X", new Uint8Array(48))).toBe(`-----BEGIN X-----\n${"A".repeat(64)}\n-----END X-----\n`);
    expect(encodePem("X", new Uint8Array(96)).split("\n")).toHaveLength(5);
    expect(encodePem("X", new Uint8Array(0))).toBe("-----BEGIN X-----\n-----END X-----\n");
  });

  it("refuses an invalid label every time, also after valid ones were written", () => {
    for (let i = 0; i < 3; i++) {
      encodePem("CERTIFICATE", new Uint8Array(3));
      expect(errorCode(() => encodePem("BAD--LABEL", new Uint8Array(3)))).toBe("PEM_INVALID_LABEL");
      expect(errorCode(() => encodePem("x\n-----END X", new Uint8Array(3)))).toBe("PEM_INVALID_LABEL");
    }
  });

  it("round-trips arbitrary DER bytes and labels", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom("CERTIFICATE", "EC PRIVATE KEY", "RSA PUBLIC KEY", "X509 CRL"),
        (der, type) => {
          expect(decodePemBlock(encodePem(type, der), type)).toEqual({ type, der });
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("never fails with an uncoded error on arbitrary text (fuzz)", () => {
    const pemish = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.string(), fc.string(), fc.string())
        .map(([a, b, c]) => `-----BEGIN ${a}-----\n${b}\n-----END ${c}-----\n`),
    );
    fc.assert(
      fc.property(pemish, (s) => {
        const c = errorCode(() => decodePem(s));
        expect(c === undefined || c.startsWith("PEM_")).toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("DER", () => {
  it("walks a real SubjectPublicKeyInfo", () => {
    const spki = readDerExact(spkiDer, DerTag.SEQUENCE);
    const [algorithm, key] = readDerChildren(spki);
    expect(algorithm?.tag).toBe(DerTag.SEQUENCE);
    expect(key?.tag).toBe(DerTag.BIT_STRING);
    const oids = readDerChildren(algorithm as never).map((el) => decodeOid(el.value));
    expect(oids).toEqual(["1.2.840.10045.2.1", "1.3.132.0.34"]); // id-ecPublicKey, secp384r1
  });

  it("encodes lengths minimally and reads them back", () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536]) {
      const el = readDerExact(encodeDer(DerTag.OCTET_STRING, new Uint8Array(n)));
      expect(el.value.length).toBe(n);
      expect(el.headerLength).toBe(n < 128 ? 2 : n < 256 ? 3 : n < 65536 ? 4 : 5);
    }
  });

  it("rejects indefinite, non-minimal, oversized and truncated lengths", () => {
    expect(errorCode(() => readDer(new Uint8Array([0x30, 0x80, 0, 0])))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDer(new Uint8Array([0x04, 0x81, 0x05, 1, 2, 3, 4, 5])))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDer(new Uint8Array([0x04, 0x82, 0x00, 0x80])))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDer(new Uint8Array([0x04, 0x85, 1, 1, 1, 1, 1])))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDer(new Uint8Array([0x04, 0x05, 1])))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDer(new Uint8Array([0x1f, 0x01, 0x00])))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDerExact(new Uint8Array([0x05, 0x00, 0x00])))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDerExact(new Uint8Array([0x05, 0x00]), DerTag.SEQUENCE))).toBe("DER_MALFORMED");
    expect(errorCode(() => readDerChildren(readDer(new Uint8Array([0x04, 0x00]))))).toBe("DER_MALFORMED");
  });

  it("encodes and decodes the project's OIDs as OpenSSL does", () => {
    // 1.3.9901.2.1 is the SNP evidence extension: 06 05 2b cd 2d 02 01.
    expect(toHex(encodeDer(DerTag.OID, encodeOid("1.3.9901.2.1")))).toBe("06052bcd2d0201");
    const out = join(mkdtempSync(join(tmpdir(), "oid-")), "oid.der");
    execFileSync("openssl", ["asn1parse", "-genstr", "OID:1.3.9901.3.1", "-out", out, "-noout"]);
    const asn1 = readFileSync(out);
    expect(toHex(new Uint8Array(asn1))).toBe(toHex(encodeDer(DerTag.OID, encodeOid("1.3.9901.3.1"))));
    expect(decodeOid(encodeOid("2.999.1234567"))).toBe("2.999.1234567");
    for (const bad of ["1", "3.1", "1.40", "1.2.x", "1..2", "01.2"]) {
      expect(errorCode(() => encodeOid(bad))).toBe("DER_INVALID_OID");
    }
    expect(errorCode(() => decodeOid(new Uint8Array([0x2b, 0x80, 0x01])))).toBe("DER_MALFORMED");
    expect(errorCode(() => decodeOid(new Uint8Array([0x2b, 0x81])))).toBe("DER_MALFORMED");
  });

  it("round-trips OIDs (property)", () => {
    const oid = fc
      .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat(), { maxLength: 8 }))
      .map(([a, b, rest]) => [a, b, ...rest].join("."));
    fc.assert(
      fc.property(oid, (o) => {
        expect(decodeOid(encodeOid(o))).toBe(o);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("never reads out of bounds or throws uncoded errors on arbitrary bytes (fuzz)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const walk = (el: ReturnType<typeof readDer>, depth: number): void => {
          expect(el.end).toBeLessThanOrEqual(bytes.length + 64);
          if (el.constructed && depth < 8) for (const c of readDerChildren(el)) walk(c, depth + 1);
        };
        const c = errorCode(() => walk(readDer(bytes), 0));
        expect(c === undefined || c === "DER_MALFORMED").toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("parses keys that Node can load back", () => {
    const el = readDerExact(spkiDer);
    const again = createPublicKey({
      key: Buffer.from(spkiDer.subarray(el.offset, el.end)),
      format: "der",
      type: "spki",
    });
    expect(again.asymmetricKeyType).toBe("ec");
  });
});
