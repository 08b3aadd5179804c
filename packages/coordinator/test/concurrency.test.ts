import { sha256, toHex } from "@contrast/core";
import { publicKeyDer, SeedEngine } from "@contrast/mesh-pki";
import { expectCodeAsync, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Coordinator, type HistoryStore, MemoryStore } from "../src/index.js";
import {
  callerOf,
  ecKey,
  engineFromShares,
  fakeEvidence,
  open,
  policyHash,
  rsaKey,
  SNP_OID,
  setRequest,
} from "./fixture.js";

const owner = ecKey();
const shareOwner = rsaKey();
const spec = (n: number) => ({
  policies: { [`workload-${n}`]: {}, coordinator: { Role: "coordinator" } },
  owners: [owner],
  seedShareOwners: [shareOwner],
});

/** A store whose compare-and-swap waits until `parties` callers arrived, so they race for real. */
function barrierStore(inner: HistoryStore, parties: number): HistoryStore & { arm(): void } {
  let waiting: (() => void)[] = [];
  let armed = false;
  return {
    get: (k) => inner.get(k),
    set: (k, v) => inner.set(k, v),
    async compareAndSwap(k, expected, next) {
      if (armed) {
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length === parties) {
            for (const w of waiting) w();
            waiting = [];
            armed = false;
          }
        });
      }
      return inner.compareAndSwap(k, expected, next);
    },
    arm() {
      armed = true;
    },
  };
}

async function peerRecover(from: Coordinator, to: Coordinator): Promise<void> {
  const key = ecKey("P-256");
  const caller = callerOf(key);
  await to.recoverFromPeer({
    client: {
      newAttestationNonce: () => from.newAttestationNonce(caller),
      recover: (r) => from.meshRecover(r, caller),
    },
    clientPublicKeyDer: publicKeyDer(key),
    issuer: { oid: SNP_OID, issue: async (rd) => fakeEvidence(policyHash("coordinator"), rd) },
  });
}

// Each run sets up to ~20 manifests (each a new CA): about 30 ms a run on this machine.
const RUNS = fuzzRuns(25);

describe("one Coordinator", () => {
  it("runs concurrent SetManifests one after the other: both succeed, the history stays linear", async () => {
    const c = await open().coordinator;
    await c.setManifest(setRequest(spec(0)));
    const reqs = [1, 2, 3].map((n) => setRequest(spec(n)));
    await Promise.all(reqs.map((r) => c.setManifest(r, callerOf(owner))));
    const { Manifests } = await c.getManifests();
    expect(Manifests).toHaveLength(4);
    expect(new Set(Manifests.slice(1).map((m) => toHex(sha256(m))))).toEqual(
      new Set(reqs.map((r) => toHex(sha256(r.Manifest)))),
    );
    expect(await c.status()).toMatchObject({ phase: "running", generation: 4 });
  });
});

describe("two Coordinators on one store", () => {
  it("concurrent first SetManifests: one wins, the other goes to recovery", async () => {
    const store = barrierStore(new MemoryStore(), 2);
    const a = await open(store).coordinator;
    const b = await open(store).coordinator;
    store.arm();
    const results = await Promise.allSettled([a.setManifest(setRequest(spec(1))), b.setManifest(setRequest(spec(2)))]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason.code).toBe("HISTORY_CONCURRENT_UPDATE");
    const loser = results[0]?.status === "rejected" ? a : b;
    expect((await loser.status()).phase).toBe("recovery");
    await expectCodeAsync(() => loser.getManifests(), "COORDINATOR_IN_RECOVERY");
  });

  it("concurrent updates never fork the history; the loser is stale until recovered", async () => {
    const store = barrierStore(new MemoryStore(), 2);
    const a = await open(store).coordinator;
    const b = await open(store).coordinator;
    await a.setManifest(setRequest(spec(1)));
    await peerRecover(a, b);
    store.arm();
    const results = await Promise.allSettled([
      a.setManifest(setRequest(spec(2)), callerOf(owner)),
      b.setManifest(setRequest(spec(3)), callerOf(owner)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const [winner, loser] = results[0]?.status === "fulfilled" ? [a, b] : [b, a];
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason.code).toBe(
      "HISTORY_CONCURRENT_UPDATE",
    );
    expect(await loser.status()).toMatchObject({ phase: "recovery", stale: true });
    expect(await winner.status()).toMatchObject({ phase: "running", generation: 2 });
    expect((await winner.getManifests()).Manifests).toHaveLength(2);
    await expectCodeAsync(() => loser.setManifest(setRequest(spec(4)), callerOf(owner)), "COORDINATOR_IN_RECOVERY");
    await peerRecover(winner, loser);
    expect((await loser.getManifests()).Manifests).toEqual((await winner.getManifests()).Manifests);
  });

  it("a running Coordinator notices that another one moved the history and goes to recovery", async () => {
    const store = new MemoryStore();
    const a = await open(store).coordinator;
    const b = await open(store).coordinator;
    await a.setManifest(setRequest(spec(1)));
    await peerRecover(a, b);
    expect((await b.status()).phase).toBe("running");
    await a.setManifest(setRequest(spec(2)), callerOf(owner));
    expect(await b.status()).toMatchObject({ phase: "recovery", stale: true, generation: 1 });
    await expectCodeAsync(() => b.getManifests(), "COORDINATOR_IN_RECOVERY");
    await expectCodeAsync(
      () =>
        b.newMeshCert(
          { AttestationNonce: new Uint8Array(), Evidence: new Uint8Array(), EvidenceOID: "" },
          callerOf(ecKey("P-256")),
        ),
      "COORDINATOR_MESH_NOT_READY",
    );
    await peerRecover(a, b);
    expect(await b.status()).toMatchObject({ phase: "running", stale: false, generation: 2 });
  });

  it(
    "(property) random interleavings of set, get and recover keep the history linear and complete",
    async () => {
      type Op = { who: 0 | 1; kind: "set" | "get" | "recoverUser" | "recoverPeer" | "status" };
      const op = fc.record({
        who: fc.constantFrom<0 | 1>(0, 1),
        kind: fc.constantFrom<Op["kind"]>("set", "set", "get", "recoverUser", "recoverPeer", "status"),
      });
      const allowed = new Set([
        "HISTORY_CONCURRENT_UPDATE",
        "COORDINATOR_IN_RECOVERY",
        "COORDINATOR_NO_MANIFEST",
        "COORDINATOR_ALREADY_RECOVERED",
        "COORDINATOR_NOTHING_TO_RECOVER",
        "COORDINATOR_MESH_NOT_READY",
        "COORDINATOR_PEER_STATE_MOVED",
      ]);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
          async (batches) => {
            const store = new MemoryStore();
            const nodes = [await open(store).coordinator, await open(store).coordinator] as const;
            const acknowledged: string[] = [];
            let secret: { seed: Uint8Array; salt: Uint8Array } | undefined;
            let n = 0;
            for (const batch of batches) {
              const runs = batch.map(async (o): Promise<void> => {
                const me = nodes[o.who];
                const other = nodes[1 - o.who] as Coordinator;
                switch (o.kind) {
                  case "set": {
                    const req = setRequest(spec(n++));
                    const res = await me.setManifest(req, callerOf(owner));
                    acknowledged.push(toHex(sha256(req.Manifest)));
                    if (res.SeedSharesDoc !== undefined) secret = engineFromShares(res.SeedSharesDoc, shareOwner);
                    return;
                  }
                  case "get": {
                    const res = await me.getManifests();
                    expect(res.Manifests.length).toBeGreaterThan(0);
                    return;
                  }
                  case "recoverUser":
                    if (secret !== undefined) {
                      await me.recover({ Seed: secret.seed, Salt: secret.salt, Force: true }, callerOf(shareOwner));
                    }
                    return;
                  case "recoverPeer":
                    return peerRecover(other, me);
                  case "status":
                    await me.status();
                    return;
                }
              });
              for (const r of await Promise.allSettled(runs)) {
                if (r.status === "rejected")
                  expect(allowed, String(r.reason?.stack ?? r.reason)).toContain(r.reason?.code);
              }
            }
            const latest = await nodes[0].history.readLatestUnverified();
            if (acknowledged.length === 0) {
              expect(latest).toBeUndefined();
              return;
            }
            // The latest transition is signed by the deployment's seed, and the chain it heads holds
            // exactly the acknowledged manifests: none lost, none extra, no fork.
            const s = secret as { seed: Uint8Array; salt: Uint8Array };
            const engine = SeedEngine.fromSeed(s.seed, s.salt);
            expect(await nodes[0].history.getLatest(engine.transactionSigningKey.publicKey)).toBeDefined();
            const chain = await nodes[0].history.chain(latest?.transitionHash ?? new Uint8Array());
            expect(chain.map((e) => toHex(sha256(e.manifest))).sort()).toEqual([...acknowledged].sort());
            for (const node of nodes) {
              const status = await node.status();
              if (status.phase === "running") {
                expect((await node.getManifests()).Manifests).toHaveLength(acknowledged.length);
              }
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    Math.max(120_000, RUNS * 100),
  );
});
