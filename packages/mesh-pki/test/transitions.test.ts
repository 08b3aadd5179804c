import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { concatBytes, sha256, toHex } from "@contrast/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEcPrivateKey, encodePublicKey, generateWorkloadOwnerKey } from "../src/keys.js";
import { SeedEngine } from "../src/seed-engine.js";
import {
  assertLatestTransition,
  assertTransitionSignature,
  decodeLatestTransition,
  decodeTransition,
  encodeLatestTransition,
  encodeTransition,
  signTransition,
  signUpdate,
  type Transition,
  transitionHash,
  transitionMatchesHash,
  updateSigningHash,
  verifyLatestTransition,
  verifyTransitionSignature,
  verifyUpdateSignature,
  ZERO_TRANSITION_HASH,
} from "../src/transitions.js";
import { expectCode, FUZZ_RUNS, openssl, scratchDir, testRandom } from "./helpers.js";

const engine = SeedEngine.fromSeed(new Uint8Array(64).fill(7), new Uint8Array(32).fill(9));
const manifest = new TextEncoder().encode('{"Policies":{}}\n');
const first: Transition = { manifestHash: sha256(manifest), previousTransitionHash: ZERO_TRANSITION_HASH };
const second: Transition = { manifestHash: sha256(manifest, manifest), previousTransitionHash: transitionHash(first) };

describe("manifest transitions", () => {
  const dir = scratchDir();
  const pubFile = join(dir, "transaction.pub.pem");
  writeFileSync(pubFile, encodePublicKey(engine.transactionSigningKey.publicKey));
  const keyFile = join(dir, "transaction.pem");
  writeFileSync(keyFile, encodeEcPrivateKey(engine.transactionSigningKey.privateKey));

  it("hashes manifestHash ‖ previousHash with SHA-256 and stores the 64 bytes", () => {
    const bytes = encodeTransition(second);
    expect(bytes).toHaveLength(64);
    expect(toHex(transitionHash(second))).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(decodeTransition(bytes)).toEqual(second);
    expect(transitionMatchesHash(second, transitionHash(second))).toBe(true);
    expect(transitionMatchesHash(first, transitionHash(second))).toBe(false);
  });

  it("signs the raw 32-byte transition hash: openssl pkeyutl verifies it as a prehashed digest", () => {
    const sig = signTransition(second, engine.transactionSigningKey.privateKey);
    const hashFile = join(dir, "t.bin");
    const sigFile = join(dir, "t.sig");
    writeFileSync(hashFile, transitionHash(second));
    writeFileSync(sigFile, sig);
    const out = openssl(["pkeyutl", "-verify", "-pubin", "-inkey", pubFile, "-in", hashFile, "-sigfile", sigFile]);
    expect(out.toString()).toContain("Signature Verified Successfully");
    // The signature is DER: SEQUENCE { r, s }.
    expect(sig[0]).toBe(0x30);
  });

  it("verifies signatures that openssl made over the raw hash with the transaction key", () => {
    const hashFile = join(dir, "t2.bin");
    writeFileSync(hashFile, transitionHash(second));
    const sig = new Uint8Array(openssl(["pkeyutl", "-sign", "-inkey", keyFile, "-in", hashFile]));
    expect(verifyTransitionSignature(second, sig, engine.transactionSigningKey.publicKey)).toBe(true);
    expect(verifyTransitionSignature(first, sig, engine.transactionSigningKey.publicKey)).toBe(false);
    assertTransitionSignature(second, sig, engine.transactionSigningKey.publicKey);
  });

  it("is what proves a recovery seed: another seed's key does not verify the latest transition", () => {
    const sig = signTransition(second, engine.transactionSigningKey.privateKey);
    const wrong = SeedEngine.fromSeed(new Uint8Array(64).fill(8), new Uint8Array(32).fill(9));
    expectCode(
      () => assertTransitionSignature(second, sig, wrong.transactionSigningKey.publicKey),
      "TRANSITION_SIGNATURE_INVALID",
      "crypto",
    );
    expect(verifyTransitionSignature(second, new Uint8Array([1, 2, 3]), engine.transactionSigningKey.publicKey)).toBe(
      false,
    );
  });

  it("encodes transitions/latest as hash ‖ signature", () => {
    const sig = signTransition(first, engine.transactionSigningKey.privateKey);
    const latest = encodeLatestTransition({ transitionHash: transitionHash(first), signature: sig });
    expect(toHex(latest)).toBe(toHex(concatBytes(transitionHash(first), sig)));
    expect(decodeLatestTransition(latest)).toEqual({ transitionHash: transitionHash(first), signature: sig });
  });

  it("verifies transitions/latest from its stored bytes alone, with no transition at hand", () => {
    const key = engine.transactionSigningKey;
    const stored = encodeLatestTransition({
      transitionHash: transitionHash(second),
      signature: signTransition(second, key.privateKey),
    });
    const latest = decodeLatestTransition(stored);
    expect(verifyLatestTransition(latest, key.publicKey)).toBe(true);
    assertLatestTransition(latest, key.publicKey);
    // Another head of the history with the same signature: the tampered hash is caught.
    const swapped = { ...latest, transitionHash: transitionHash(first) };
    expect(verifyLatestTransition(swapped, key.publicKey)).toBe(false);
    expectCode(() => assertLatestTransition(swapped, key.publicKey), "TRANSITION_SIGNATURE_INVALID", "crypto");
    const wrong = SeedEngine.fromSeed(new Uint8Array(64).fill(8), new Uint8Array(32).fill(9));
    expect(verifyLatestTransition(latest, wrong.transactionSigningKey.publicKey)).toBe(false);
    expect(verifyLatestTransition({ ...latest, transitionHash: latest.transitionHash.slice(1) }, key.publicKey)).toBe(
      false,
    );
  });

  it("never verifies a stored latest transition with one flipped bit (property)", () => {
    const key = engine.transactionSigningKey;
    const stored = encodeLatestTransition({
      transitionHash: transitionHash(first),
      signature: signTransition(first, key.privateKey),
    });
    fc.assert(
      fc.property(fc.nat(stored.length * 8 - 1), (bit) => {
        const bad = new Uint8Array(stored);
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(verifyLatestTransition(decodeLatestTransition(bad), key.publicKey)).toBe(false);
      }),
      { numRuns: Math.min(FUZZ_RUNS, stored.length * 8) },
    );
  });

  it("signs updates over SHA-256 of the hex transition hash (contrast sign)", () => {
    const owner = generateWorkloadOwnerKey(testRandom("owner"));
    const sig = signUpdate(second, owner);
    const digest = updateSigningHash(second);
    expect(toHex(digest)).toBe(
      createHash("sha256")
        .update(toHex(transitionHash(second)))
        .digest("hex"),
    );
    const digestFile = join(dir, "u.bin");
    const sigFile = join(dir, "u.sig");
    const ownerPub = join(dir, "owner.pub.pem");
    writeFileSync(digestFile, digest);
    writeFileSync(sigFile, sig);
    writeFileSync(ownerPub, encodePublicKey(owner));
    const out = openssl(["pkeyutl", "-verify", "-pubin", "-inkey", ownerPub, "-in", digestFile, "-sigfile", sigFile]);
    expect(out.toString()).toContain("Signature Verified Successfully");
    expect(verifyUpdateSignature(second, sig, owner)).toBe(true);
    expect(verifyUpdateSignature(first, sig, owner)).toBe(false);
  });

  it("rejects malformed transitions with typed errors", () => {
    expectCode(() => decodeTransition(new Uint8Array(63)), "TRANSITION_MALFORMED");
    expectCode(
      () => encodeTransition({ manifestHash: new Uint8Array(31), previousTransitionHash: ZERO_TRANSITION_HASH }),
      "TRANSITION_MALFORMED",
    );
    expectCode(() => decodeLatestTransition(new Uint8Array(32)), "TRANSITION_MALFORMED");
  });

  it("never verifies a signature for a different transition (property)", () => {
    const key = engine.transactionSigningKey;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(511),
        (m, p, bit) => {
          const t = { manifestHash: m, previousTransitionHash: p };
          const sig = signTransition(t, key.privateKey);
          expect(verifyTransitionSignature(t, sig, key.publicKey)).toBe(true);
          const bytes = encodeTransition(t);
          bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
          expect(verifyTransitionSignature(decodeTransition(bytes), sig, key.publicKey)).toBe(false);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
