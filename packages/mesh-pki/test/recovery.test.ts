import { X509Certificate } from "node:crypto";
import { fixedClock, sha256, toHex } from "@contrast/core";
import { parseSeedShareDocument, serializeSeedShareDocument } from "@contrast/manifest";
import { describe, expect, it } from "vitest";
import { CoordinatorCa } from "../src/ca.js";
import {
  encodeSeedShareOwnerKey,
  generateSeedShareOwnerKey,
  parseSeedShareOwnerKey,
  publicKeyDer,
  seedShareOwnerPublicKeyHex,
} from "../src/keys.js";
import { generateSeed, SeedEngine } from "../src/seed-engine.js";
import { createSeedShareDocument, recoverSeed } from "../src/seed-shares.js";
import {
  assertLatestTransition,
  assertTransitionSignature,
  decodeLatestTransition,
  encodeLatestTransition,
  signTransition,
  transitionHash,
  ZERO_TRANSITION_HASH,
} from "../src/transitions.js";
import { expectCode, testRandom } from "./helpers.js";

describe("first set, restart, user recovery", () => {
  it("recovers the same root CA, transaction key and workload secrets from the owner's share", async () => {
    const clock = fixedClock("2025-06-01T00:00:00Z");
    const ownerKey = await generateSeedShareOwnerKey();
    const ownerPem = encodeSeedShareOwnerKey(ownerKey);

    // Coordinator, first SetManifest.
    const secret = generateSeed(testRandom("coordinator"));
    const engine = SeedEngine.fromSeed(secret.seed, secret.salt);
    const seedSharesJson = serializeSeedShareDocument(
      createSeedShareDocument(secret, [seedShareOwnerPublicKeyHex(ownerKey)]),
    );
    const transition = {
      manifestHash: sha256(new TextEncoder().encode("manifest")),
      previousTransitionHash: ZERO_TRANSITION_HASH,
    };
    const latest = encodeLatestTransition({
      transitionHash: transitionHash(transition),
      signature: signTransition(transition, engine.transactionSigningKey.privateKey),
    });
    const before = CoordinatorCa.create(engine, { clock, random: testRandom("mesh-1") });
    const secretBefore = engine.workloadSecret("db");

    // After a restart: the user decrypts their share and the Coordinator checks the seed.
    const recovered = recoverSeed(parseSeedShareDocument(seedSharesJson), parseSeedShareOwnerKey(ownerPem));
    const again = SeedEngine.fromSeed(recovered.seed, recovered.salt);
    assertTransitionSignature(
      transition,
      decodeLatestTransition(latest).signature,
      again.transactionSigningKey.publicKey,
    );
    // As upstream does before anything else: the stored head of the history, from its bytes alone.
    assertLatestTransition(decodeLatestTransition(latest), again.transactionSigningKey.publicKey);
    const after = CoordinatorCa.create(again, { clock, random: testRandom("mesh-2") });

    const key = (pem: string) => toHex(publicKeyDer(new X509Certificate(pem).publicKey));
    expect(key(after.rootCaPem)).toBe(key(before.rootCaPem));
    expect(key(after.meshCaPem)).not.toBe(key(before.meshCaPem));
    expect(toHex(again.workloadSecret("db"))).toBe(toHex(secretBefore));
    // Old intermediates still chain to the (re-issued) root, because the root key is stable.
    expect(new X509Certificate(before.intermediateCaPem).verify(new X509Certificate(after.rootCaPem).publicKey)).toBe(
      true,
    );

    // A wrong seed (e.g. another deployment's share) is caught by the transition signature.
    const other = SeedEngine.fromSeed(generateSeed(testRandom("other")).seed, recovered.salt);
    expectCode(
      () =>
        assertTransitionSignature(
          transition,
          decodeLatestTransition(latest).signature,
          other.transactionSigningKey.publicKey,
        ),
      "TRANSITION_SIGNATURE_INVALID",
      "crypto",
    );
    expectCode(
      () => assertLatestTransition(decodeLatestTransition(latest), other.transactionSigningKey.publicKey),
      "TRANSITION_SIGNATURE_INVALID",
      "crypto",
    );
  }, 60_000);
});
