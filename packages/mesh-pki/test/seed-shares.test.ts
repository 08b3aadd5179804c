import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "@contrast/core";
import { parseSeedShareDocument, serializeSeedShareDocument } from "@contrast/manifest";
import { describe, expect, it } from "vitest";
import { encodeSeedShareOwnerKey, seedShareOwnerPublicKeyHex } from "../src/keys.js";
import { generateSeed, SeedEngine } from "../src/seed-engine.js";
import {
  createSeedShareDocument,
  decryptSeed,
  encryptSeed,
  recoverSeed,
  SEED_SHARE_LABEL,
} from "../src/seed-shares.js";
import { expectCode, openssl, scratchDir, testRandom } from "./helpers.js";

// Written out rather than taken from the source, so a changed label fails the openssl tests.
const LABEL_HEX = Buffer.from("seedshare", "ascii").toString("hex");
const OAEP_OPTS = (label = LABEL_HEX) => [
  "-pkeyopt",
  "rsa_padding_mode:oaep",
  "-pkeyopt",
  "rsa_oaep_md:sha256",
  "-pkeyopt",
  "rsa_mgf1_md:sha256",
  "-pkeyopt",
  `rsa_oaep_label:${label}`,
];

describe("seed shares", () => {
  const dir = scratchDir();
  const alice = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const bob = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const secret = generateSeed(testRandom("shares"));
  const owners = [seedShareOwnerPublicKeyHex(alice.publicKey), seedShareOwnerPublicKeyHex(bob.publicKey)];
  const doc = createSeedShareDocument(secret, owners);
  const aliceKeyFile = join(dir, "alice.pem");
  writeFileSync(aliceKeyFile, encodeSeedShareOwnerKey(alice.privateKey));

  it("encrypts the seed for every owner, in manifest order, and each owner recovers seed and salt", () => {
    expect(SEED_SHARE_LABEL).toBe("seedshare");
    expect(doc.SeedShares.map((s) => s.PublicKey)).toEqual(owners);
    expect(toHex(doc.salt)).toBe(toHex(secret.salt));
    for (const key of [alice.privateKey, bob.privateKey]) {
      const got = recoverSeed(doc, key);
      expect(toHex(got.seed)).toBe(toHex(secret.seed));
      expect(toHex(got.salt)).toBe(toHex(secret.salt));
    }
    expect(createSeedShareDocument(secret, []).SeedShares).toEqual([]);
  });

  it("round-trips through seed-shares.json and the recovered seed rebuilds the same engine", () => {
    const file = join(dir, "seed-shares.json");
    writeFileSync(file, serializeSeedShareDocument(doc));
    const read = parseSeedShareDocument(readFileSync(file));
    const got = recoverSeed(read, alice.privateKey);
    const a = SeedEngine.fromSeed(secret.seed, secret.salt);
    const b = SeedEngine.fromSeed(got.seed, got.salt);
    expect(toHex(b.rootCaKey.d)).toBe(toHex(a.rootCaKey.d));
    expect(toHex(b.workloadSecret("x"))).toBe(toHex(a.workloadSecret("x")));
  });

  it("produces shares that openssl pkeyutl decrypts with OAEP SHA-256/MGF1-SHA-256 and label seedshare", () => {
    const share = join(dir, "share.bin");
    writeFileSync(share, doc.SeedShares[0]?.EncryptedSeed ?? new Uint8Array());
    const plain = openssl(["pkeyutl", "-decrypt", "-inkey", aliceKeyFile, "-in", share, ...OAEP_OPTS()]);
    expect(toHex(new Uint8Array(plain))).toBe(toHex(secret.seed));
    // The label is really part of the padding: another label does not decrypt.
    expect(() => openssl(["pkeyutl", "-decrypt", "-inkey", aliceKeyFile, "-in", share, ...OAEP_OPTS("00")])).toThrow();
    // And neither does SHA-1 MGF1 (OpenSSL's default).
    expect(() =>
      openssl([
        "pkeyutl",
        "-decrypt",
        "-inkey",
        aliceKeyFile,
        "-in",
        share,
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        `rsa_oaep_label:${LABEL_HEX}`,
        "-pkeyopt",
        "rsa_mgf1_md:sha1",
      ]),
    ).toThrow();
  });

  it("decrypts shares that openssl encrypted", () => {
    const plainFile = join(dir, "seed.bin");
    const pubFile = join(dir, "alice.pub.pem");
    writeFileSync(plainFile, secret.seed);
    writeFileSync(pubFile, alice.publicKey.export({ type: "spki", format: "pem" }));
    const enc = openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", pubFile, "-in", plainFile, ...OAEP_OPTS()]);
    expect(toHex(decryptSeed(new Uint8Array(enc), alice.privateKey))).toBe(toHex(secret.seed));
    expect(toHex(encryptSeed(secret.seed, alice.publicKey))).not.toBe(toHex(new Uint8Array(enc)));
  });

  it("reports a missing share, a damaged share and an unusable owner key with typed errors", () => {
    const carol = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expectCode(() => recoverSeed(doc, carol.privateKey), "SEED_SHARE_NO_MATCH", "input");
    const damaged = doc.SeedShares.map((s) => ({
      ...s,
      EncryptedSeed: s.EncryptedSeed.map((b, i) => (i === 5 ? b ^ 1 : b)),
    }));
    expectCode(
      () => recoverSeed({ ...doc, SeedShares: damaged }, alice.privateKey),
      "SEED_SHARE_DECRYPT_FAILED",
      "crypto",
    );
    // A share for Alice's public key that was encrypted to someone else.
    const swapped = [
      { PublicKey: owners[0] ?? "", EncryptedSeed: doc.SeedShares[1]?.EncryptedSeed ?? new Uint8Array() },
    ];
    expectCode(
      () => recoverSeed({ ...doc, SeedShares: swapped }, alice.privateKey),
      "SEED_SHARE_DECRYPT_FAILED",
      "crypto",
    );
    expectCode(() => recoverSeed({ ...doc, salt: new Uint8Array(3) }, alice.privateKey), "SALT_INVALID_LENGTH");
    expectCode(() => createSeedShareDocument(secret, ["nothex"]), "SEED_SHARE_OWNER_KEY_INVALID");
    expectCode(() => createSeedShareDocument(secret, ["3000"]), "SEED_SHARE_OWNER_KEY_INVALID");
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expectCode(
      () => createSeedShareDocument(secret, [toHex(small.publicKey.export({ type: "pkcs1", format: "der" }))]),
      "SEED_SHARE_OWNER_KEY_INVALID",
    );
  });

  it("matches the owner's hex key regardless of hex case", () => {
    const upper = { ...doc, SeedShares: doc.SeedShares.map((s) => ({ ...s, PublicKey: s.PublicKey.toUpperCase() })) };
    expect(toHex(recoverSeed(upper, bob.privateKey).seed)).toBe(toHex(secret.seed));
  });
});
