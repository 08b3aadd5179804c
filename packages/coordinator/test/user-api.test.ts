import { X509Certificate } from "node:crypto";
import { fromUtf8, sha256, toHex } from "@contrast/core";
import { verifyLatestTransition } from "@contrast/mesh-pki";
import { expectCodeAsync } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../src/index.js";
import {
  callerOf,
  ecKey,
  engineFromShares,
  manifestBytes,
  open,
  policyDoc,
  policyHash,
  rsaKey,
  setRequest,
} from "./fixture.js";

const owner = ecKey();
const stranger = ecKey();
const shareOwner = rsaKey();
const otherShareOwner = rsaKey();
const spec = {
  policies: { web: { SANs: ["web", "*"] }, db: { WorkloadSecretID: "db" } },
  owners: [owner],
  seedShareOwners: [shareOwner],
};

const subjectCn = (pem: Uint8Array) => new X509Certificate(Buffer.from(pem)).subject;
// The CA certificates are re-signed (new serial) for every generation; the root CA's key is the
// stable part, derived from the seed.
const keyOf = (pem: Uint8Array) =>
  new X509Certificate(Buffer.from(pem)).publicKey.export({ type: "spki", format: "der" }).toString("hex");

describe("SetManifest", () => {
  it("first set: creates the seed, returns the CAs and one seed share per owner, writes upstream's layout", async () => {
    const { coordinator: p, store, generations } = open();
    const c = await p;
    expect((await c.status()).phase).toBe("uninitialised");
    const res = await c.setManifest(setRequest(spec), {});
    expect(subjectCn(res.RootCA)).toBe("CN=system:coordinator:root");
    expect(subjectCn(res.MeshCA)).toBe("CN=system:coordinator:intermediate");
    expect(res.SeedSharesDoc?.SeedShares).toHaveLength(1);
    expect(res.SeedSharesDoc?.salt).toHaveLength(32);
    // The share decrypts with the owner key to a seed whose transaction key signs the history.
    const { engine } = engineFromShares(res.SeedSharesDoc, shareOwner);
    const latest = await c.history.getLatest(engine.transactionSigningKey.publicKey);
    expect(latest).toBeDefined();
    const status = await c.status();
    expect(status).toMatchObject({ phase: "running", stale: false, generation: 1 });
    expect(status.manifestHash).toBe(toHex(sha256(manifestBytes(spec))));
    expect(generations).toEqual([0, 1]);
    const keys = (store as MemoryStore).keys();
    expect(keys.filter((k) => !/^transitions\/[0-9a-f]{64}$/.test(k))).toEqual([
      `manifests/${toHex(sha256(manifestBytes(spec)))}`,
      ...[`policies/${policyHash("db")}`, `policies/${policyHash("web")}`].sort(),
      "transitions/latest",
    ]);
    expect(keys.filter((k) => /^transitions\/[0-9a-f]{64}$/.test(k))).toHaveLength(1);
  });

  it("accepts a manifest without policies and without seed share owners", async () => {
    const c = await open().coordinator;
    const res = await c.setManifest(setRequest({}), {});
    expect(res.SeedSharesDoc?.SeedShares).toEqual([]);
  });

  it("refuses a manifest naming a policy the request lacks, and leaves the Coordinator uninitialised", async () => {
    const { coordinator, generations } = open();
    const c = await coordinator;
    await expectCodeAsync(() => c.setManifest(setRequest(spec, ["web"]), {}), "COORDINATOR_POLICY_MISSING", "input");
    await expectCodeAsync(
      () => c.setManifest({ ...setRequest(spec), Policies: [policyDoc("web"), policyDoc("other")] }),
      "COORDINATOR_POLICY_MISSING",
    );
    expect((await c.status()).phase).toBe("uninitialised");
    expect(generations).toEqual([0]);
  });

  it("refuses malformed manifests with MANIFEST_INVALID", async () => {
    const c = await open().coordinator;
    await expectCodeAsync(
      () => c.setManifest({ Manifest: new TextEncoder().encode('{ "Policies": 1 }'), Policies: [] }),
      "MANIFEST_INVALID",
      "input",
    );
    await expectCodeAsync(() => c.setManifest({ Manifest: new Uint8Array(), Policies: [] }), "MANIFEST_INVALID");
  });

  it("updates only with a workload owner key of the current manifest", async () => {
    const { coordinator, generations } = open();
    const c = await coordinator;
    await c.setManifest(setRequest(spec));
    const next = setRequest({ ...spec, policies: { web: {} } });
    await expectCodeAsync(() => c.setManifest(next, {}), "COORDINATOR_CLIENT_CERT_MISSING", "policy");
    await expectCodeAsync(() => c.setManifest(next, callerOf(stranger)), "COORDINATOR_UPDATE_UNAUTHORIZED", "policy");
    // An RSA key is digested as PKCS#1, never matching an EC owner digest.
    await expectCodeAsync(() => c.setManifest(next, callerOf(shareOwner)), "COORDINATOR_UPDATE_UNAUTHORIZED");
    expect((await c.status()).generation).toBe(1);
    const res = await c.setManifest(next, callerOf(owner));
    expect(res.SeedSharesDoc).toBeUndefined();
    expect(generations).toEqual([0, 1, 2]);
  });

  it("refuses any update when the current manifest has no workload owner key", async () => {
    const c = await open().coordinator;
    await c.setManifest(setRequest({ ...spec, owners: [] }));
    await expectCodeAsync(
      () => c.setManifest(setRequest(spec), callerOf(owner)),
      "COORDINATOR_UPDATE_DISABLED",
      "policy",
    );
  });

  it("refuses an update that changes the seed share owners, even from the owner", async () => {
    const c = await open().coordinator;
    await c.setManifest(setRequest(spec));
    await expectCodeAsync(
      () => c.setManifest(setRequest({ ...spec, seedShareOwners: [otherShareOwner] }), callerOf(owner)),
      "COORDINATOR_SEEDSHARE_OWNERS_CHANGED",
      "policy",
    );
    await expectCodeAsync(
      () => c.setManifest(setRequest({ ...spec, seedShareOwners: [shareOwner, otherShareOwner] }), callerOf(owner)),
      "COORDINATOR_SEEDSHARE_OWNERS_CHANGED",
    );
  });

  it("keeps the root CA key across updates and makes a new mesh CA for each", async () => {
    const c = await open().coordinator;
    const first = await c.setManifest(setRequest(spec));
    const second = await c.setManifest(setRequest(spec), callerOf(owner));
    expect(keyOf(second.RootCA)).toBe(keyOf(first.RootCA));
    expect(keyOf(second.MeshCA)).not.toBe(keyOf(first.MeshCA));
  });
});

describe("GetManifests", () => {
  it("refuses before the first manifest", async () => {
    const c = await open().coordinator;
    await expectCodeAsync(() => c.getManifests(), "COORDINATOR_NO_MANIFEST");
  });

  it("returns the history oldest first, the policies once each, the CAs and the signed latest transition", async () => {
    const c = await open().coordinator;
    const first = await c.setManifest(setRequest(spec));
    const m2 = setRequest({ ...spec, policies: { web: {}, cache: {} } });
    const second = await c.setManifest(m2, callerOf(owner));
    const res = await c.getManifests();
    expect(res.Manifests.map((m) => toHex(sha256(m)))).toEqual([
      toHex(sha256(manifestBytes(spec))),
      toHex(sha256(m2.Manifest)),
    ]);
    expect(res.Policies.map((p) => toHex(sha256(p))).sort()).toEqual(
      [policyHash("cache"), policyHash("db"), policyHash("web")].sort(),
    );
    expect(fromUtf8(res.RootCA)).toBe(fromUtf8(second.RootCA));
    expect(fromUtf8(res.MeshCA)).toBe(fromUtf8(second.MeshCA));
    const { engine } = engineFromShares(first.SeedSharesDoc, shareOwner);
    const lt = res.LatestTransition;
    expect(lt).toBeDefined();
    expect(
      verifyLatestTransition(
        { transitionHash: lt?.TransitionHash ?? new Uint8Array(), signature: lt?.Signature ?? new Uint8Array() },
        engine.transactionSigningKey.publicKey,
      ),
    ).toBe(true);
  });
});

describe("Recover (user API)", () => {
  async function restarted(extra: Parameters<typeof open>[1] = {}) {
    const store = new MemoryStore();
    const a = await open(store).coordinator;
    const first = await a.setManifest(setRequest(spec));
    await a.setManifest(setRequest(spec), callerOf(owner));
    const before = await a.getManifests();
    const { seed, salt } = engineFromShares(first.SeedSharesDoc, shareOwner);
    const opened = open(store, extra);
    return { b: await opened.coordinator, seed, salt, before, first, generations: opened.generations };
  }

  it("a restarted Coordinator is in recovery: SetManifest and GetManifests refuse", async () => {
    const { b } = await restarted();
    expect(await b.status()).toMatchObject({ phase: "recovery", stale: false, generation: 0 });
    await expectCodeAsync(() => b.getManifests(), "COORDINATOR_IN_RECOVERY");
    await expectCodeAsync(() => b.setManifest(setRequest(spec), callerOf(owner)), "COORDINATOR_IN_RECOVERY");
  });

  it("recovers with the seed share owner's key and the right seed, keeping the history and the root CA", async () => {
    const { b, seed, salt, before, generations } = await restarted();
    await b.recover({ Seed: seed, Salt: salt }, callerOf(shareOwner));
    expect(await b.status()).toMatchObject({ phase: "running", generation: 2 });
    expect(generations).toEqual([0, 2]);
    const after = await b.getManifests();
    expect(after.Manifests).toEqual(before.Manifests);
    expect(keyOf(after.RootCA)).toBe(keyOf(before.RootCA));
    // User recovery makes a new mesh CA key (upstream does the same).
    expect(keyOf(after.MeshCA)).not.toBe(keyOf(before.MeshCA));
    await expectCodeAsync(
      () => b.recover({ Seed: seed, Salt: salt }, callerOf(shareOwner)),
      "COORDINATOR_ALREADY_RECOVERED",
    );
    // Running again: updates work.
    await b.setManifest(setRequest(spec), callerOf(owner));
  });

  it("refuses a caller that is not a seed share owner, before looking at the seed", async () => {
    const { b, seed, salt } = await restarted();
    await expectCodeAsync(
      () => b.recover({ Seed: seed, Salt: salt }, callerOf(otherShareOwner)),
      "COORDINATOR_RECOVERY_UNAUTHORIZED",
      "policy",
    );
    await expectCodeAsync(
      () => b.recover({ Seed: seed, Salt: salt }, callerOf(owner)),
      "COORDINATOR_RECOVERY_UNAUTHORIZED",
    );
    await expectCodeAsync(
      () => b.recover({ Seed: new Uint8Array(16), Salt: salt }, callerOf(otherShareOwner)),
      "COORDINATOR_RECOVERY_UNAUTHORIZED",
    );
    await expectCodeAsync(() => b.recover({ Seed: seed, Salt: salt }, {}), "COORDINATOR_CLIENT_CERT_MISSING");
    expect((await b.status()).phase).toBe("recovery");
  });

  it("refuses a wrong seed or salt (upstream's vectors: zero salt, zero seed, short seed, short salt)", async () => {
    const { b, seed, salt } = await restarted();
    const me = callerOf(shareOwner);
    await expectCodeAsync(
      () => b.recover({ Seed: seed, Salt: new Uint8Array(32) }, me),
      "COORDINATOR_RECOVERY_SEED_WRONG",
      "input",
    );
    await expectCodeAsync(
      () => b.recover({ Seed: new Uint8Array(32), Salt: salt }, me),
      "COORDINATOR_RECOVERY_SEED_WRONG",
    );
    const flipped = seed.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await expectCodeAsync(() => b.recover({ Seed: flipped, Salt: salt }, me), "COORDINATOR_RECOVERY_SEED_WRONG");
    await expectCodeAsync(
      () => b.recover({ Seed: new Uint8Array(16), Salt: salt }, me),
      "SEED_INVALID_LENGTH",
      "input",
    );
    await expectCodeAsync(
      () => b.recover({ Seed: seed, Salt: new Uint8Array(16) }, me),
      "SALT_INVALID_LENGTH",
      "input",
    );
    expect((await b.status()).phase).toBe("recovery");
  });

  it("refuses when there is nothing to recover", async () => {
    const c = await open().coordinator;
    await expectCodeAsync(
      () => c.recover({ Seed: new Uint8Array(64), Salt: new Uint8Array(32) }, callerOf(shareOwner)),
      "COORDINATOR_NOTHING_TO_RECOVER",
    );
  });

  it("without Force, refuses while ready peers exist; with Force, recovers anyway", async () => {
    let peers: { name: string; ip: string }[] = [{ name: "coordinator-1", ip: "10.0.0.2" }];
    const { b, seed, salt } = await restarted({ peers: { listPeers: async () => peers } });
    const me = callerOf(shareOwner);
    await expectCodeAsync(() => b.recover({ Seed: seed, Salt: salt }, me), "COORDINATOR_PEERS_AVAILABLE");
    peers = [];
    await b.recover({ Seed: seed, Salt: salt, Force: false }, me);
    expect((await b.status()).phase).toBe("running");

    const again = await restarted({ peers: { listPeers: async () => [{ name: "c-1", ip: "10.0.0.3" }] } });
    await again.b.recover({ Seed: again.seed, Salt: again.salt, Force: true }, me);
    expect((await again.b.status()).phase).toBe("running");
  });

  it("reports a failure to list peers, unless Force", async () => {
    const { b, seed, salt } = await restarted({
      peers: {
        listPeers: async () => {
          throw new Error("apiserver down");
        },
      },
    });
    await expectCodeAsync(
      () => b.recover({ Seed: seed, Salt: salt }, callerOf(shareOwner)),
      "COORDINATOR_PEER_LISTING_FAILED",
      "io",
    );
    await b.recover({ Seed: seed, Salt: salt, Force: true }, callerOf(shareOwner));
  });
});
