import { createPrivateKey, createPublicKey, hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodePem, fixedClock, fromBase64, fromHex, sha256, toHex, utf8 } from "@contrast/core";
import { describe, expect, it } from "vitest";
import { CoordinatorCa } from "../src/ca.js";
import { encodeEcPrivateKey, publicKeyDer } from "../src/keys.js";
import { SeedEngine } from "../src/seed-engine.js";
import {
  assertLatestTransition,
  decodeLatestTransition,
  encodeTransition,
  transitionHash,
  verifyLatestTransition,
} from "../src/transitions.js";
import { expectCode, TESTDATA, testRandom, x509 } from "./helpers.js";

/**
 * Upstream Contrast's own crypto-determinism vectors ("DO NOT CHANGE" in its tests), copied as
 * values into testdata/mesh-pki/upstream-contrast-vectors.json (origin in testdata/SOURCES.md).
 * Every vector uses a 32-byte seed, the shortest upstream accepts.
 */
interface SeedVector {
  name: string;
  secretSeed: string;
  salt: string;
  podStateSeed: string;
  historySeed: string;
  rootCaKeySec1: string;
  transactionSigningKeySec1: string;
}
interface Vectors {
  seedEngine: SeedVector[];
  seedEngineErrors: { name: string; secretSeed: string; salt: string }[];
  workloadSecrets: { secretSeed: string; salt: string; secrets: Record<string, string>; rejected: string[] };
  olderPodSecrets: { secretSeed: string; salt: string; infoPrefix: string; byPolicyHash: Record<string, string> };
  history: {
    signingKeyPkcs8Base64: string;
    latest: { valid: string; hashModified: string; signatureModified: string; noSignature: string };
    transition: { manifestHash: string; previousTransitionHash: string; encoded: string; hash: string };
    contentAddressed: Record<string, string>;
  };
}
const V: Vectors = JSON.parse(readFileSync(join(TESTDATA, "upstream-contrast-vectors.json"), "utf8"));

const engineOf = (v: { secretSeed: string; salt: string }) =>
  SeedEngine.fromSeed(fromHex(v.secretSeed), fromHex(v.salt));
const sec1 = (key: Parameters<typeof encodeEcPrivateKey>[0]) => toHex(key.export({ type: "sec1", format: "der" }));
const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string) =>
  new Uint8Array(hkdfSync("sha256", ikm, salt, info, ikm.length));

describe("upstream Contrast seed-engine vectors", () => {
  it("has every vector of upstream's tests", () => {
    expect(V.seedEngine).toHaveLength(2);
    expect(Object.keys(V.workloadSecrets.secrets)).toHaveLength(4);
    expect(Object.keys(V.olderPodSecrets.byPolicyHash)).toHaveLength(7);
    for (const v of V.seedEngine) expect(fromHex(v.secretSeed)).toHaveLength(32);
  });

  describe.each(V.seedEngine.map((v) => [v.name, v] as const))("%s", (_, v) => {
    const engine = engineOf(v);

    it("derives the pod state seed and the history seed", () => {
      expect(toHex(engine.podStateSeed)).toBe(v.podStateSeed);
      expect(toHex(engine.historySeed)).toBe(v.historySeed);
    });

    it("derives the root CA key, byte for byte as Go's x509.MarshalECPrivateKey writes it", () => {
      expect(sec1(engine.rootCaKey.privateKey)).toBe(v.rootCaKeySec1);
      const pem = decodePem(encodeEcPrivateKey(engine.rootCaKey.privateKey));
      expect(toHex(pem[0]?.der ?? new Uint8Array())).toBe(v.rootCaKeySec1);
    });

    it("derives the transaction signing key", () => {
      expect(sec1(engine.transactionSigningKey.privateKey)).toBe(v.transactionSigningKeySec1);
    });

    it("puts the root CA public key of this seed into coordinator-root-ca.pem", () => {
      const ca = CoordinatorCa.create(engine, {
        clock: fixedClock(new Date("2025-03-01T00:00:00Z")),
        random: testRandom(),
      });
      const upstreamKey = createPrivateKey({ key: Buffer.from(fromHex(v.rootCaKeySec1)), format: "der", type: "sec1" });
      const cert = new x509.X509Certificate(ca.rootCaDer);
      expect(toHex(new Uint8Array(cert.publicKey.rawData))).toBe(toHex(publicKeyDer(createPublicKey(upstreamKey))));
    });
  });

  it("rejects upstream's short-salt case", () => {
    for (const v of V.seedEngineErrors) expectCode(() => engineOf(v), "SALT_INVALID_LENGTH", "input");
  });

  it("derives upstream's workload secrets from the pod state seed with the engine's salt", () => {
    const engine = engineOf(V.workloadSecrets);
    for (const [id, secret] of Object.entries(V.workloadSecrets.secrets)) {
      expect(toHex(engine.workloadSecret(id)), JSON.stringify(id)).toBe(secret);
    }
    for (const id of V.workloadSecrets.rejected)
      expectCode(() => engine.workloadSecret(id), "WORKLOAD_SECRET_ID_EMPTY");
  });

  it("gives the pod state seed of older upstream's per-policy pod secrets (OLDER API, salt on every level)", () => {
    const o = V.olderPodSecrets;
    const engine = engineOf(o);
    for (const [policyHash, secret] of Object.entries(o.byPolicyHash)) {
      expect(toHex(hkdf(engine.podStateSeed, engine.salt, `${o.infoPrefix}${policyHash}`))).toBe(secret);
    }
  });
});

describe("upstream Contrast history vectors", () => {
  const h = V.history;
  const signingKey = createPublicKey(
    createPrivateKey({ key: Buffer.from(fromBase64(h.signingKeyPkcs8Base64)), format: "der", type: "pkcs8" }),
  );
  const otherKey = SeedEngine.fromSeed(fromHex(V.seedEngine[0]?.secretSeed ?? ""), fromHex(V.seedEngine[0]?.salt ?? ""))
    .transactionSigningKey.publicKey;

  it("verifies upstream's signed transitions/latest from its 32-byte hash and signature alone", () => {
    const latest = decodeLatestTransition(fromHex(h.latest.valid));
    expect(toHex(latest.transitionHash)).toBe(h.contentAddressed.hello);
    expect(verifyLatestTransition(latest, signingKey)).toBe(true);
    expect(() => assertLatestTransition(latest, signingKey)).not.toThrow();
  });

  it("refuses a tampered hash, a tampered signature, a missing signature and the wrong key", () => {
    const hashModified = decodeLatestTransition(fromHex(h.latest.hashModified));
    expect(verifyLatestTransition(hashModified, signingKey)).toBe(false);
    expectCode(() => assertLatestTransition(hashModified, signingKey), "TRANSITION_SIGNATURE_INVALID", "crypto");
    expect(verifyLatestTransition(decodeLatestTransition(fromHex(h.latest.signatureModified)), signingKey)).toBe(false);
    expectCode(() => decodeLatestTransition(fromHex(h.latest.noSignature)), "TRANSITION_MALFORMED");
    const valid = decodeLatestTransition(fromHex(h.latest.valid));
    expect(verifyLatestTransition(valid, otherKey)).toBe(false);
    expectCode(() => assertLatestTransition(valid, otherKey), "TRANSITION_SIGNATURE_INVALID", "crypto");
  });

  it("encodes and hashes upstream's transition vector", () => {
    const t = {
      manifestHash: fromHex(h.transition.manifestHash),
      previousTransitionHash: fromHex(h.transition.previousTransitionHash),
    };
    expect(toHex(encodeTransition(t))).toBe(h.transition.encoded);
    expect(toHex(transitionHash(t))).toBe(h.transition.hash);
    for (const [text, hash] of Object.entries(h.contentAddressed)) expect(toHex(sha256(utf8(text)))).toBe(hash);
  });
});
