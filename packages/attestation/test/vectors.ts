import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fuzzRuns, testdataPath } from "@contrast/testkit";
import { expect } from "vitest";
import { EvidenceError } from "../src/errors.js";

export const SNP_DIR = testdataPath("attestation/snp");
export const snpFile = (name: string): Uint8Array => new Uint8Array(readFileSync(join(SNP_DIR, name)));
export const FUZZ_RUNS = fuzzRuns(10_000);

/** The real reports and their expected facts, from testdata/attestation/SOURCES.md. */
export const SNP_VECTORS = [
  {
    name: "S1 go-sev-guest Milan v2 (debug policy)",
    report: "gsg-milan-report.bin",
    key: "gsg-milan-vcek.der",
    now: "2024-01-01T00:00:00Z",
    product: "Milan",
    version: 2,
    policy: 0xb0000n,
    vmpl: 0,
    signingKey: "vcek",
    tcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
    measurement: "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
    chipIdPrefix: "3ac3fe21e13fb099",
    reportDataPrefix: "0102030405000000",
  },
  {
    name: "S2 virtee Milan v2",
    report: "virtee-milan-report.bin",
    key: "virtee-milan-vcek.der",
    now: "2024-01-01T00:00:00Z",
    product: "Milan",
    version: 2,
    policy: 0x30000n,
    vmpl: 0,
    signingKey: "vcek",
    tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
    measurement: "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f",
    chipIdPrefix: "d49554ec717f4e5b",
    reportDataPrefix: "d447b55d197491bf",
  },
  {
    name: "S4 trustee Milan v2 with ID block, current != reported TCB",
    report: "trustee-milan-idblock-report.bin",
    key: "trustee-milan-idblock-vcek.der",
    now: "2024-01-01T00:00:00Z",
    product: "Milan",
    version: 2,
    policy: 0x3001fn,
    vmpl: 0,
    signingKey: "vcek",
    tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
    measurement: "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
    chipIdPrefix: "c38427a30d4c7af9",
    reportDataPrefix: "ec6c52d7533cc2c4",
  },
  {
    name: "S5 trustee Milan v3 VLEK, VMPL 1 (AWS)",
    report: "trustee-milan-vlek-report.bin",
    key: "trustee-milan-vlek.der",
    now: "2025-06-01T00:00:00Z",
    product: "Milan",
    version: 3,
    policy: 0x30000n,
    vmpl: 1,
    signingKey: "vlek",
    tcb: { bootloader: 4, tee: 0, snp: 24, microcode: 217 },
    measurement: "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0",
    chipIdPrefix: "0000000000000000",
    reportDataPrefix: "819770b7e6ea6df8",
  },
  {
    name: "S6 trustee Genoa-line v3, CPU model A0h",
    report: "trustee-genoa-e2e-report.bin",
    key: "trustee-genoa-e2e-vcek.der",
    now: "2026-01-01T00:00:00Z",
    product: "Genoa",
    version: 3,
    policy: 0x30000n,
    vmpl: 0,
    signingKey: "vcek",
    tcb: { bootloader: 10, tee: 0, snp: 23, microcode: 25 },
    measurement: "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e",
    chipIdPrefix: "371c55d6d15cb50f",
    reportDataPrefix: "7e7320889600c7ac",
  },
  {
    name: "S7 trustee Azure Genoa v3",
    report: "trustee-azure-genoa-report.bin",
    key: "trustee-azure-genoa-vcek.pem",
    now: "2026-01-01T00:00:00Z",
    product: "Genoa",
    version: 3,
    policy: 0x3001fn,
    vmpl: 0,
    signingKey: "vcek",
    tcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
    measurement: "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae",
    chipIdPrefix: "0506ffba875e939c",
    reportDataPrefix: "b581f12e29a2d7d6",
  },
] as const;

/** The error `fn` throws, which must be an EvidenceError (or a AttestationPolicyError where allowed). */
export function rejection(fn: () => unknown): EvidenceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EvidenceError);
    return e as EvidenceError;
  }
  throw new Error("expected a rejection");
}

/** A deterministic sample of bit positions within byte ranges: CI checks the same flips each run. */
export function sampleBits(seed: string, count: number, ranges: readonly [number, number][]): number[] {
  const total = ranges.reduce((n, [a, b]) => n + (b - a) * 8, 0);
  if (count >= total) return ranges.flatMap(([a, b]) => Array.from({ length: (b - a) * 8 }, (_, i) => a * 8 + i));
  const out = new Set<number>();
  for (let i = 0; out.size < Math.min(count, total); i++) {
    let k = createHash("sha256").update(`${seed}:${i}`).digest().readUInt32BE(0) % total;
    for (const [a, b] of ranges) {
      if (k < (b - a) * 8) {
        out.add(a * 8 + k);
        break;
      }
      k -= (b - a) * 8;
    }
  }
  return [...out];
}

/** Flips each sampled bit in turn and requires `verify` to reject every copy with an EvidenceError. */
export function expectEveryFlipRejected(
  base: Uint8Array,
  bits: readonly number[],
  verify: (bytes: Uint8Array) => unknown,
): number {
  for (const bit of bits) {
    const copy = new Uint8Array(base);
    copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
    let accepted = false;
    try {
      verify(copy);
      accepted = true;
    } catch (e) {
      expect(e).toBeInstanceOf(EvidenceError);
    }
    if (accepted) throw new Error(`flip of bit ${bit} (byte 0x${(bit >> 3).toString(16)}) was accepted`);
  }
  return bits.length;
}

/** Flips per report or quote: 2,000 sampled in CI; SNP_BIT_FLIPS=all sweeps every signed bit. */
export const BIT_FLIPS =
  process.env.SNP_BIT_FLIPS === "all" ? Number.POSITIVE_INFINITY : Number(process.env.SNP_BIT_FLIPS ?? 2000);
