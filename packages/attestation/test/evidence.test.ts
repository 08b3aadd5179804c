import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixedClock, toHex } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EvidenceError } from "../src/errors.js";
import { decodeSnpEvidence, encodeSnpEvidence, SNP_CRL_EXTRAS_KEY } from "../src/evidence/snp.js";
import { COLLATERAL_KEY, decodeTdxEvidence, encodeTdxEvidence } from "../src/evidence/tdx.js";
import { createSimulatedAuthority } from "../src/sim/tee.js";
import { verifySnpReport } from "../src/snp/verify.js";
import { collateralFromDcapQvl } from "../src/tdx/collateral-documents.js";
import { parseTdxQuote } from "../src/tdx/quote.js";
import { verifyTdxQuote } from "../src/tdx/verify.js";
import { verifyTdxCollateral } from "../src/tdx/verify-collateral.js";
import { FUZZ_RUNS, SNP_VECTORS, snpFile } from "./vectors.js";

const here = dirname(fileURLToPath(import.meta.url));
const PROTO = join(here, "../proto");
const TDX_DIR = testdataPath("attestation/tdx");
const tdxFile = (name: string) => new Uint8Array(readFileSync(join(TDX_DIR, name)));
const V4_QUOTES = [
  "gtg-quote-v4-spr.dat",
  "trustee-quote-v4-debugtd.dat",
  "phala-quote-v4.dat",
  "trustee-quote-v4-00a06d080000.dat",
  "trustee-azure-quote-v4.dat",
  "gtg-quote-v4-gce-zeropadded.dat",
];

/** protoc, a third-party implementation, reads our bytes against the schema and re-encodes them. */
function protoc(args: string[], input: Uint8Array): Buffer {
  return execFileSync("protoc", [`-I${PROTO}`, ...args], { input, maxBuffer: 1 << 24 });
}

/** Random bytes, or a real document with up to eight bytes overwritten. */
function hostileDocuments(doc: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    fc
      .array(fc.tuple(fc.nat(doc.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
      .map((edits) => {
        const d = Uint8Array.from(doc);
        for (const [i, b] of edits) d[i] = b;
        return d;
      }),
  );
}

function expectTypedFailure(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EvidenceError);
  }
}

describe("SNP evidence document (sevsnp.Attestation)", () => {
  it.each(SNP_VECTORS)("$name: report survives the document round trip byte for byte", (v) => {
    const report = snpFile(v.report);
    const key = snpFile(v.key);
    const doc = encodeSnpEvidence({ report, vcek: key, product: { name: v.product as "Milan", machineStepping: 0 } });
    const back = decodeSnpEvidence(doc);
    expect(toHex(back.report)).toBe(toHex(report));
    expect(toHex(back.vcek as Uint8Array)).toBe(toHex(key));
    expect(back.product).toEqual({ name: v.product, machineStepping: 0 });
  });

  it("is canonical protobuf: protoc decodes it with the schema and re-encodes the same bytes", () => {
    const v = SNP_VECTORS.find((x) => x.report === "trustee-genoa-e2e-report.bin") ?? SNP_VECTORS[0];
    if (v === undefined) throw new Error("no vector");
    const crl = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
    const doc = encodeSnpEvidence({
      report: snpFile(v.report),
      vcek: snpFile(v.key),
      crl,
      product: { name: "Genoa", machineStepping: 0 },
    });
    const text = protoc(["--decode=sevsnp.Attestation", "sevsnp.proto"], doc).toString("utf8");
    expect(text).toContain("version: 3");
    expect(text).toContain(`key: "${SNP_CRL_EXTRAS_KEY}"`);
    expect(text).toContain("name: SEV_PRODUCT_GENOA");
    expect(text).toMatch(/machine_stepping \{\s*\}/); // UInt32Value(0): present, empty
    expect(text).toMatch(/cpuid1eax_fms: \d+/);
    const again = protoc(["--encode=sevsnp.Attestation", "sevsnp.proto"], Buffer.from(text));
    expect(toHex(again)).toBe(toHex(doc));
    expect(toHex(decodeSnpEvidence(doc).crl as Uint8Array)).toBe(toHex(crl));
  });

  it("carries the simulated TEE's chain and verifies through the SNP path", () => {
    const clock = fixedClock("2026-11-22T00:00:00Z");
    const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
    const report = sim.report({
      reportData: new Uint8Array(64).fill(1),
      measurement: new Uint8Array(48).fill(2),
      hostData: new Uint8Array(32).fill(3),
    });
    const crl = sim.crl({ now: clock.now() });
    const doc = encodeSnpEvidence({
      report,
      vcek: sim.vcek,
      ask: new Uint8Array(sim.roots.ask.raw),
      ark: new Uint8Array(sim.roots.ark.raw),
      crl,
      product: { name: "Genoa", machineStepping: 0 },
    });
    const e = decodeSnpEvidence(doc);
    const v = verifySnpReport({
      report: e.report,
      endorsementKey: e.vcek as Uint8Array,
      now: clock.now(),
      roots: sim.roots,
      crl: e.crl as Uint8Array,
    });
    expect(toHex(v.report.hostData)).toBe("03".repeat(32));
  });

  it("rejects damaged, foreign and incomplete documents with typed errors", () => {
    const v = SNP_VECTORS[1];
    if (v === undefined) throw new Error("no vector");
    const doc = encodeSnpEvidence({ report: snpFile(v.report) });
    const code = (bytes: Uint8Array) => {
      try {
        decodeSnpEvidence(bytes);
        return "accepted";
      } catch (e) {
        expect(e).toBeInstanceOf(EvidenceError);
        return (e as EvidenceError).code;
      }
    };
    expect(code(doc.subarray(0, doc.length - 1))).toBe("EVIDENCE_DOCUMENT_MALFORMED");
    expect(code(new Uint8Array())).toBe("EVIDENCE_DOCUMENT_MALFORMED"); // no report
    expect(code(snpFile(v.report))).toBe("EVIDENCE_DOCUMENT_MALFORMED"); // a raw report is not a document
    // measurement (field 12) one byte short: rebuild the report message by hand.
    const short = Uint8Array.from([0x0a, 0x03, 0x62, 0x01, 0x00]);
    expect(code(short)).toBe("EVIDENCE_DOCUMENT_MALFORMED");
    // version 9 passes the protobuf layer and fails as a report.
    const text = protoc(["--decode=sevsnp.Attestation", "sevsnp.proto"], doc)
      .toString("utf8")
      .replace("version: 2", "version: 9");
    const bad = protoc(["--encode=sevsnp.Attestation", "sevsnp.proto"], Buffer.from(text));
    expect(code(bad)).toBe("SNP_REPORT_MALFORMED");
  });

  it("never throws anything but EvidenceError on mutated or random bytes (fuzz)", () => {
    const v = SNP_VECTORS[0];
    if (v === undefined) throw new Error("no vector");
    const doc = encodeSnpEvidence({ report: snpFile(v.report), vcek: snpFile(v.key), crl: new Uint8Array([1, 2]) });
    fc.assert(
      fc.property(hostileDocuments(doc), (bytes) => expectTypedFailure(() => decodeSnpEvidence(bytes))),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("TDX evidence document (tdx.QuoteV4)", () => {
  it.each(V4_QUOTES)("%s: the quote survives the round trip and still verifies", (file) => {
    const raw = tdxFile(file);
    const q = parseTdxQuote(raw);
    const back = decodeTdxEvidence(encodeTdxEvidence({ quote: raw }));
    // Trailing bytes after the signature data are not part of the quote and are not carried.
    expect(toHex(back.quote)).toBe(toHex(raw.subarray(0, raw.length - q.trailing.length)));
    expect(back.collateral).toBeUndefined();
    if (file !== "gtg-quote-v4-spr.dat") return; // one full verification is enough here
    expect(verifyTdxQuote({ quote: back.quote, now: new Date("2023-07-01T01:00:00Z") }).quote.version).toBe(4);
  });

  it("is canonical protobuf according to protoc", () => {
    const doc = encodeTdxEvidence({ quote: tdxFile("phala-quote-v4.dat") });
    const text = protoc(["--decode=tdx.QuoteV4", "tdx.proto"], doc).toString("utf8");
    expect(text.match(/rtmrs:/g)).toHaveLength(4);
    expect(text).toContain("certificate_data_type: 6");
    expect(text).toContain("certificate_data_type: 5");
    expect(toHex(protoc(["--encode=tdx.QuoteV4", "tdx.proto"], Buffer.from(text)))).toBe(toHex(doc));
  });

  it("carries collateral in extra_bytes, which verifies like collateral from the network", () => {
    const collateral = collateralFromDcapQvl(Buffer.from(tdxFile("phala-quote-v4-collateral.json")).toString("utf8"));
    const doc = encodeTdxEvidence({ quote: tdxFile("phala-quote-v4.dat"), collateral });
    const e = decodeTdxEvidence(doc);
    expect(e.collateral).toEqual(collateral);
    const now = new Date("2025-07-01T00:00:00Z");
    const v = verifyTdxQuote({ quote: e.quote, now });
    expect(verifyTdxCollateral(v, e.collateral as never, { now }).status).toBe("UpToDate");
  });

  it("keeps foreign extra_bytes untouched and rejects v5 quotes and broken sizes", () => {
    const doc = encodeTdxEvidence({ quote: tdxFile("phala-quote-v4.dat") });
    const text = protoc(["--decode=tdx.QuoteV4", "tdx.proto"], doc).toString("utf8");
    const withExtra = protoc(
      ["--encode=tdx.QuoteV4", "tdx.proto"],
      Buffer.from(`${text}extra_bytes: "{\\"Collateral\\":{}}"\n`),
    );
    expect(Buffer.from(decodeTdxEvidence(withExtra).extraBytes as Uint8Array).toString()).toBe('{"Collateral":{}}');
    const ours = protoc(
      ["--encode=tdx.QuoteV4", "tdx.proto"],
      Buffer.from(`${text}extra_bytes: "{\\"${COLLATERAL_KEY}\\":{\\"version\\":2}}"\n`),
    );
    expect(() => decodeTdxEvidence(ours)).toThrow(/unsupported version 2/);
    expect(() => encodeTdxEvidence({ quote: tdxFile("gtg-quote-v5.dat") })).toThrow(EvidenceError);
    const wrongSize = protoc(
      ["--encode=tdx.QuoteV4", "tdx.proto"],
      Buffer.from(text.replace(/signed_data_size: \d+/, "signed_data_size: 7")),
    );
    expect(() => decodeTdxEvidence(wrongSize)).toThrow(/signed_data_size/);
  });

  it("never throws anything but EvidenceError on mutated or random bytes (fuzz)", () => {
    const doc = encodeTdxEvidence({ quote: tdxFile("phala-quote-v4.dat") });
    fc.assert(
      fc.property(hostileDocuments(doc), (bytes) => expectTypedFailure(() => decodeTdxEvidence(bytes))),
      { numRuns: FUZZ_RUNS },
    );
  });
});

it("the schema files stay in the package (they document the wire format)", () => {
  const pkg = JSON.parse(readFileSync(join(here, "../package.json"), "utf8")) as { files: string[] };
  expect(pkg.files).toContain("proto");
});
