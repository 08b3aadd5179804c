import fc from "fast-check";
import { expect } from "vitest";
import { type HistoryStore, MemoryStore } from "../../src/index.js";

const KEYS = ["transitions/latest", "manifests/a", "policies/b-c"] as const;

type Op =
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "set"; readonly key: string; readonly value: Uint8Array }
  | {
      readonly kind: "cas";
      readonly key: string;
      /** "current": the value the model holds (so swaps also succeed); "absent"; or a given value. */
      readonly expected: "current" | "absent" | Uint8Array;
      readonly next: Uint8Array;
    };

const value = fc.uint8Array({ maxLength: 48 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("get" as const), key: fc.constantFrom(...KEYS) }),
  fc.record({ kind: fc.constant("set" as const), key: fc.constantFrom(...KEYS), value }),
  fc.record({
    kind: fc.constant("cas" as const),
    key: fc.constantFrom(...KEYS),
    expected: fc.oneof(fc.constant("current" as const), fc.constant("absent" as const), value),
    next: value,
  }),
);

/**
 * Model-based check: any sequence of get/set/compareAndSwap on `fresh()` gives the answers the
 * MemoryStore gives (absent and empty values are different things in both).
 */
export function behavesLikeMemoryStore(fresh: () => Promise<HistoryStore>): fc.IAsyncProperty<[Op[]]> {
  return fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
    const model = new MemoryStore();
    const store = await fresh();
    for (const o of ops) {
      if (o.kind === "get") {
        expect(await store.get(o.key)).toEqual(await model.get(o.key));
      } else if (o.kind === "set") {
        await store.set(o.key, o.value);
        await model.set(o.key, o.value);
      } else {
        const expected =
          o.expected === "current" ? await model.get(o.key) : o.expected === "absent" ? undefined : o.expected;
        const want = await model.compareAndSwap(o.key, expected, o.next);
        expect(await store.compareAndSwap(o.key, expected, o.next)).toBe(want);
      }
    }
    for (const k of KEYS) expect(await store.get(k)).toEqual(await model.get(k));
  });
}
