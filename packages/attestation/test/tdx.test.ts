import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EvidenceError } from "../src/errors.js";
import { INTEL_SGX_ROOT_CA, INTEL_SGX_ROOT_CA_FINGERPRINT } from "../src/tdx/intel-root.js";
import { parseTdxQuote } from "../src/tdx/quote.js";
import { verifyTdxQuote } from "../src/tdx/verify.js";
import { BIT_FLIPS, expectEveryFlipRejected, FUZZ_RUNS, rejection, sampleBits } from "./vectors.js";

const TDX_DIR = testdataPath("attestation/tdx");
const tdxFile = (name: string) => new Uint8Array(readFileSync(join(TDX_DIR, name)));

/** Real quotes and their expected facts, from testdata/attestation/SOURCES.md. */
const TDX_VECTORS = [
  {
    name: "T1 go-tdx-guest v4 SPR",
    file: "gtg-quote-v4-spr.dat",
    now: "2023-07-01T01:00:00Z",
    version: 4,
    tdAttributes: "0000004000000000",
    xfam: "e71a060000000000",
    mrTd: "6363b8043668a3ad",
    rtmr0: "2927da70461cd632",
    reportData: "6c62dec1b8191749",
    qeSvn: 4,
    trailing: 39,
  },
  {
    name: "T2 trustee v4 debug TD",
    file: "trustee-quote-v4-debugtd.dat",
    now: "2023-07-01T01:00:00Z",
    version: 4,
    tdAttributes: "0100001000000000",
    xfam: "e742060000000000",
    mrTd: "705ee9381b8633a9",
    rtmr0: "e940da7c2712d279",
    reportData: "7c71fe2c86eff65a",
    qeSvn: 4,
    trailing: 0,
  },
  {
    name: "T3 dcap-qvl v4",
    file: "phala-quote-v4.dat",
    now: "2025-07-01T00:00:00Z",
    version: 4,
    tdAttributes: "0000001000000000",
    xfam: "e702060000000000",
    mrTd: "91eb2b44d141d4ec",
    rtmr0: "44c0197b39157fdd",
    reportData: "9a9d48e7f6799642",
    qeSvn: 6,
    trailing: 70,
  },
  {
    name: "T4 dcap-qvl v5 TD 1.5",
    file: "phala-quote-v5-notcblevel.dat",
    now: "2026-03-01T00:00:00Z",
    version: 5,
    tdAttributes: "0000001000000000",
    xfam: "e718060000000000",
    mrTd: "273828c46252fcbd",
    rtmr0: "0000000000000000",
    reportData: "d2142b643598eb5f",
    qeSvn: 7,
    trailing: 0,
  },
  {
    name: "T5 go-tdx-guest v5 TD 1.5",
    file: "gtg-quote-v5.dat",
    now: "2026-02-03T01:00:00Z",
    version: 5,
    tdAttributes: "0000001000000000",
    xfam: "e702060000000000",
    mrTd: "7348651a34b2d2d3",
    rtmr0: "5c8daf76063a71ac",
    reportData: "945eaacf5abc1f71",
    qeSvn: 7,
    trailing: 0,
  },
  {
    name: "T6 trustee v4 with MRCONFIGID",
    file: "trustee-quote-v4-00a06d080000.dat",
    now: "2025-11-01T00:00:00Z",
    version: 4,
    tdAttributes: "0000001000000000",
    xfam: "e702060000000000",
    mrTd: "21e8dead92d6c69d",
    rtmr0: "395aefe7bac15b24",
    reportData: "26cae1c77185617f",
    qeSvn: 7,
    trailing: 70,
  },
  {
    name: "T7 trustee v5",
    file: "trustee-quote-v5.dat",
    now: "2025-01-01T00:00:00Z",
    version: 5,
    tdAttributes: "0000001000000000",
    xfam: "e742060000000000",
    mrTd: "dfba221b48a22af8",
    rtmr0: "9b529f3689e2e8eb",
    reportData: "6d6ab13b",
    qeSvn: 6,
    trailing: 0,
  },
  {
    name: "T8 Azure v4",
    file: "trustee-azure-quote-v4.dat",
    now: "2025-01-01T00:00:00Z",
    version: 4,
    tdAttributes: "0000000000000000",
    xfam: "e718060000000000",
    mrTd: "024a32b070383331",
    rtmr0: "0000000000000000",
    reportData: "9734504f161d104c",
    qeSvn: 5,
    trailing: 70,
  },
  {
    name: "T9 Google Cloud v4, zero-padded",
    file: "gtg-quote-v4-gce-zeropadded.dat",
    now: "2025-01-01T00:00:00Z",
    version: 4,
    tdAttributes: "0000001000000000",
    xfam: "e700060000000000",
    mrTd: "dae67181d3d65e07",
    rtmr0: "3fa2f61f",
    reportData: "0000000000000000",
    qeSvn: 6,
    trailing: 3065,
  },
] as const;

describe("pinned Intel SGX root", () => {
  it("has the published fingerprint and equals the root inside every real quote's chain", () => {
    const der = Buffer.from(new X509Certificate(INTEL_SGX_ROOT_CA).raw);
    expect(createHash("sha256").update(der).digest("hex")).toBe(INTEL_SGX_ROOT_CA_FINGERPRINT);
    expect(der.equals(Buffer.from(new X509Certificate(readFileSync(join(TDX_DIR, "intel-sgx-root-ca.pem"))).raw))).toBe(
      true,
    );
  });
});

describe.each(TDX_VECTORS)("$name", (v) => {
  it("verifies: PCK chain, QE report signature, attestation-key binding, quote signature", () => {
    const r = verifyTdxQuote({ quote: tdxFile(v.file), now: new Date(v.now) });
    expect(r.quote.version).toBe(v.version);
    expect(r.pck.subject).toContain("Intel SGX PCK Certificate");
  });

  it("reports the expected body fields", () => {
    const q = parseTdxQuote(tdxFile(v.file));
    expect(toHex(q.body.tdAttributes)).toBe(v.tdAttributes);
    expect(toHex(q.body.xfam)).toBe(v.xfam);
    expect(toHex(q.body.mrTd).startsWith(v.mrTd)).toBe(true);
    expect(toHex(q.body.rtmrs[0]).startsWith(v.rtmr0)).toBe(true);
    expect(toHex(q.body.reportData).startsWith(v.reportData)).toBe(true);
    expect(q.qeReport.isvSvn).toBe(v.qeSvn);
    expect(q.qeReport.isvProdId).toBe(2);
    expect(toHex(q.qeReport.mrSigner)).toBe("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
    expect(q.trailing.length).toBe(v.trailing);
    // Every v5 vector carries a TD 1.5 body.
    expect(q.body.teeTcbSvn2 !== undefined).toBe(v.version === 5);
  });

  it("rejects a verification time outside the PCK chain's validity", () => {
    expect(
      rejection(() => verifyTdxQuote({ quote: tdxFile(v.file), now: new Date("2053-07-01T00:00:00Z") })).code,
    ).toBe("TDX_CERT_NOT_VALID_AT_TIME");
  });

  it("rejects a chain that does not end in the pinned root", () => {
    const other = new X509Certificate(readFileSync(join(TDX_DIR, "../snp/amd-milan-ask-ark.pem")));
    expect(rejection(() => verifyTdxQuote({ quote: tdxFile(v.file), now: new Date(v.now), root: other })).code).toBe(
      "TDX_PCK_CHAIN_INVALID",
    );
  });
});

describe("TDX facts from the vectors", () => {
  it("T6: MRCONFIGID carries the host data in its first 32 bytes", () => {
    const q = parseTdxQuote(tdxFile("trustee-quote-v4-00a06d080000.dat"));
    expect(toHex(q.body.mrConfigId.subarray(0, 32))).toBe(
      "889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca931",
    );
  });

  it("T1: the PCK expired after 2029-09-20T13:20:31Z, as go-tdx-guest's test expects", () => {
    const e = rejection(() =>
      verifyTdxQuote({ quote: tdxFile("gtg-quote-v4-spr.dat"), now: new Date("2029-09-21T00:00:00Z") }),
    );
    expect(e.details).toMatchObject({ certificate: "PCK certificate", notAfter: "2029-09-20T13:20:31.000Z" });
  });

  it("T4/T5: v5 quotes with TD 1.5 bodies carry TEE_TCB_SVN_2 and MRSERVICETD", () => {
    const q = parseTdxQuote(tdxFile("gtg-quote-v5.dat"));
    expect(toHex(q.body.teeTcbSvn2 as Uint8Array).slice(0, 8)).toBe("0d010400");
    expect(q.signedRegion.length).toBe(0x2be);
  });
});

describe("bit flips in the signed regions of every real TDX quote (property)", () => {
  it.each(TDX_VECTORS)("$name: every sampled flip is rejected", (v) => {
    const base = tdxFile(v.file);
    const q = parseTdxQuote(base);
    const at = (sub: Uint8Array) => sub.byteOffset - q.signedRegion.byteOffset;
    // Everything covered by a signature or a binding: header and body (quote signature), the
    // quote signature and attestation key, the QE report, its signature, the QE auth data.
    const ranges: [number, number][] = [
      [0, q.signedRegion.length],
      [at(q.signature), at(q.signature) + 128],
      [at(q.qeReport.raw), at(q.qeReport.raw) + 384 + 64],
      [at(q.qeAuthData), at(q.qeAuthData) + q.qeAuthData.length],
    ];
    const now = new Date(v.now);
    const bits = sampleBits(v.file, BIT_FLIPS, ranges);
    expect(expectEveryFlipRejected(base, bits, (quote) => verifyTdxQuote({ quote, now }))).toBe(bits.length);
  });
});

describe("TDX parser on hostile input (fuzz)", () => {
  it("truncated, extended, mutated and random inputs give a quote or TDX_QUOTE_MALFORMED", () => {
    const base = tdxFile("phala-quote-v4.dat");
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.nat({ max: base.length }).map((n) => base.subarray(0, n)),
      fc
        .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        })
        .map((edits) => {
          const c = new Uint8Array(base);
          for (const [i, b] of edits) c[i] = b;
          return c;
        }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          parseTdxQuote(bytes);
        } catch (e) {
          expect((e as EvidenceError).code).toBe("TDX_QUOTE_MALFORMED");
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
