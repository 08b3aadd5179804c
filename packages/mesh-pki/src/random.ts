import { randomBytes } from "node:crypto";
import { MeshPkiError } from "./errors.js";

/**
 * A source of random bytes. Injected everywhere randomness shapes an output (seeds, mesh CA keys,
 * certificate serials), so tests can make those outputs reproducible.
 */
export type RandomSource = (length: number) => Uint8Array;

/** The operating system's CSPRNG; what production callers pass. */
export const cryptoRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));

/** Draws exactly `length` bytes, so a broken injected source fails loudly instead of weakening keys. */
export function drawRandom(random: RandomSource, length: number): Uint8Array {
  const out = random(length);
  if (!(out instanceof Uint8Array) || out.length !== length) {
    throw new MeshPkiError(
      "RANDOM_SOURCE_INVALID",
      `the random source returned ${String(out?.length)} bytes, not ${length}`,
      {
        kind: "internal",
        hint: "The injected RandomSource must return a Uint8Array of exactly the requested length.",
      },
    );
  }
  return new Uint8Array(out);
}
