import { createPrivateKey, hkdfSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  concatBytes,
  DerTag,
  encodeDer,
  fromBase64,
  fromHex,
  readDerChildren,
  readDerExact,
  toHex,
  utf8,
} from "@contrast/core";
import { derInteger, derOid, derSequence } from "@contrast/x509";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { curveOrder, type DetKeygenCurve, deriveEcdsaKey } from "../src/det-keygen.js";
import { publicKeyDer } from "../src/keys.js";
import { generateSeed, MAX_SEED_BYTES, MIN_SEED_BYTES, SEED_LABELS, SeedEngine } from "../src/seed-engine.js";
import { expectCode, FUZZ_RUNS, openssl, scratchDir, TESTDATA, testRandom } from "./helpers.js";

const SEED = Uint8Array.from({ length: 64 }, (_, i) => i);
const SALT = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);

const CURVES: Record<string, { curve: DetKeygenCurve; openssl: string }> = {
  secp224r1: { curve: "P-224", openssl: "secp224r1" },
  secp256r1: { curve: "P-256", openssl: "prime256v1" },
  secp384r1: { curve: "P-384", openssl: "secp384r1" },
  secp521r1: { curve: "P-521", openssl: "secp521r1" },
};

/** PrivateKeyInfo -> ECPrivateKey -> privateKey OCTET STRING. */
function scalarOfPkcs8(der: Uint8Array): Uint8Array {
  const [, , inner] = readDerChildren(readDerExact(der, DerTag.SEQUENCE));
  if (inner === undefined) throw new Error("bad PKCS#8");
  const [, d] = readDerChildren(readDerExact(inner.value, DerTag.SEQUENCE));
  if (d?.tag !== DerTag.OCTET_STRING) throw new Error("bad ECPrivateKey");
  return d.value;
}

interface Vector {
  curve: string;
  seed: string;
  private_key_pkcs8: string;
}
const VECTORS: Vector[] = JSON.parse(readFileSync(join(TESTDATA, "det-keygen.json"), "utf8"));

describe("c2sp.org/det-keygen", () => {
  it("has the vectors it is tested with", () => {
    expect(VECTORS.filter((v) => v.curve === "secp384r1")).toHaveLength(5);
  });

  it.each(VECTORS.map((v, i) => [`${v.curve} #${i} (${fromBase64(v.seed).length}-byte seed)`, v] as const))(
    "matches the published vector %s",
    (_name, v) => {
      const params = CURVES[v.curve];
      if (params === undefined) throw new Error(`unknown curve ${v.curve}`);
      const pkcs8 = fromBase64(v.private_key_pkcs8);
      const expected = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
      const key = deriveEcdsaKey(params.curve, fromBase64(v.seed));
      expect(toHex(key.d)).toBe(toHex(scalarOfPkcs8(pkcs8)));
      expect(toHex(publicKeyDer(key.publicKey))).toBe(toHex(publicKeyDer(expected)));
      expect(toHex(publicKeyDer(key.privateKey))).toBe(toHex(publicKeyDer(expected)));
    },
  );

  it("takes the P-256 retry path for the seed the spec names, and still matches", () => {
    // b432f9be30890480298218510559aed7 makes the first P-256 sample overflow the order.
    const v = VECTORS.find((x) => toHex(fromBase64(x.seed)) === "b432f9be30890480298218510559aed7");
    expect(v?.curve).toBe("secp256r1");
  });

  it("uses OpenSSL's curve orders", () => {
    for (const { curve, openssl: name } of Object.values(CURVES)) {
      const text = openssl(["ecparam", "-name", name, "-param_enc", "explicit", "-text", "-noout"]).toString();
      const order = /Order:\s*([\s\S]*?)Cofactor/.exec(text)?.[1]?.replace(/[\s:]/g, "") ?? "";
      expect(BigInt(`0x${order}`)).toBe(curveOrder(curve));
    }
  });

  it("rejects seeds below 128 bits", () => {
    expectCode(() => deriveEcdsaKey("P-384", new Uint8Array(15)), "DET_KEYGEN_SEED_TOO_SHORT", "input");
  });
});

/** HMAC-SHA256 through the openssl CLI, so the DRBG is re-done by an independent implementation. */
function opensslHmac(dir: string, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const file = join(dir, "hmac-in.bin");
  writeFileSync(file, concatBytes(...parts));
  return new Uint8Array(
    openssl(["mac", "-digest", "SHA256", "-macopt", `hexkey:${toHex(key)}`, "-in", file, "-binary", "HMAC"]),
  );
}

function opensslHkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Uint8Array {
  const out = openssl([
    "kdf",
    "-keylen",
    String(length),
    "-kdfopt",
    "digest:SHA256",
    "-kdfopt",
    `hexkey:${toHex(ikm)}`,
    "-kdfopt",
    `hexsalt:${toHex(salt)}`,
    "-kdfopt",
    `info:${info}`,
    "HKDF",
  ]).toString();
  return fromHex(out.trim().replaceAll(":", "").toLowerCase());
}

/** det-keygen for P-384 written out step by step over openssl's HMAC. */
function opensslDetKeygenP384(dir: string, seed: Uint8Array): Uint8Array {
  const material = concatBytes(seed, utf8("det ECDSA key gen P-384"));
  let k: Uint8Array = new Uint8Array(32);
  let v: Uint8Array = new Uint8Array(32).fill(1);
  k = opensslHmac(dir, k, v, new Uint8Array([0]), material);
  v = opensslHmac(dir, k, v);
  k = opensslHmac(dir, k, v, new Uint8Array([1]), material);
  v = opensslHmac(dir, k, v);
  const v1 = opensslHmac(dir, k, v);
  const v2 = opensslHmac(dir, k, v1);
  return concatBytes(v1, v2).slice(0, 48);
}

/** The public key OpenSSL computes for a bare scalar (SEC1 without the optional public key). */
function opensslPublicKey(dir: string, d: Uint8Array): Uint8Array {
  const sec1 = derSequence(
    derInteger(1),
    encodeDer(DerTag.OCTET_STRING, d),
    encodeDer(0xa0, derOid("1.3.132.0.34")), // [0] namedCurve secp384r1
  );
  const file = join(dir, "bare.der");
  writeFileSync(file, sec1);
  return new Uint8Array(openssl(["ec", "-inform", "DER", "-in", file, "-pubout", "-outform", "DER"]));
}

describe("seed engine", () => {
  const dir = scratchDir();
  const engine = SeedEngine.fromSeed(SEED, SALT);

  it("derives each secret with HKDF-SHA256 and the exact labels, as openssl kdf does", () => {
    expect(toHex(engine.podStateSeed)).toBe(toHex(opensslHkdf(SEED, SALT, "POD STATE SECRET", 64)));
    expect(toHex(engine.transactionSigningSeed)).toBe(toHex(opensslHkdf(SEED, SALT, "TRANSACTION SIGNING SECRET", 64)));
    expect(toHex(engine.rootCaSeed)).toBe(toHex(opensslHkdf(SEED, SALT, "ROOT CA SEED", 64)));
    expect(toHex(engine.historySeed)).toBe(toHex(opensslHkdf(SEED, SALT, "HISTORY SECRET", 64)));
    const podState = opensslHkdf(SEED, SALT, "POD STATE SECRET", 64);
    const secret = engine.workloadSecret("my-app");
    expect(secret).toHaveLength(64);
    expect(toHex(secret)).toBe(toHex(opensslHkdf(podState, SALT, "WORKLOAD SECRET ID: my-app", 64)));
    expect(SEED_LABELS).toEqual({
      podState: "POD STATE SECRET",
      history: "HISTORY SECRET",
      transactionSigning: "TRANSACTION SIGNING SECRET",
      rootCa: "ROOT CA SEED",
      workloadSecretPrefix: "WORKLOAD SECRET ID: ",
    });
  });

  it("derives the root CA and transaction keys bit-exactly, re-done with openssl mac and openssl ec", () => {
    for (const [seed, key] of [
      [opensslHkdf(SEED, SALT, "ROOT CA SEED", 64), engine.rootCaKey],
      [opensslHkdf(SEED, SALT, "TRANSACTION SIGNING SECRET", 64), engine.transactionSigningKey],
    ] as const) {
      const d = opensslDetKeygenP384(dir, seed);
      expect(toHex(key.d)).toBe(toHex(d));
      expect(toHex(publicKeyDer(key.publicKey))).toBe(toHex(opensslPublicKey(dir, d)));
    }
  });

  it("keeps its outputs pinned (regression vector computed by the openssl test above)", () => {
    expect(toHex(engine.rootCaKey.d)).toBe(PINNED.rootCaD);
    expect(toHex(engine.transactionSigningKey.d)).toBe(PINNED.transactionD);
    expect(toHex(engine.workloadSecret("my-app")).slice(0, 32)).toBe(PINNED.workloadSecretPrefix);
  });

  it("generates 64-byte seeds and 32-byte salts from the injected randomness", () => {
    const a = generateSeed(testRandom("x"));
    expect(a.seed).toHaveLength(64);
    expect(a.salt).toHaveLength(32);
    expect(toHex(generateSeed(testRandom("x")).seed)).toBe(toHex(a.seed));
    expectCode(() => generateSeed(() => new Uint8Array(3)), "RANDOM_SOURCE_INVALID", "internal");
  });

  it("accepts seeds of 32 bytes up to what HKDF-SHA256 can expand, as upstream does", () => {
    for (const n of [MIN_SEED_BYTES, 33, 63, 65, 128, MAX_SEED_BYTES]) {
      const e = SeedEngine.fromSeed(new Uint8Array(n).fill(1), SALT);
      // Every derived secret is as long as the seed, as upstream's hkdfDerive makes it.
      expect(e.podStateSeed).toHaveLength(n);
      expect(e.historySeed).toHaveLength(n);
      expect(e.workloadSecret("w")).toHaveLength(n);
      expect(toHex(e.podStateSeed)).toBe(toHex(opensslHkdf(new Uint8Array(n).fill(1), SALT, "POD STATE SECRET", n)));
    }
    expect([MIN_SEED_BYTES, MAX_SEED_BYTES]).toEqual([32, 8160]);
  });

  it("derives from any seed length upstream accepts exactly what HKDF gives, and refuses shorter seeds (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (seed, salt) => {
          if (seed.length < MIN_SEED_BYTES) {
            expectCode(() => SeedEngine.fromSeed(seed, salt), "SEED_INVALID_LENGTH", "input");
            return;
          }
          const e = SeedEngine.fromSeed(seed, salt);
          const hkdf = (info: string) => toHex(new Uint8Array(hkdfSync("sha256", seed, salt, info, seed.length)));
          expect(toHex(e.podStateSeed)).toBe(hkdf("POD STATE SECRET"));
          expect(toHex(e.historySeed)).toBe(hkdf("HISTORY SECRET"));
          expect(toHex(e.rootCaSeed)).toBe(hkdf("ROOT CA SEED"));
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("rejects wrong seed and salt lengths and an empty workload secret ID", () => {
    for (const n of [0, 16, 31, MAX_SEED_BYTES + 1])
      expectCode(() => SeedEngine.fromSeed(new Uint8Array(n), SALT), "SEED_INVALID_LENGTH");
    for (const n of [0, 16, 31, 33, 64])
      expectCode(() => SeedEngine.fromSeed(SEED, new Uint8Array(n)), "SALT_INVALID_LENGTH");
    expectCode(() => engine.workloadSecret(""), "WORKLOAD_SECRET_ID_EMPTY", "input");
  });

  it("remembers workload secrets without sharing them: a caller's changes never reach the next caller", () => {
    const e = SeedEngine.fromSeed(SEED, SALT);
    const podState = opensslHkdf(SEED, SALT, "POD STATE SECRET", 64);
    const expected = toHex(opensslHkdf(podState, SALT, "WORKLOAD SECRET ID: my-app", 64));
    const first = e.workloadSecret("my-app");
    first.fill(0);
    const second = e.workloadSecret("my-app");
    expect(toHex(second)).toBe(expected);
    expect(second).not.toBe(e.workloadSecret("my-app"));
    // Past the bound the memory starts over; the values stay the same.
    for (let i = 0; i < 4100; i++) e.workloadSecret(`w${i}`);
    expect(toHex(e.workloadSecret("my-app"))).toBe(expected);
    expect(toHex(e.workloadSecret("w7"))).toBe(toHex(SeedEngine.fromSeed(SEED, SALT).workloadSecret("w7")));
  });

  it("gives different workload secrets for different IDs", () => {
    expect(toHex(engine.workloadSecret("a"))).not.toBe(toHex(engine.workloadSecret("b")));
    expect(toHex(engine.workloadSecret("a"))).not.toBe(toHex(engine.workloadSecret("a ")));
  });

  it("same seed and salt give the same keys and secrets; one flipped bit changes all of them (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(96 * 8 - 1),
        fc.string({ minLength: 1, maxLength: 20 }),
        (seed, salt, bit, id) => {
          const a = SeedEngine.fromSeed(seed, salt);
          const b = SeedEngine.fromSeed(new Uint8Array(seed), new Uint8Array(salt));
          const fingerprint = (e: SeedEngine) => [
            toHex(publicKeyDer(e.rootCaKey.publicKey)),
            toHex(publicKeyDer(e.transactionSigningKey.publicKey)),
            toHex(e.workloadSecret(id)),
          ];
          const fa = fingerprint(a);
          expect(fingerprint(b)).toEqual(fa);
          const both = concatBytes(seed, salt);
          both[bit >> 3] = (both[bit >> 3] as number) ^ (1 << (bit & 7));
          const flipped = fingerprint(SeedEngine.fromSeed(both.slice(0, 64), both.slice(64)));
          for (let i = 0; i < fa.length; i++) expect(flipped[i]).not.toBe(fa[i]);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

const PINNED = {
  rootCaD: "720b7e6b1f014bcde2d60cc647a733579f45ad14b3630e537705a75bb9cee873f37aa7be7675451eadd8a669199a14ab",
  transactionD: "c3b08cb10594e61053f9d571adb4b45cf2492d8e7d71ebe8771e16f87ecb19c531e334c6496dad479f7dd5eeecb04ea7",
  workloadSecretPrefix: "971756fa341516465909f8687d948e93",
};
