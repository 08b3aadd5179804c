import { readFileSync } from "node:fs";
import { join } from "node:path";
import { manualClock } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { EvidenceError } from "../src/errors.js";
import type { SnpProduct } from "../src/snp/report.js";
import { amdRoots, SnpVerifier } from "../src/snp/verify.js";
import { TdxVerifier } from "../src/tdx/verify.js";
import { SNP_VECTORS, snpFile } from "./vectors.js";

const TDX_DIR = testdataPath("attestation/tdx");

function countingRoots() {
  const calls: string[] = [];
  return {
    calls,
    roots: (product: SnpProduct, kind: "vcek" | "vlek") => {
      calls.push(`${product}/${kind}`);
      return amdRoots(product, kind);
    },
  };
}

describe("SnpVerifier (cached chains)", () => {
  it("verifies every real vector and checks each chain once", () => {
    const { calls, roots } = countingRoots();
    const clock = manualClock("2025-06-01T00:00:00Z");
    const verifier = new SnpVerifier({ clock, roots });
    for (const v of SNP_VECTORS.filter(
      (x) => x.report !== "gsg-milan-report.bin" && x.report !== "trustee-genoa-e2e-report.bin",
    )) {
      for (let i = 0; i < 3; i++) {
        const r = verifier.verify({ report: snpFile(v.report), endorsementKey: snpFile(v.key), product: v.product });
        expect(r.reportedTcb).toEqual(v.tcb);
      }
    }
    expect(calls).toEqual(["Milan/vcek", "Milan/vcek", "Milan/vlek", "Genoa/vcek"]);
  });

  it("still checks every report's signature when the chain is cached", () => {
    const verifier = new SnpVerifier({ clock: manualClock("2024-01-01T00:00:00Z") });
    const v = SNP_VECTORS[1];
    verifier.verify({ report: snpFile(v.report), endorsementKey: snpFile(v.key) });
    const tampered = snpFile(v.report);
    tampered[0x90] = (tampered[0x90] as number) ^ 1; // measurement
    expect(() => verifier.verify({ report: tampered, endorsementKey: snpFile(v.key) })).toThrow(
      expect.objectContaining({ code: "SNP_SIGNATURE_INVALID" }),
    );
  });

  it("re-checks the chain once the cached validity window has passed", () => {
    const clock = manualClock("2025-06-01T00:00:00Z");
    const verifier = new SnpVerifier({ clock });
    const v = SNP_VECTORS.find((x) => x.signingKey === "vlek");
    if (!v) throw new Error("no VLEK vector");
    verifier.verify({ report: snpFile(v.report), endorsementKey: snpFile(v.key) });
    clock.set("2026-01-01T00:00:00Z"); // the VLEK expired on 2025-12-10
    let err: unknown;
    try {
      verifier.verify({ report: snpFile(v.report), endorsementKey: snpFile(v.key) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EvidenceError);
    expect((err as EvidenceError).code).toBe("SNP_CERT_NOT_VALID_AT_TIME");
  });

  it("keeps at most maxCachedChains chains", () => {
    const { calls, roots } = countingRoots();
    const verifier = new SnpVerifier({ clock: manualClock("2024-01-01T00:00:00Z"), roots, maxCachedChains: 1 });
    const [a, b] = [SNP_VECTORS[1], SNP_VECTORS[2]];
    for (const v of [a, b, a]) verifier.verify({ report: snpFile(v.report), endorsementKey: snpFile(v.key) });
    expect(calls).toHaveLength(3);
  });
});

describe("TdxVerifier (cached platforms)", () => {
  const quote = (f: string) => new Uint8Array(readFileSync(join(TDX_DIR, f)));

  it("verifies every quote of a platform, checking the chain once", () => {
    const verifier = new TdxVerifier({ clock: manualClock("2025-07-01T00:00:00Z") });
    for (let i = 0; i < 3; i++) expect(verifier.verify(quote("phala-quote-v4.dat")).quote.version).toBe(4);
  });

  it("still rejects a tampered quote body or attestation key when the platform is cached", () => {
    const verifier = new TdxVerifier({ clock: manualClock("2025-07-01T00:00:00Z") });
    const good = quote("phala-quote-v4.dat");
    verifier.verify(good);
    const body = new Uint8Array(good);
    body[0xb8] = (body[0xb8] as number) ^ 1; // MRTD
    expect(() => verifier.verify(body)).toThrow(expect.objectContaining({ code: "TDX_QUOTE_SIGNATURE_INVALID" }));
    const key = new Uint8Array(good);
    key[0x27c + 64] = (key[0x27c + 64] as number) ^ 1; // first byte of the attestation key
    expect(() => verifier.verify(key)).toThrow(expect.objectContaining({ code: "TDX_ATTESTATION_KEY_NOT_BOUND" }));
    const auth = new Uint8Array(good);
    expect(auth[0x4c2]).toBeGreaterThan(0); // this quote has QE auth data
    auth[0x4c4] = (auth[0x4c4] as number) ^ 1;
    expect(() => verifier.verify(auth)).toThrow(expect.objectContaining({ code: "TDX_ATTESTATION_KEY_NOT_BOUND" }));
    // A changed chain is a different platform: it is verified afresh (and fails).
    const chain = new Uint8Array(good);
    const at = Buffer.from(chain).indexOf("-----BEGIN CERTIFICATE-----") + 100;
    chain[at] = chain[at] === 0x41 ? 0x42 : 0x41;
    expect(() => verifier.verify(chain)).toThrow(EvidenceError);
    expect(verifier.verify(good).quote.version).toBe(4);
  });

  it("re-checks the chain when the clock leaves its validity", () => {
    const clock = manualClock("2025-07-01T00:00:00Z");
    const verifier = new TdxVerifier({ clock });
    verifier.verify(quote("phala-quote-v4.dat"));
    clock.set("2040-01-01T00:00:00Z");
    expect(() => verifier.verify(quote("phala-quote-v4.dat"))).toThrow(
      expect.objectContaining({ code: "TDX_CERT_NOT_VALID_AT_TIME" }),
    );
  });
});
