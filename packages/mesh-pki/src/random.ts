import { randomBytes } from "node:crypto";

/**
 * A source of random bytes. Injected everywhere randomness shapes an output (seeds, mesh CA keys,
 * certificate serials), so tests can make those outputs reproducible.
 */
export type RandomSource = (length: number) => Uint8Array;

/** The operating system's CSPRNG; what production callers pass. */
export const cryptoRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));
