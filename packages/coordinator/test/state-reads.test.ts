import { utf8 } from "@contrast/core";
import { describe, expect, it, vi } from "vitest";
import { type HistoryStore, MemoryStore } from "../src/index.js";
import { callerOf, ecKey, open, setRequest } from "./fixture.js";

const owner = ecKey();
const spec = (n: number) => ({ policies: { [`workload-${n}`]: {} }, owners: [owner] });

/**
 * A store that counts reads of `transitions/latest` and can hold them: a held read takes its value
 * when it STARTS (as a read racing a write may) and delivers it when released. Compare-and-swap
 * can be held too.
 */
function heldStore(inner: HistoryStore) {
  let holdReads = false;
  let holdNextCas = false;
  const heldReads: (() => void)[] = [];
  let heldCas: (() => void) | undefined;
  let reads = 0;
  const store: HistoryStore = {
    get(k) {
      const value = inner.get(k);
      if (k !== "transitions/latest") return value;
      reads++;
      if (!holdReads) return value;
      return new Promise((resolve) => heldReads.push(() => resolve(value)));
    },
    set: (k, v) => inner.set(k, v),
    async compareAndSwap(k, expected, next) {
      if (holdNextCas) {
        holdNextCas = false;
        await new Promise<void>((resolve) => {
          heldCas = resolve;
        });
      }
      return inner.compareAndSwap(k, expected, next);
    },
  };
  return {
    store,
    reads: () => reads,
    holdReads() {
      holdReads = true;
    },
    /** Stops holding and delivers the held reads, in the order they started. */
    releaseReads() {
      holdReads = false;
      for (const r of heldReads.splice(0)) r();
    },
    heldReads: () => heldReads.length,
    holdNextCas() {
      holdNextCas = true;
    },
    casHeld: () => heldCas !== undefined,
    releaseCas() {
      heldCas?.();
      heldCas = undefined;
    },
  };
}

describe("StateKeeper reads of transitions/latest", () => {
  it("concurrent calls share reads: 200 calls during a read cost one more read", async () => {
    const h = heldStore(new MemoryStore());
    const c = await open(h.store).coordinator;
    await c.setManifest(setRequest(spec(0)));
    h.holdReads();
    const first = c.status();
    const before = h.reads();
    const rest = Array.from({ length: 200 }, () => c.status());
    expect(h.reads()).toBe(before); // they wait for a read that starts after theirs arrived
    h.releaseReads();
    const all = await Promise.all([first, ...rest]);
    expect(all.every((s) => s.phase === "running")).toBe(true);
    expect(h.reads() - before).toBe(1);
  });

  it("a call never takes a read that started before it arrived: a move before the call is seen (stale)", async () => {
    const h = heldStore(new MemoryStore());
    const c = await open(h.store).coordinator;
    await c.setManifest(setRequest(spec(0)));
    h.holdReads();
    const early = c.status(); // its read starts now and sees the old latest
    expect(h.heldReads()).toBe(1);
    // Another writer moves latest after that read started and before the next call arrives.
    await h.store.set("transitions/latest", utf8("moved by another Coordinator"));
    const late = c.status();
    h.releaseReads();
    expect((await early).phase).toBe("running"); // it arrived before the move: either answer is right
    expect(await late).toMatchObject({ phase: "recovery", stale: true });
  });

  it("a read that raced this process's own SetManifest does not make it stale", async () => {
    const h = heldStore(new MemoryStore());
    const c = await open(h.store).coordinator;
    await c.setManifest(setRequest(spec(0)));
    h.holdNextCas();
    const update = c.setManifest(setRequest(spec(1)), callerOf(owner));
    await vi.waitFor(() => expect(h.casHeld()).toBe(true));
    h.holdReads();
    const racing = c.status(); // reads the latest from before the update's CAS
    expect(h.heldReads()).toBe(1);
    h.releaseCas();
    await update; // installed while the read is still held
    h.releaseReads();
    expect(await racing).toMatchObject({ phase: "running", stale: false });
    expect(await c.status()).toMatchObject({ phase: "running", stale: false, generation: 2 });
  });
});

/**
 * A store whose compare-and-swap of `transitions/latest` can be held AFTER it wrote: the window in
 * which the store already holds this process's new latest and the state is not installed yet.
 * With `sync`, it offers getSync (as the filesystem store does) and counts those reads.
 */
function lateCasStore(inner: MemoryStore, sync: boolean) {
  let holdNext = false;
  let written: (() => void) | undefined;
  let release: (() => void) | undefined;
  let syncReads = 0;
  const store: HistoryStore = {
    get: (k) => inner.get(k),
    set: (k, v) => inner.set(k, v),
    async compareAndSwap(k, expected, next) {
      const swapped = await inner.compareAndSwap(k, expected, next);
      if (holdNext && k === "transitions/latest") {
        holdNext = false;
        await new Promise<void>((resolve) => {
          release = resolve;
          written?.();
        });
      }
      return swapped;
    },
    ...(sync
      ? {
          getSync(k: string) {
            if (k === "transitions/latest") syncReads++;
            return inner.getSync(k);
          },
        }
      : {}),
  };
  return {
    store,
    syncReads: () => syncReads,
    /** Holds the next CAS of latest once it has written; resolves when it has. */
    holdNextCas(): Promise<void> {
      holdNext = true;
      return new Promise<void>((resolve) => {
        written = resolve;
      });
    },
    releaseCas: () => release?.(),
  };
}

describe("StateKeeper with a store that reads synchronously", () => {
  it("calls of one event-loop turn share one read that starts after all of them arrived", async () => {
    const h = lateCasStore(new MemoryStore(), true);
    const c = await open(h.store).coordinator;
    await c.setManifest(setRequest(spec(0)));
    const before = h.syncReads();
    const all = await Promise.all(Array.from({ length: 20 }, () => c.status()));
    expect(all.every((s) => s.phase === "running")).toBe(true);
    expect(h.syncReads() - before).toBe(1);
    // Calls in later turns read again.
    await c.status();
    await c.status();
    expect(h.syncReads() - before).toBe(3);
  });

  it("a move by another writer before a call arrives is seen by that call, even in the same turn", async () => {
    const h = lateCasStore(new MemoryStore(), true);
    const c = await open(h.store).coordinator;
    await c.setManifest(setRequest(spec(0)));
    const early = c.status();
    // Same turn, after `early` arrived and before the shared read has started.
    await h.store.set("transitions/latest", utf8("moved by another Coordinator"));
    const late = c.status();
    expect((await early).phase).toBe("recovery"); // the shared read started after the move
    expect(await late).toMatchObject({ phase: "recovery", stale: true });
  });

  it("a failed synchronous read fails the calls that shared it, and the next turn reads again", async () => {
    const inner = new MemoryStore();
    let fail = false;
    const store: HistoryStore = {
      get: (k) => inner.get(k),
      set: (k, v) => inner.set(k, v),
      compareAndSwap: (k, e, n) => inner.compareAndSwap(k, e, n),
      getSync(k) {
        if (fail) throw new Error("disk gone");
        return inner.getSync(k);
      },
    };
    const c = await open(store).coordinator;
    await c.setManifest(setRequest(spec(0)));
    fail = true;
    const results = await Promise.allSettled([c.status(), c.status()]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await c.status()).toMatchObject({ phase: "running", stale: false });
  });

  for (const sync of [true, false]) {
    it(`a call between this process's own CAS and its install waits instead of going stale (${sync ? "sync" : "async"} reads)`, async () => {
      const h = lateCasStore(new MemoryStore(), sync);
      const c = await open(h.store).coordinator;
      await c.setManifest(setRequest(spec(0)));
      const written = h.holdNextCas();
      const update = c.setManifest(setRequest(spec(1)), callerOf(owner));
      await written; // the store holds generation 2's latest; the Coordinator still has generation 1
      const racing = c.status();
      await new Promise((r) => setTimeout(r, 10));
      h.releaseCas();
      await update;
      expect(await racing).toMatchObject({ phase: "running", stale: false, generation: 2 });
      expect(await c.status()).toMatchObject({ phase: "running", stale: false, generation: 2 });
    });
  }
});
