import { utf8 } from "@contrast/core";
import { expect } from "vitest";
import type { HistoryStore } from "../src/index.js";

/** The compareAndSwap contract every HistoryStore backend must keep: absent, mismatch, match. */
export async function expectCompareAndSwapContract(store: HistoryStore): Promise<void> {
  const k = "transitions/latest";
  expect(await store.compareAndSwap(k, utf8("x"), utf8("a"))).toBe(false);
  expect(await store.get(k)).toBeUndefined();
  expect(await store.compareAndSwap(k, undefined, utf8("a"))).toBe(true);
  expect(await store.compareAndSwap(k, undefined, utf8("b"))).toBe(false);
  expect(await store.compareAndSwap(k, utf8("b"), utf8("c"))).toBe(false);
  expect(await store.compareAndSwap(k, utf8("a"), utf8("c"))).toBe(true);
  expect(await store.get(k)).toEqual(utf8("c"));
}
