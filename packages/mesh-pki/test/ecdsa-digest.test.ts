import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { concatBytes, DerTag, encodeDer, readDerChildren, readDerExact, toHex } from "@contrast/core";
import { derSequence } from "@contrast/x509";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ecdsaCurveParameters, verifyEcdsaDigest } from "../src/ecdsa-digest.js";
import { FUZZ_RUNS, openssl, scratchDir } from "./helpers.js";

const CURVES = [
  { name: "P-256", node: "prime256v1", hash: "sha256" },
  { name: "P-384", node: "secp384r1", hash: "sha384" },
  { name: "P-521", node: "secp521r1", hash: "sha512" },
] as const;

const keys = Object.fromEntries(
  CURVES.map((c) => [c.name, generateKeyPairSync("ec", { namedCurve: c.node })] as const),
) as Record<(typeof CURVES)[number]["name"], { publicKey: KeyObject; privateKey: KeyObject }>;

function digestOf(hash: string, message: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash).update(message).digest());
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

function integer(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return encodeDer(DerTag.INTEGER, Uint8Array.from(Buffer.from(hex, "hex")));
}

describe("ECDSA verification over a given digest", () => {
  const dir = scratchDir();

  it("uses OpenSSL's domain parameters", () => {
    for (const c of CURVES) {
      const params = ecdsaCurveParameters(c.name);
      const text = openssl(["ecparam", "-name", c.node, "-param_enc", "explicit", "-text", "-noout"]).toString();
      const fieldHex = (label: string) =>
        new RegExp(`${label}:\\s*([0-9a-f:\\s]+?)\\n\\S`).exec(text)?.[1]?.replace(/[\s:]/g, "") ?? "";
      const field = (label: string) => BigInt(`0x${fieldHex(label)}`);
      expect(params?.p).toBe(field("Prime"));
      expect(params?.b).toBe(field("B"));
      expect(params?.n).toBe(field("Order"));
      const width = Math.ceil((params?.bits ?? 0) / 8) * 2;
      const coordinate = (v: bigint | undefined) => (v ?? 0n).toString(16).padStart(width, "0");
      expect(fieldHex("Generator \\(uncompressed\\)")).toBe(`04${coordinate(params?.gx)}${coordinate(params?.gy)}`);
    }
  });

  it("accepts OpenSSL's signatures over the digest and refuses them for another digest or key (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CURVES), fc.uint8Array({ maxLength: 200 }), (c, message) => {
        const digest = digestOf(c.hash, message);
        const sig = new Uint8Array(sign(c.hash, message, { key: keys[c.name].privateKey, dsaEncoding: "der" }));
        expect(verifyEcdsaDigest(keys[c.name].publicKey, digest, sig)).toBe(true);
        const other = new Uint8Array(digest);
        other[0] = (other[0] as number) ^ 1;
        expect(verifyEcdsaDigest(keys[c.name].publicKey, other, sig)).toBe(false);
        const wrongKey = keys[c.name === "P-256" ? "P-384" : "P-256"].publicKey;
        expect(verifyEcdsaDigest(wrongKey, digest, sig)).toBe(false);
      }),
      { numRuns: Math.min(FUZZ_RUNS, 60) },
    );
  });

  it("takes the digest's leftmost bits when it is longer than the order, as Go and OpenSSL do", () => {
    const message = new TextEncoder().encode("long digest");
    const sig = new Uint8Array(sign("sha512", message, { key: keys["P-256"].privateKey, dsaEncoding: "der" }));
    expect(verifyEcdsaDigest(keys["P-256"].publicKey, digestOf("sha512", message), sig)).toBe(true);
    // A 32-byte digest on P-384 is used whole (transition hashes with a P-384 transaction key).
    const short = new Uint8Array(sign("sha256", message, { key: keys["P-384"].privateKey, dsaEncoding: "der" }));
    expect(verifyEcdsaDigest(keys["P-384"].publicKey, digestOf("sha256", message), short)).toBe(true);
  });

  it("verifies what openssl pkeyutl signs over a raw digest", () => {
    const digest = digestOf("sha256", new TextEncoder().encode("raw"));
    const keyFile = join(dir, "k.pem");
    writeFileSync(keyFile, keys["P-384"].privateKey.export({ type: "pkcs8", format: "pem" }) as string);
    const inFile = join(dir, "d.bin");
    writeFileSync(inFile, digest);
    const sig = new Uint8Array(openssl(["pkeyutl", "-sign", "-inkey", keyFile, "-in", inFile]));
    expect(verifyEcdsaDigest(keys["P-384"].publicKey, digest, sig)).toBe(true);
  });

  it("accepts the other s of a signature (Go does not demand low s) but refuses r or s out of range", () => {
    const c = ecdsaCurveParameters("P-256");
    if (c === undefined) throw new Error("no P-256");
    const message = new TextEncoder().encode("malleable");
    const digest = digestOf("sha256", message);
    const der = new Uint8Array(sign("sha256", message, { key: keys["P-256"].privateKey, dsaEncoding: "der" }));
    const [r, s] = readDerChildren(readDerExact(der, DerTag.SEQUENCE)).map((e) => toBigInt(e.value));
    if (r === undefined || s === undefined) throw new Error("bad signature");
    const pub = keys["P-256"].publicKey;
    expect(verifyEcdsaDigest(pub, digest, derSequence(integer(r), integer(c.n - s)))).toBe(true);
    expect(verifyEcdsaDigest(pub, digest, derSequence(integer(r + c.n), integer(s)))).toBe(false);
    expect(verifyEcdsaDigest(pub, digest, derSequence(integer(r), integer(s + c.n)))).toBe(false);
    expect(verifyEcdsaDigest(pub, digest, derSequence(integer(0n), integer(s)))).toBe(false);
    expect(verifyEcdsaDigest(pub, digest, derSequence(integer(r), integer(0n)))).toBe(false);
  });

  it("refuses non-DER signatures: padded integers, negative integers, trailing bytes, a third field", () => {
    const message = new TextEncoder().encode("strict");
    const digest = digestOf("sha256", message);
    const pub = keys["P-256"].publicKey;
    const der = new Uint8Array(sign("sha256", message, { key: keys["P-256"].privateKey, dsaEncoding: "der" }));
    const [r, s] = readDerChildren(readDerExact(der, DerTag.SEQUENCE));
    if (r === undefined || s === undefined) throw new Error("bad signature");
    const int = (v: Uint8Array) => encodeDer(DerTag.INTEGER, v);
    expect(verifyEcdsaDigest(pub, digest, derSequence(int(r.value), int(s.value)))).toBe(true);
    // One more leading zero is never minimal DER, whatever r's first byte.
    expect(
      verifyEcdsaDigest(pub, digest, derSequence(int(concatBytes(new Uint8Array([0]), r.value)), int(s.value))),
    ).toBe(false);
    expect(verifyEcdsaDigest(pub, digest, derSequence(int(new Uint8Array([0, 0, 1])), int(s.value)))).toBe(false);
    expect(verifyEcdsaDigest(pub, digest, derSequence(int(new Uint8Array([0x80, 1])), int(s.value)))).toBe(false);
    expect(verifyEcdsaDigest(pub, digest, concatBytes(der, new Uint8Array([0])))).toBe(false);
    expect(verifyEcdsaDigest(pub, digest, derSequence(int(r.value), int(s.value), int(new Uint8Array([1]))))).toBe(
      false,
    );
    expect(verifyEcdsaDigest(pub, digest, new Uint8Array())).toBe(false);
  });

  it("refuses keys it cannot use: RSA, Ed25519", () => {
    const digest = new Uint8Array(32);
    const sig = derSequence(integer(1n), integer(1n));
    expect(verifyEcdsaDigest(generateKeyPairSync("ed25519").publicKey, digest, sig)).toBe(false);
    expect(verifyEcdsaDigest(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey, digest, sig)).toBe(false);
  });

  it("never throws and never accepts arbitrary bytes as a signature (fuzz)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (sig, digest) => {
        expect(verifyEcdsaDigest(keys["P-384"].publicKey, digest, sig)).toBe(false);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("never accepts a signature with one flipped bit (property)", () => {
    const message = new TextEncoder().encode("flip");
    const digest = digestOf("sha384", message);
    const der = new Uint8Array(sign("sha384", message, { key: keys["P-384"].privateKey, dsaEncoding: "der" }));
    fc.assert(
      fc.property(fc.nat(der.length * 8 - 1), (bit) => {
        const bad = new Uint8Array(der);
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(verifyEcdsaDigest(keys["P-384"].publicKey, digest, bad)).toBe(false);
      }),
      { numRuns: Math.min(FUZZ_RUNS, der.length * 8) },
    );
  });
});
