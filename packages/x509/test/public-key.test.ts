import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { toHex } from "@contrast/core";
import { expectCode, fuzzRuns, openssl } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkedSpki, NIST_CURVES, spkiOfKey } from "../src/public-key.js";

function explicitParam(text: string, name: string): bigint {
  const m = new RegExp(`${name}:\\s*([\\s\\S]*?)\\n\\S`).exec(text);
  return BigInt(`0x${(m?.[1] ?? "").replace(/[\s:]/g, "")}`);
}

describe("public key encoding", () => {
  it("uses OpenSSL's curve parameters", () => {
    for (const curve of NIST_CURVES) {
      const text = openssl(["ecparam", "-name", curve.openssl, "-param_enc", "explicit", "-text", "-noout"]).toString();
      expect(explicitParam(text, "Prime")).toBe(curve.p);
      expect(explicitParam(text, "B")).toBe(curve.b);
      expect(explicitParam(text, "A")).toBe(curve.p - 3n);
    }
  });

  it("writes the same SubjectPublicKeyInfo as OpenSSL for every key type", () => {
    const keys = [
      generateKeyPairSync("ec", { namedCurve: "P-256" }),
      generateKeyPairSync("ec", { namedCurve: "P-384" }),
      generateKeyPairSync("ec", { namedCurve: "P-521" }),
      generateKeyPairSync("ec", { namedCurve: "secp256k1" }),
      generateKeyPairSync("ec", { namedCurve: "secp224r1" }),
      generateKeyPairSync("ed25519"),
      generateKeyPairSync("rsa", { modulusLength: 2048 }),
    ];
    for (const { publicKey, privateKey } of keys) {
      const expected = toHex(publicKey.export({ type: "spki", format: "der" }));
      expect(toHex(spkiOfKey(publicKey))).toBe(expected);
      expect(toHex(spkiOfKey(privateKey))).toBe(expected);
      expect(toHex(checkedSpki(publicKey.export({ type: "spki", format: "der" })))).toBe(expected);
    }
  });

  it("rejects EC points off the curve, compressed points and trailing bytes", () => {
    const der = new Uint8Array(
      generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "der" }),
    );
    const offCurve = new Uint8Array(der);
    offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] as number) ^ 1;
    expectCode(() => checkedSpki(offCurve), "X509_PUBLIC_KEY_MALFORMED");
    const compressed = new Uint8Array(der);
    compressed[compressed.length - 65] = 0x02;
    expectCode(() => checkedSpki(compressed), "X509_PUBLIC_KEY_MALFORMED");
    expectCode(() => checkedSpki(new Uint8Array([...der, 0])), "X509_PUBLIC_KEY_MALFORMED");
    expectCode(() => checkedSpki(new Uint8Array([0x30, 0x00])), "X509_PUBLIC_KEY_MALFORMED");
  });

  it("accepts a damaged SubjectPublicKeyInfo only if OpenSSL also accepts the same key (fuzz)", () => {
    const der = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ type: "spki", format: "der" });
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = new Uint8Array(der);
        bad[at] = (bad[at] as number) ^ xor;
        let ours: string | undefined;
        try {
          ours = toHex(checkedSpki(bad));
        } catch (e) {
          expect((e as { code?: string }).code).toBe("X509_PUBLIC_KEY_MALFORMED");
        }
        // Whatever we accept, OpenSSL reads as the same key.
        if (ours !== undefined) {
          const key = createPublicKey({ key: Buffer.from(bad), format: "der", type: "spki" });
          expect(toHex(key.export({ type: "spki", format: "der" }))).toBe(ours);
        }
      }),
      { numRuns: fuzzRuns(200) },
    );
  });
});
