import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodePem, toHex } from "@contrast/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeEcPrivateKey,
  encodePublicKey,
  encodeSeedShareOwnerKey,
  generateSeedShareOwnerKey,
  generateWorkloadOwnerKey,
  parseEcPrivateKey,
  parsePublicKey,
  parseSeedShareOwnerKey,
  parseSeedShareOwnerPublicKeyHex,
  parseWorkloadOwnerKey,
  publicKeyDer,
  seedShareOwnerPublicKeyHex,
  workloadOwnerKeyDigest,
} from "../src/keys.js";
import { expectCode, FUZZ_RUNS, openssl, scratchDir, testRandom } from "./helpers.js";

describe("key files", () => {
  const dir = scratchDir();
  const ec = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });

  it("reads an openssl-made SEC1 workload owner key and writes it back byte for byte", () => {
    const file = join(dir, "workload-owner.pem");
    openssl(["ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", file]);
    const pem = readFileSync(file, "utf8");
    expect(pem).toContain("-----BEGIN EC PRIVATE KEY-----");
    const key = parseWorkloadOwnerKey(pem);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(encodeEcPrivateKey(key)).toBe(pem);
  });

  it("computes the owner key digest as SHA-256 of the PKIX DER public key, as openssl does", () => {
    const file = join(dir, "owner.pem");
    writeFileSync(file, encodeEcPrivateKey(ec.privateKey));
    const spki = openssl(["ec", "-in", file, "-pubout", "-outform", "DER"]);
    expect(workloadOwnerKeyDigest(ec.privateKey)).toBe(createHash("sha256").update(spki).digest("hex"));
    expect(workloadOwnerKeyDigest(ec.publicKey)).toBe(workloadOwnerKeyDigest(ec.privateKey));
  });

  it("reads and writes PKCS#1 RSA seed share owner keys, and openssl reads them", () => {
    const pem = encodeSeedShareOwnerKey(rsa.privateKey);
    expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const file = join(dir, "seedshare-owner.pem");
    writeFileSync(file, pem);
    expect(openssl(["rsa", "-in", file, "-check", "-noout"]).toString()).toContain("RSA key ok");
    const back = parseSeedShareOwnerKey(pem);
    expect(encodeSeedShareOwnerKey(back)).toBe(pem);
    // hex PKCS#1 public key, as in the manifest's SeedshareOwnerPubKeys
    const pkcs1 = openssl(["rsa", "-in", file, "-RSAPublicKey_out", "-outform", "DER"]);
    expect(seedShareOwnerPublicKeyHex(back)).toBe(pkcs1.toString("hex"));
    const pub = parseSeedShareOwnerPublicKeyHex(pkcs1.toString("hex"));
    expect(toHex(publicKeyDer(pub))).toBe(toHex(publicKeyDer(rsa.publicKey)));
  });

  it("reads and writes PKIX public keys", () => {
    const pem = encodePublicKey(ec.privateKey);
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(toHex(publicKeyDer(parsePublicKey(pem)))).toBe(toHex(publicKeyDer(ec.publicKey)));
    const file = join(dir, "pub.pem");
    writeFileSync(file, pem);
    expect(openssl(["pkey", "-pubin", "-in", file, "-outform", "PEM"]).toString()).toBe(pem);
  });

  it("generates owner keys of the upstream types", async () => {
    const owner = generateWorkloadOwnerKey(testRandom("owner"));
    expect(owner.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(workloadOwnerKeyDigest(generateWorkloadOwnerKey(testRandom("owner")))).toBe(workloadOwnerKeyDigest(owner));
    const share = await generateSeedShareOwnerKey();
    expect(share.asymmetricKeyDetails?.modulusLength).toBe(4096);
    await expect(generateSeedShareOwnerKey(1024)).rejects.toMatchObject({ code: "KEY_TOO_SMALL" });
  }, 60_000);

  it("names the wrong key type for a role", () => {
    const rsaPem = encodeSeedShareOwnerKey(rsa.privateKey);
    const ecPem = encodeEcPrivateKey(ec.privateKey);
    expectCode(() => parseWorkloadOwnerKey(rsaPem), "KEY_WRONG_TYPE");
    expectCode(() => parseSeedShareOwnerKey(ecPem), "KEY_WRONG_TYPE");
    expectCode(() => parseSeedShareOwnerKey(encodePublicKey(rsa.publicKey)), "KEY_WRONG_TYPE");
    // PKCS#8 "PRIVATE KEY" is not what upstream writes for either role.
    const pkcs8 = ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expectCode(() => parseWorkloadOwnerKey(pkcs8), "KEY_WRONG_TYPE");
    // An EC key on a curve Contrast does not use, wrapped as SEC1.
    const k256 = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
    expectCode(
      () => parseWorkloadOwnerKey(encodePem("EC PRIVATE KEY", k256.privateKey.export({ type: "sec1", format: "der" }))),
      "KEY_WRONG_TYPE",
    );
    expectCode(() => workloadOwnerKeyDigest(rsa.publicKey), "KEY_WRONG_TYPE");
    expectCode(() => seedShareOwnerPublicKeyHex(ec.publicKey), "KEY_WRONG_TYPE");
    expectCode(() => encodeEcPrivateKey(ec.publicKey), "KEY_WRONG_TYPE");
    expectCode(() => encodeSeedShareOwnerKey(rsa.publicKey), "KEY_WRONG_TYPE");
  });

  it("rejects RSA keys below 2048 bits", () => {
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expectCode(
      () =>
        parseSeedShareOwnerKey(encodePem("RSA PRIVATE KEY", small.privateKey.export({ type: "pkcs1", format: "der" }))),
      "KEY_TOO_SMALL",
    );
    const hex = toHex(createPublicKey(small.privateKey).export({ type: "pkcs1", format: "der" }));
    expectCode(() => parseSeedShareOwnerPublicKeyHex(hex), "KEY_TOO_SMALL");
  });

  it("reports malformed PEM and DER as KEY_MALFORMED", () => {
    expectCode(() => parseWorkloadOwnerKey(""), "KEY_MALFORMED");
    expectCode(
      () => parseWorkloadOwnerKey("-----BEGIN EC PRIVATE KEY-----\nnot base64!\n-----END EC PRIVATE KEY-----\n"),
      "KEY_MALFORMED",
    );
    expectCode(() => parseWorkloadOwnerKey("-----BEGIN EC PRIVATE KEY-----\nMAA=\n"), "KEY_MALFORMED");
    expectCode(
      () => parseWorkloadOwnerKey(encodePem("EC PRIVATE KEY", new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))),
      "KEY_MALFORMED",
    );
    expectCode(() => parseSeedShareOwnerKey(encodePem("RSA PRIVATE KEY", new Uint8Array(10))), "KEY_MALFORMED");
    expectCode(() => parsePublicKey(encodePem("PUBLIC KEY", new Uint8Array([1, 2, 3]))), "KEY_MALFORMED");
    expectCode(() => parseSeedShareOwnerPublicKeyHex("zz"), "KEY_MALFORMED");
    expectCode(() => parseSeedShareOwnerPublicKeyHex("3000"), "KEY_MALFORMED");
    expectCode(
      () => parseEcPrivateKey(encodeEcPrivateKey(ec.privateKey) + encodeEcPrivateKey(ec.privateKey)),
      "KEY_MALFORMED",
    );
  });

  it("turns any damaged key file into a typed error, never a crash (fuzz)", () => {
    const good = Buffer.from(ec.privateKey.export({ type: "sec1", format: "der" }));
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = new Uint8Array(good);
        bad[at] = (bad[at] as number) ^ xor;
        try {
          parseWorkloadOwnerKey(encodePem("EC PRIVATE KEY", bad));
        } catch (e) {
          expect(["KEY_MALFORMED", "KEY_WRONG_TYPE"]).toContain((e as { code?: string }).code);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
