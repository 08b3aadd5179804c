import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EvidenceError } from "../src/errors.js";
import { parseEndorsementKey } from "../src/snp/endorsement.js";
import { parseSnpReport, SNP_REPORT_SIZE, SNP_SIGNED_SIZE, snpReportSigningKey } from "../src/snp/report.js";
import { verifySnpReport } from "../src/snp/verify.js";
import { BIT_FLIPS, expectEveryFlipRejected, FUZZ_RUNS, SNP_VECTORS, sampleBits, snpFile } from "./vectors.js";

describe("bit flips in the signed region of every real SNP report (property)", () => {
  it.each(SNP_VECTORS)("$name: every sampled flip is rejected", (v) => {
    const base = snpFile(v.report);
    const key = snpFile(v.key);
    const now = new Date(v.now);
    // The signed region and the 48 significant bytes of r and of s.
    const ranges: [number, number][] = [
      [0, SNP_SIGNED_SIZE],
      [0x2a0, 0x2a0 + 48],
      [0x2e8, 0x2e8 + 48],
    ];
    const bits = sampleBits(v.report, BIT_FLIPS, ranges);
    const checked = expectEveryFlipRejected(base, bits, (report) =>
      verifySnpReport({ report, endorsementKey: key, now, product: v.product }),
    );
    expect(checked).toBe(Math.min(BIT_FLIPS, (SNP_SIGNED_SIZE + 96) * 8));
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

  it("snpReportSigningKey: the key parseSnpReport reads, or the same SNP_REPORT_MALFORMED, for any signer field (fuzz)", () => {
    const outcome = (f: () => string): string => {
      try {
        return f();
      } catch (e) {
        return `error ${(e as EvidenceError).code}`;
      }
    };
    const input = fc.oneof(
      fc.tuple(fc.constantFrom(...SNP_VECTORS), fc.nat({ max: 0xffffffff })).map(([v, signer]) => {
        const r = new Uint8Array(snpFile(v.report));
        new DataView(r.buffer).setUint32(0x48, signer, true);
        return r;
      }),
      fc.tuple(fc.constantFrom(...SNP_VECTORS), fc.integer({ min: 0, max: 7 }), fc.boolean()).map(([v, key, high]) => {
        const r = new Uint8Array(snpFile(v.report));
        new DataView(r.buffer).setUint32(0x48, (key << 2) | (high ? 1 << 5 : 0) | 3, true);
        return r;
      }),
      fc.uint8Array({ maxLength: SNP_REPORT_SIZE + 8 }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const parsed = outcome(() => parseSnpReport(bytes).signingKey);
        const read = outcome(() => snpReportSigningKey(bytes));
        // The shortcut checks only what it reads: where the full parse succeeds it must agree.
        if (!parsed.startsWith("error")) expect(read).toBe(parsed);
        else expect(read === "vcek" || read === "vlek" || read === "none" || read === parsed).toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
    for (const v of SNP_VECTORS) expect(snpReportSigningKey(snpFile(v.report))).toBe(v.signingKey);
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
