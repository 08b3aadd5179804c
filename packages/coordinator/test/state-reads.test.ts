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
