import { randomBytes } from "node:crypto";
import { manualClock, sha256, toHex } from "@contrast/core";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NonceTable } from "../src/nonces.js";

const random = (n: number) => new Uint8Array(randomBytes(n));
const KEYS = [0, 1, 2].map((i) => sha256(new Uint8Array([i])));

describe("NonceTable", () => {
  it("(property) agrees with a model: single use, bound to a key, TTL, bounded, oldest evicted", () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant("issue" as const), key: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ op: fc.constant("consume" as const), pick: fc.nat(), key: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ op: fc.constant("forge" as const), key: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 6 }), (steps, capacity) => {
        const clock = manualClock("2026-01-01T00:00:00Z");
        const table = new NonceTable({ clock, random, ttlMs: 60_000, capacity });
        // The model: live nonces in issue order, with their key and expiry.
        let live: { id: string; key: number; expires: number }[] = [];
        const issued: { nonce: Uint8Array; key: number }[] = [];
        for (const s of steps) {
          const now = clock.now().getTime();
          if (s.op === "advance") {
            clock.advance(s.ms);
          } else if (s.op === "issue") {
            const nonce = table.issue(KEYS[s.key] as Uint8Array);
            expect(nonce).toHaveLength(32);
            live = live.filter((e) => e.expires > now);
            while (live.length >= capacity) live.shift();
            live.push({ id: toHex(nonce), key: s.key, expires: now + 60_000 });
            issued.push({ nonce, key: s.key });
          } else {
            const nonce = s.op === "forge" ? random(32) : issued[s.pick % Math.max(1, issued.length)]?.nonce;
            if (nonce === undefined) continue;
            const entry = live.find((e) => e.id === toHex(nonce));
            live = live.filter((e) => e.id !== toHex(nonce));
            const expected =
              entry === undefined
                ? "COORDINATOR_NONCE_UNKNOWN"
                : now >= entry.expires
                  ? "COORDINATOR_NONCE_EXPIRED"
                  : entry.key !== s.key
                    ? "COORDINATOR_NONCE_KEY_MISMATCH"
                    : undefined;
            let got: string | undefined;
            try {
              table.consume(nonce, KEYS[s.key] as Uint8Array);
            } catch (e) {
              got = (e as { code: string }).code;
            }
            expect(got).toBe(expected);
          }
          expect(table.size).toBeLessThanOrEqual(capacity);
        }
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it("(fuzz) consume never accepts arbitrary bytes and never grows the table", () => {
    const table = new NonceTable({ clock: manualClock(0), random, capacity: 4 });
    const key = KEYS[0] as Uint8Array;
    table.issue(key);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expect(() => table.consume(bytes, key)).toThrow();
        expect(table.size).toBeLessThanOrEqual(1);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it("refuses a random source that returns the wrong length", () => {
    const table = new NonceTable({ clock: manualClock(0), random: () => new Uint8Array(8) });
    expect(() => table.issue(KEYS[0] as Uint8Array)).toThrow(expect.objectContaining({ code: "INTERNAL" }));
  });
});
