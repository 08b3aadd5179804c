import { generateKeyPairSync } from "node:crypto";
import { sha256, toHex, utf8 } from "@contrast/core";
import { ZERO_TRANSITION_HASH } from "@contrast/mesh-pki";
import { expectCodeAsync } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { History, MemoryStore } from "../src/index.js";

const key = () => generateKeyPairSync("ec", { namedCurve: "P-384" });

describe("History", () => {
  it("stores content-addressed entries in upstream's layout and walks the chain oldest first", async () => {
    const store = new MemoryStore();
    const h = new History(store);
    const { privateKey, publicKey } = key();
    const m1 = await h.putManifest(utf8("hello"));
    expect(toHex(m1)).toBe("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    const l1 = await h.setLatest(
      undefined,
      { manifestHash: m1, previousTransitionHash: ZERO_TRANSITION_HASH },
      privateKey,
    );
    const m2 = await h.putManifest(utf8("world"));
    const l2 = await h.setLatest(l1, { manifestHash: m2, previousTransitionHash: l1.transitionHash }, privateKey);
    expect((await h.getLatest(publicKey))?.transitionHash).toEqual(l2.transitionHash);
    const chain = await h.chain(l2.transitionHash);
    expect(chain.map((e) => Buffer.from(e.manifest).toString())).toEqual(["hello", "world"]);
    expect(store.keys()).toContain(`manifests/${toHex(sha256(utf8("world")))}`);
    expect(store.keys()).toContain("transitions/latest");
  });

  it("matches upstream's transition key for Transition{H(hello), H(world)}", async () => {
    const h = new History(new MemoryStore());
    const hash = await h.putTransition({
      manifestHash: sha256(utf8("hello")),
      previousTransitionHash: sha256(utf8("world")),
    });
    expect(toHex(hash)).toBe("7305db9b2abccd706c256db3d97e5ff48d677cfe4d3a5904afb7da0e3950e1e2");
  });

  it("refuses a compare-and-swap from a stale latest", async () => {
    const h = new History(new MemoryStore());
    const { privateKey } = key();
    const m = await h.putManifest(utf8("a"));
    const t = { manifestHash: m, previousTransitionHash: ZERO_TRANSITION_HASH };
    await h.setLatest(undefined, t, privateKey);
    await expectCodeAsync(() => h.setLatest(undefined, t, privateKey), "HISTORY_CONCURRENT_UPDATE");
  });

  it("detects substituted entries and signatures by another key", async () => {
    const store = new MemoryStore();
    const h = new History(store);
    const { privateKey } = key();
    const m = await h.putManifest(utf8("a"));
    await h.setLatest(undefined, { manifestHash: m, previousTransitionHash: ZERO_TRANSITION_HASH }, privateKey);
    await store.set(`manifests/${toHex(m)}`, utf8("b"));
    await expectCodeAsync(() => h.getManifest(m), "HISTORY_HASH_MISMATCH");
    await expectCodeAsync(() => h.getLatest(key().publicKey), "TRANSITION_SIGNATURE_INVALID");
    await expectCodeAsync(() => h.getPolicy(sha256(utf8("nope"))), "HISTORY_ENTRY_MISSING");
    await expectCodeAsync(() => store.get("../etc"), "HISTORY_KEY_INVALID");
  });
});
