import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EvidenceError,
  parseEndorsementKey,
  parseSnpReport,
  SNP_REPORT_SIZE,
  SNP_SIGNED_SIZE,
  verifySnpReport,
} from "../src/index.js";
import { FUZZ_RUNS, SNP_VECTORS, snpFile } from "./vectors.js";

/** Deterministic sample of bit positions: every run of CI checks the same flips. */
function sampleBits(seed: string, count: number, totalBits: number): number[] {
  const out = new Set<number>();
  for (let i = 0; out.size < Math.min(count, totalBits); i++) {
    const h = createHash("sha256").update(`${seed}:${i}`).digest();
    out.add(h.readUInt32BE(0) % totalBits);
  }
  return [...out];
}

const BIT_FLIPS = Number(process.env.SNP_BIT_FLIPS ?? 2000);

describe("bit flips in the signed region of every real SNP report (property)", () => {
  it.each(SNP_VECTORS)("$name: every sampled flip is rejected", (v) => {
    const base = snpFile(v.report);
    const key = snpFile(v.key);
    const now = new Date(v.now);
    // The signed region and the signature itself.
    const bits = sampleBits(v.report, BIT_FLIPS, (SNP_SIGNED_SIZE + 96) * 8).map((b) =>
      b < SNP_SIGNED_SIZE * 8
        ? b
        : (b < (SNP_SIGNED_SIZE + 48) * 8 ? 0x2a0 * 8 : (0x2e8 - 48) * 8) + b - SNP_SIGNED_SIZE * 8,
    );
    let rejected = 0;
    for (const bit of bits) {
      const report = new Uint8Array(base);
      report[bit >> 3] = (report[bit >> 3] as number) ^ (1 << (bit & 7));
      try {
        verifySnpReport({ report, endorsementKey: key, now, product: v.product });
      } catch (e) {
        expect(e).toBeInstanceOf(EvidenceError);
        rejected++;
        continue;
      }
      throw new Error(`flip of bit ${bit} (byte 0x${(bit >> 3).toString(16)}) was accepted`);
    }
    expect(rejected).toBe(bits.length);
  });
});

describe("parsers on hostile input (fuzz)", () => {
  it("parseSnpReport: any bytes of any length give a report or SNP_REPORT_MALFORMED", () => {
    const base = snpFile(SNP_VECTORS[0].report);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 2 * SNP_REPORT_SIZE }),
      fc.uint8Array({ minLength: SNP_REPORT_SIZE, maxLength: SNP_REPORT_SIZE }),
      fc.tuple(fc.nat({ max: SNP_REPORT_SIZE - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
        const r = new Uint8Array(base);
        r[i] = b;
        return r;
      }),
      fc.nat({ max: SNP_REPORT_SIZE + 16 }).map((n) => {
        const r = new Uint8Array(n);
        r.set(base.subarray(0, Math.min(n, base.length)));
        return r;
      }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const r = parseSnpReport(bytes);
          expect(r.raw).toHaveLength(SNP_REPORT_SIZE);
        } catch (e) {
          expect((e as EvidenceError).code).toBe("SNP_REPORT_MALFORMED");
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("parseEndorsementKey: truncated, extended and mutated certificates give coded errors (fuzz)", () => {
    const der = snpFile("trustee-milan-vlek.der");
    const input = fc.oneof(
      fc.nat({ max: der.length }).map((n) => der.subarray(0, n)),
      fc.uint8Array({ maxLength: 64 }).map((extra) => new Uint8Array([...der, ...extra])),
      fc
        .array(fc.tuple(fc.nat({ max: der.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        })
        .map((edits) => {
          const c = new Uint8Array(der);
          for (const [i, b] of edits) c[i] = b;
          return c;
        }),
      fc.uint8Array({ maxLength: 256 }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          parseEndorsementKey(bytes);
        } catch (e) {
          expect((e as { code?: string }).code).toMatch(/^(SNP_CERT_MALFORMED|DER_MALFORMED|PEM_[A-Z_]+)$/);
        }
      }),
      { numRuns: Math.min(FUZZ_RUNS, 10_000) },
    );
  });
});
