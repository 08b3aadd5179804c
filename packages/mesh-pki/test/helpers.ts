import "reflect-metadata";
import { createHash, webcrypto } from "node:crypto";
import { fuzzRuns, testdataPath } from "@contrast/testkit";
import * as x509 from "@peculiar/x509";
import type { RandomSource } from "../src/random.js";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { childEnv, expectCode, openssl, scratchDir } from "@contrast/testkit";
export { x509 };

export const FUZZ_RUNS = fuzzRuns(200);
export const TESTDATA = testdataPath("mesh-pki");

/** A deterministic RandomSource: SHA-256 in counter mode over a label. */
export function testRandom(label = "test"): RandomSource {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 32) {
      const block = createHash("sha256").update(`${label}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, length - i)), i);
    }
    return out;
  };
}
