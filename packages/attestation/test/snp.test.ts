import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodePem, toHex } from "@contrast/core";
import { describe, expect, it } from "vitest";
import { AMD_ROOT_CERTS, AMD_ROOT_FINGERPRINTS } from "../src/snp/amd-roots.js";
import { parseEndorsementKey } from "../src/snp/endorsement.js";
import { decodeGuestPolicy, parseSnpReport, productFromCpuid } from "../src/snp/report.js";
import { amdRoots, verifySnpReport } from "../src/snp/verify.js";
import { rejection, SNP_DIR, SNP_VECTORS, snpFile } from "./vectors.js";

describe("pinned AMD roots", () => {
  it("match their fingerprints and AMD's KDS bundles byte for byte", () => {
    const bundles: Record<string, string> = {};
    for (const p of ["milan", "genoa", "turin"]) {
      for (const k of ["ask", "asvk"]) {
        for (const block of decodePem(readFileSync(join(SNP_DIR, `amd-${p}-${k}-ark.pem`), "utf8"))) {
          const cn = /CN=([^\n]*)/.exec(new X509Certificate(block.der).subject)?.[1] as string;
          bundles[cn] = toHex(block.der);
        }
      }
    }
    expect(Object.keys(AMD_ROOT_CERTS).sort()).toEqual(Object.keys(bundles).sort());
    for (const [cn, pem] of Object.entries(AMD_ROOT_CERTS)) {
      const der = new Uint8Array(new X509Certificate(pem).raw);
      expect(toHex(der)).toBe(bundles[cn]);
      expect(createHash("sha256").update(der).digest("hex")).toBe(
        AMD_ROOT_FINGERPRINTS[cn as keyof typeof AMD_ROOT_CERTS],
      );
    }
  });

  it("chain: every ARK is self-signed and signs its ASK and ASVK", () => {
    for (const product of ["Milan", "Genoa", "Turin"] as const) {
      for (const kind of ["vcek", "vlek"] as const) {
        const { ark, ask } = amdRoots(product, kind);
        expect(ark.verify(ark.publicKey)).toBe(true);
        expect(ask.verify(ark.publicKey)).toBe(true);
        expect(ask.checkIssued(ark)).toBe(true);
      }
    }
  });
});

describe.each(SNP_VECTORS)("$name", (v) => {
  const verify = (overrides: Record<string, unknown> = {}) =>
    verifySnpReport({ report: snpFile(v.report), endorsementKey: snpFile(v.key), now: new Date(v.now), ...overrides });

  it("verifies: chain to the pinned root, signature, key bound to the report's TCB and chip", () => {
    const r = verify({ product: v.product });
    expect(r.product).toBe(v.product);
    expect(r.endorsementKey.kind).toBe(v.signingKey);
    expect(r.reportedTcb).toEqual(v.tcb);
    expect(r.endorsementKey.tcb).toEqual(v.tcb);
  });

  it("reports the expected fields", () => {
    const r = parseSnpReport(snpFile(v.report));
    expect(r.version).toBe(v.version);
    expect(r.policy).toBe(v.policy);
    expect(r.vmpl).toBe(v.vmpl);
    expect(r.signingKey).toBe(v.signingKey);
    expect(toHex(r.measurement)).toBe(v.measurement);
    expect(toHex(r.chipId).slice(0, 16)).toBe(v.chipIdPrefix);
    expect(toHex(r.reportData).slice(0, 16)).toBe(v.reportDataPrefix);
  });

  it("rejects the report at a time outside the key's validity", () => {
    expect(rejection(() => verify({ now: new Date("2019-01-01T00:00:00Z") })).code).toBe("SNP_CERT_NOT_VALID_AT_TIME");
    expect(rejection(() => verify({ now: new Date("2040-01-01T00:00:00Z") })).code).toBe("SNP_CERT_NOT_VALID_AT_TIME");
  });

  it("rejects another product line's roots", () => {
    const other = v.product === "Milan" ? "Genoa" : "Milan";
    expect(rejection(() => verify({ roots: amdRoots(other, v.signingKey) })).code).toBe("SNP_CHAIN_INVALID");
    expect(rejection(() => verify({ product: other })).code).toMatch(/^SNP_PRODUCT_MISMATCH$/);
  });
});

describe("SNP negative facts", () => {
  it("S1's policy allows debugging (validation must reject it; here we only decode it)", () => {
    const p = decodeGuestPolicy(parseSnpReport(snpFile("gsg-milan-report.bin")).policy);
    expect(p).toMatchObject({ debug: true, smt: true, migrateMa: false, abiMajor: 0, abiMinor: 0 });
    expect(decodeGuestPolicy(0x3001fn)).toMatchObject({ debug: false, smt: true, abiMinor: 31 });
  });

  it("S4: current TCB differs from reported TCB, and the VCEK matches the reported one", () => {
    const r = verifySnpReport({
      report: snpFile("trustee-milan-idblock-report.bin"),
      endorsementKey: snpFile("trustee-milan-idblock-vcek.der"),
      now: new Date("2024-01-01T00:00:00Z"),
      product: "Milan",
    });
    expect(r.currentTcb.microcode).toBe(206);
    expect(r.reportedTcb.microcode).toBe(115);
  });

  it("S5: the VLEK expired on 2025-12-10", () => {
    const e = rejection(() =>
      verifySnpReport({
        report: snpFile("trustee-milan-vlek-report.bin"),
        endorsementKey: snpFile("trustee-milan-vlek.der"),
        now: new Date("2026-01-01T00:00:00Z"),
      }),
    );
    expect(e.code).toBe("SNP_CERT_NOT_VALID_AT_TIME");
    expect(e.details).toMatchObject({ certificate: "VLEK", notAfter: "2025-12-10T22:14:21.000Z" });
  });

  it("rejects a key of the wrong kind, chip or TCB", () => {
    const now = new Date("2024-01-01T00:00:00Z");
    const wrongKind = rejection(() =>
      verifySnpReport({
        report: snpFile("trustee-milan-vlek-report.bin"),
        endorsementKey: snpFile("virtee-milan-vcek.der"),
        now,
      }),
    );
    expect(wrongKind.code).toBe("SNP_WRONG_ENDORSEMENT_KEY");
    const otherChip = rejection(() =>
      verifySnpReport({
        report: snpFile("gsg-milan-report.bin"),
        endorsementKey: snpFile("virtee-milan-vcek.der"),
        now,
        product: "Milan",
      }),
    );
    expect(otherChip.code).toBe("SNP_SIGNATURE_INVALID");
  });

  it("trustee's cases: a changed byte 42 or reported-TCB byte 384 is rejected", () => {
    for (const offset of [42, 384]) {
      const report = snpFile("trustee-milan-idblock-report.bin");
      report[offset] = ((report[offset] as number) + 1) & 0xff;
      const e = rejection(() =>
        verifySnpReport({
          report,
          endorsementKey: snpFile("trustee-milan-idblock-vcek.der"),
          now: new Date("2024-01-01T00:00:00Z"),
          product: "Milan",
        }),
      );
      expect(["SNP_SIGNATURE_INVALID", "SNP_REPORT_MALFORMED"]).toContain(e.code);
      expect(e.kind === "crypto" || e.kind === "input").toBe(true);
    }
  });

  it("rejects certificates whose signatures were edited (S8), after parsing both hwID encodings", () => {
    for (const name of ["trustee-vcek-hwid-raw-badsig.der", "trustee-vcek-hwid-octetstring-badsig.der"]) {
      const key = parseEndorsementKey(snpFile(name));
      expect(toHex(key.hwId as Uint8Array)).toBe(
        Array.from({ length: 64 }, (_, i) => i.toString(16).padStart(2, "0")).join(""),
      );
      const { ark, ask } = amdRoots("Milan", "vcek");
      expect(key.cert.verify(ask.publicKey)).toBe(false);
      expect(ark.verify(ark.publicKey)).toBe(true);
    }
  });

  it("parses the Turin VCEK: struct version 1, FMC SPL, 8-byte hwID", () => {
    const key = parseEndorsementKey(snpFile("virtee-turin-vcek.der"));
    expect(key).toMatchObject({ kind: "vcek", productName: "Turin", structVersion: 1 });
    expect(key.tcb).toEqual({ fmc: 0, bootloader: 0, tee: 0, snp: 0, microcode: 9 });
    expect(toHex(key.hwId as Uint8Array)).toBe("1e550a8ee5cf9f4d");
    const { ask } = amdRoots("Turin", "vcek");
    expect(key.cert.verify(ask.publicKey)).toBe(true);
  });

  it("S5's VLEK encodes microcode 217 in two content bytes and names its cloud", () => {
    const key = parseEndorsementKey(snpFile("trustee-milan-vlek.der"));
    expect(key.tcb.microcode).toBe(217);
    expect(key.cspId).toBe("CN=cc-us-east-2.amazonaws.com");
    expect(key.hwId).toBeUndefined();
  });

  it("maps CPUID to product lines, including the A0h Genoa variant", () => {
    expect(productFromCpuid({ family: 0x19, model: 0x01 })).toBe("Milan");
    expect(productFromCpuid({ family: 0x19, model: 0x11 })).toBe("Genoa");
    expect(productFromCpuid({ family: 0x19, model: 0xa0 })).toBe("Genoa");
    expect(productFromCpuid({ family: 0x1a, model: 0x02 })).toBe("Turin");
    expect(productFromCpuid({ family: 0x17, model: 0x31 })).toBeUndefined();
  });

  it("needs the product for a v2 report when the certificate does not name a known one", () => {
    // S1's VCEK says "Milan-B0", which is enough; an explicit wrong product is refused.
    const e = rejection(() =>
      verifySnpReport({
        report: snpFile("gsg-milan-report.bin"),
        endorsementKey: snpFile("gsg-milan-vcek.der"),
        now: new Date("2024-01-01T00:00:00Z"),
        product: "Turin",
      }),
    );
    expect(e.code).toBe("SNP_PRODUCT_MISMATCH");
  });
});
