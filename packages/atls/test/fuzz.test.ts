import { isContrastError, systemClock } from "@contrast/core";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { checkAtlsCertificate, createAtlsCertificate, EvidenceCache, verifyEvidence } from "../src/index.js";
import { authority, issuer, random, verifyOptions } from "./helpers.js";

// Peers control every byte of their certificate and evidence: whatever they send, the answer is
// a ContrastError with a code (never a TypeError, never acceptance of a changed document).

let cert: Uint8Array;
let evidence: Uint8Array;
let rd: Uint8Array;
beforeAll(async () => {
  rd = random(64);
  evidence = await issuer().issue(rd);
  cert = (await createAtlsCertificate({ issuer: issuer(), nonce: random(32), clock: systemClock, random }))
    .certificateDer;
});

const mutate = (base: () => Uint8Array) =>
  fc
    .tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat())
    .map(([flips, cut]) => {
      const b = Uint8Array.from(base());
      for (const [i, x] of flips) b[i % b.length] = (b[i % b.length] as number) ^ x;
      return cut % 4 === 0 ? b.subarray(0, cut % b.length) : b;
    });

describe("untrusted peer bytes", () => {
  it("checkAtlsCertificate answers mutated and random certificates with ATLS_ codes (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          mutate(() => cert),
          fc.uint8Array({ maxLength: 400 }),
        ),
        (bytes) => {
          try {
            checkAtlsCertificate(bytes, new Date());
          } catch (e) {
            expect((e as { code?: string }).code).toMatch(/^ATLS_/);
          }
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });

  it("verifyEvidence refuses every changed evidence document with a ContrastError (fuzz)", async () => {
    const cache = new EvidenceCache();
    const options = verifyOptions(systemClock, authority());
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutate(() => evidence),
          fc.uint8Array({ maxLength: 300 }),
        ),
        async (bytes) => {
          const result = await verifyEvidence({
            oid: "1.3.9901.2.1",
            evidence: bytes,
            reportData: rd,
            referenceValues: options.referenceValues,
            allowedHostData: options.allowedHostData,
            now: new Date(),
            cache,
          }).then(
            (v) => v,
            (e: unknown) => e,
          );
          if (isContrastError(result)) return;
          expect(result, String(result)).not.toBeInstanceOf(Error);
          // Accepted: only if the mutation left every signed field intact (e.g. a flip in an
          // unsigned part of the document, such as the copy of the chain it carries).
          expect((result as { platform: string }).platform).toBe("sim");
          expect((result as { reportData: Uint8Array }).reportData).toEqual(rd);
        },
      ),
      { numRuns: fuzzRuns(150) },
    );
  });
});
