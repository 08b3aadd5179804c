import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex, manualClock } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CollateralStore, directoryStorage } from "../src/collateral/store.js";
import { fetchTdxCollateral } from "../src/collateral/tdx.js";
import { intelCollateralUrls } from "../src/collateral/urls.js";
import { EvidenceError } from "../src/errors.js";
import { decodeTdxEvidence, encodeTdxEvidence } from "../src/evidence/tdx.js";
import { collateralFromDcapQvl, type TdxCollateral } from "../src/tdx/collateral-documents.js";
import { intelDate } from "../src/tdx/collateral-fields.js";
import { judgeTdxQuote } from "../src/tdx/judge.js";
import { parsePckExtension } from "../src/tdx/pck.js";
import { evaluateTdxTcb } from "../src/tdx/tcb-evaluation.js";
import { type TdxExpectations, tdxMismatches } from "../src/tdx/validate.js";
import { TdxVerifier, verifyTdxQuote } from "../src/tdx/verify.js";
import { verifyTdxCollateral } from "../src/tdx/verify-collateral.js";
import { fakeIntel } from "./fake-intel.js";
import { FUZZ_RUNS } from "./vectors.js";

// The TDX findings of the adversarial audit (issue 11 §4), one test (or more) each; every one of
// them failed before its fix.

const TDX_DIR = testdataPath("attestation/tdx");
const text = (f: string) => readFileSync(join(TDX_DIR, f), "utf8");
const bin = (f: string) => new Uint8Array(readFileSync(join(TDX_DIR, f)));

const T3_NOW = new Date("2025-07-01T00:00:00Z");
const t3 = () => verifyTdxQuote({ quote: bin("phala-quote-v4.dat"), now: T3_NOW });
const t3Collateral = (): TdxCollateral => collateralFromDcapQvl(text("phala-quote-v4-collateral.json"));
const without = (c: TdxCollateral, ...keys: (keyof TdxCollateral)[]) => {
  const out = { ...c };
  for (const k of keys) delete out[k];
  return out;
};

function thrown(fn: () => unknown): EvidenceError {
  try {
    fn();
  } catch (e) {
    return e as EvidenceError;
  }
  throw new Error("expected a rejection");
}

/** Expectations taken from a verified quote itself. */
function own(v: ReturnType<typeof verifyTdxQuote>): TdxExpectations {
  const b = v.quote.body;
  return {
    mrTd: b.mrTd,
    rtmrs: [...b.rtmrs] as unknown as TdxExpectations["rtmrs"],
    mrSeam: b.mrSeam,
    xfam: b.xfam,
    tdAttributes: b.tdAttributes,
    minimumQeSvn: 0,
    minimumPceSvn: 0,
    minimumTeeTcbSvn: new Uint8Array(16),
  };
}

describe("TDX QE identity is required whenever collateral is used", () => {
  it("refuses collateral without the QE identity instead of calling the platform UpToDate", () => {
    for (const revocation of ["required", "if-present"] as const) {
      const e = thrown(() =>
        verifyTdxCollateral(t3(), without(t3Collateral(), "qeIdentity", "qeIdentityIssuerChain"), {
          now: T3_NOW,
          revocation,
        }),
      );
      expect(e).toBeInstanceOf(EvidenceError);
      expect(e.code).toBe("TDX_COLLATERAL_INCOMPLETE");
      expect(e.details).toMatchObject({ missing: ["QE identity"] });
      expect(e.hint).toContain("https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity");
    }
  });

  it("the sender of an evidence document cannot switch the QE check off by leaving it out", () => {
    const doc = encodeTdxEvidence({
      quote: bin("phala-quote-v4.dat"),
      collateral: without(t3Collateral(), "qeIdentity", "qeIdentityIssuerChain"),
    });
    const received = decodeTdxEvidence(doc);
    const v = verifyTdxQuote({ quote: received.quote, now: T3_NOW });
    const e = thrown(() =>
      judgeTdxQuote(v, { now: T3_NOW, ...(received.collateral ? { collateral: received.collateral } : {}) }),
    );
    expect(e.code).toBe("TDX_COLLATERAL_INCOMPLETE");
  });

  it("a QE report that differs from Intel's QE identity is untrustworthy evidence (exit 1), not a mismatch", () => {
    const fake = fakeIntel();
    const c = t3Collateral();
    const identity = JSON.parse(c.qeIdentity?.body ?? "{}");
    identity.mrsigner = "00".repeat(32);
    const e = thrown(() =>
      verifyTdxCollateral(
        t3(),
        {
          ...c,
          tcbInfo: fake.sign(c.tcbInfo.body),
          tcbInfoIssuerChain: fake.chain,
          qeIdentity: fake.sign(JSON.stringify(identity)),
          qeIdentityIssuerChain: fake.chain,
          rootCaCrl: fake.rootCrl([]),
        },
        { now: T3_NOW, root: fake.root },
      ),
    );
    expect(e).toBeInstanceOf(EvidenceError);
    expect(e.code).toBe("TDX_QE_IDENTITY_MISMATCH");
    expect(e.kind).toBe("crypto");
  });
});

describe("TDX judgement against reference values requires collateral and both CRLs", () => {
  it("refuses to judge without collateral, naming where to fetch it", () => {
    const v = t3();
    const e = thrown(() => judgeTdxQuote(v, { now: T3_NOW, entries: [own(v)] }));
    expect(e.code).toBe("TDX_COLLATERAL_REQUIRED");
    expect(e.kind).toBe("input");
    expect(e.hint).toContain("--collateral");
    expect(e.hint).toContain("https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");
  });

  it.each([
    ["pckCrl", "PCK CRL"],
    ["rootCaCrl", "root CA CRL"],
  ] as const)("refuses collateral without the %s", (key, name) => {
    const v = t3();
    const e = thrown(() => verifyTdxCollateral(v, without(t3Collateral(), key), { now: T3_NOW }));
    expect(e.code).toBe("TDX_COLLATERAL_INCOMPLETE");
    expect(e.details).toMatchObject({ missing: [name] });
    expect(e.hint).toContain(key === "pckCrl" ? "/sgx/certification/v4/pckcrl?ca=" : "IntelSGXRootCA.der");
    expect(e.hint).not.toContain("qe/identity");
    expect(() =>
      judgeTdxQuote(v, { now: T3_NOW, collateral: without(t3Collateral(), key), entries: [own(v)] }),
    ).toThrow(expect.objectContaining({ code: "TDX_COLLATERAL_INCOMPLETE" }));
    // Looking without judging may go without CRLs, and says so.
    const look = judgeTdxQuote(v, { now: T3_NOW, collateral: without(t3Collateral(), key) });
    expect(look.tcb).toMatchObject({ status: "UpToDate", revocationChecked: false });
  });

  it("judges with complete collateral", () => {
    const v = t3();
    const r = judgeTdxQuote(v, { now: T3_NOW, collateral: t3Collateral(), entries: [own(v)] });
    expect(r.matched).toBe(0);
    expect(r.tcb).toMatchObject({ status: "UpToDate", revocationChecked: true, qeStatus: "UpToDate" });
  });
});

describe("TDX exit classes: collateral that does not fit the quote is an evidence failure", () => {
  it("TDX_FMSPC_MISMATCH is an EvidenceError", () => {
    const v = verifyTdxQuote({ quote: bin("trustee-quote-v4-debugtd.dat"), now: T3_NOW });
    const e = thrown(() => verifyTdxCollateral(v, t3Collateral(), { now: T3_NOW }));
    expect(e.code).toBe("TDX_FMSPC_MISMATCH");
    expect(e).toBeInstanceOf(EvidenceError);
  });

  it("TDX_MODULE_MISMATCH is an EvidenceError", () => {
    const fake = fakeIntel();
    const c = t3Collateral();
    const info = JSON.parse(c.tcbInfo.body);
    for (const id of info.tdxModuleIdentities) id.mrsigner = "11".repeat(48);
    const e = thrown(() =>
      verifyTdxCollateral(
        t3(),
        {
          ...c,
          tcbInfo: fake.sign(JSON.stringify(info)),
          tcbInfoIssuerChain: fake.chain,
          qeIdentity: fake.sign(c.qeIdentity?.body ?? ""),
          qeIdentityIssuerChain: fake.chain,
          rootCaCrl: fake.rootCrl([]),
        },
        { now: T3_NOW, root: fake.root },
      ),
    );
    expect(e.code).toBe("TDX_MODULE_MISMATCH");
    expect(e).toBeInstanceOf(EvidenceError);
  });
});

describe("TDX collateral: strict dates and the TCB Signing certificate's revocation", () => {
  const resigned = (edit: (info: Record<string, unknown>) => void, revoked: number[] = []) => {
    const fake = fakeIntel();
    const c = t3Collateral();
    const info = JSON.parse(c.tcbInfo.body);
    edit(info);
    return {
      fake,
      collateral: {
        ...c,
        tcbInfo: fake.sign(JSON.stringify(info)),
        tcbInfoIssuerChain: fake.chain,
        qeIdentity: fake.sign(c.qeIdentity?.body ?? ""),
        qeIdentityIssuerChain: fake.chain,
        rootCaCrl: fake.rootCrl(revoked),
      },
    };
  };

  it("accepts the re-signed collateral unchanged (the double is sound)", () => {
    const { fake, collateral } = resigned(() => {});
    expect(verifyTdxCollateral(t3(), collateral, { now: T3_NOW, root: fake.root }).status).toBe("UpToDate");
  });

  it.each([
    ["a day that does not exist (June 31st would roll over to July 1st)", "2025-06-31T10:16:03Z"],
    ["a time without a zone", "2025-07-19T10:16:03"],
    ["a zone offset", "2025-07-19T10:16:03+00:00"],
    ["fractional seconds", "2025-07-19T10:16:03.000Z"],
    ["a date alone", "2025-07-19"],
  ])("refuses a nextUpdate with %s", (_, nextUpdate) => {
    const { fake, collateral } = resigned((info) => {
      info.nextUpdate = nextUpdate;
    });
    const e = thrown(() => verifyTdxCollateral(t3(), collateral, { now: T3_NOW, root: fake.root }));
    expect(e.code).toBe("TDX_COLLATERAL_INVALID");
  });

  it("reads Intel's form exactly (property)", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z") }), (d) => {
        if (Number.isNaN(d.getTime())) return;
        const s = `${d.toISOString().slice(0, 19)}Z`;
        expect(intelDate(s, "t").toISOString()).toBe(`${s.slice(0, 19)}.000Z`);
      }),
    );
  });

  it("accepts only strings that it reads back to the same text (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .tuple(
              fc.integer({ min: 0, max: 9999 }),
              fc.integer({ min: 0, max: 99 }),
              fc.integer({ min: 0, max: 99 }),
              fc.integer({ min: 0, max: 99 }),
              fc.integer({ min: 0, max: 99 }),
              fc.integer({ min: 0, max: 99 }),
            )
            .map(([y, mo, d, h, mi, s]) => {
              const p = (n: number, w = 2) => String(n).padStart(w, "0");
              return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}Z`;
            }),
        ),
        (s) => {
          let out: Date | undefined;
          try {
            out = intelDate(s, "t");
          } catch (e) {
            expect((e as EvidenceError).code).toBe("TDX_COLLATERAL_INVALID");
            return;
          }
          expect(`${out.toISOString().slice(0, 19)}Z`).toBe(s);
        },
      ),
    );
  });

  it("refuses collateral signed by a TCB Signing certificate that the root CA CRL revokes", () => {
    const { fake, collateral } = resigned(() => {}, [0x5150]);
    const e = thrown(() => verifyTdxCollateral(t3(), collateral, { now: T3_NOW, root: fake.root }));
    expect(e.code).toBe("TDX_COLLATERAL_SIGNER_REVOKED");
    expect(e).toBeInstanceOf(EvidenceError);
  });
});

describe("TD 1.5 quotes: TEE_TCB_SVN_2 and MRSERVICETD", () => {
  const T5_NOW = new Date("2026-02-03T01:00:00Z");
  const t5 = () => verifyTdxQuote({ quote: bin("gtg-quote-v5.dat"), now: T5_NOW });
  const tcbInfo = () => JSON.parse(text("gtg-tcbinfo-90c06f000000.json")).tcbInfo;

  it("evaluates TEE_TCB_SVN_2 against Intel's TCB info too: the worse status counts", () => {
    const v = t5();
    expect(evaluateTdxTcb(v, tcbInfo())).toMatchObject({ status: "UpToDate", currentStatus: "UpToDate" });
    // The module running now (SVN 5 of TDX_01) is one Intel calls OutOfDate.
    (v.quote.body.teeTcbSvn2 as Uint8Array)[0] = 5;
    expect(evaluateTdxTcb(v, tcbInfo())).toMatchObject({
      status: "OutOfDate",
      moduleStatus: "UpToDate",
      currentStatus: "OutOfDate",
    });
  });

  it("holds TEE_TCB_SVN_2 to the minimum TEE TCB SVN", () => {
    const v = t5();
    const e = { ...own(v), minimumTeeTcbSvn: v.quote.body.teeTcbSvn };
    expect(tdxMismatches(v, e, 13)).toEqual([]);
    (v.quote.body.teeTcbSvn2 as Uint8Array).set([0x0a, 0x01, 0x04]);
    expect(tdxMismatches(v, e, 13)).toEqual([
      {
        code: "ATTESTATION_TCB_TOO_LOW",
        field: "TEE_TCB_SVN_2",
        expected: ">= 0b010400000000000000000000000000 (each byte)",
        actual: "0a010400000000000000000000000000",
      },
    ]);
  });

  it("refuses a TD with a service TD bound (MRSERVICETD not zero)", () => {
    const v = t5();
    (v.quote.body.mrServiceTd as Uint8Array)[47] = 1;
    expect(tdxMismatches(v, own(v), 13).map((m) => m.field)).toEqual(["MRSERVICETD"]);
  });
});

describe("a debug TD is refused even when the expectations name its TDATTRIBUTES", () => {
  it("T2 with its own TDATTRIBUTES expected", () => {
    const v = verifyTdxQuote({ quote: bin("trustee-quote-v4-debugtd.dat"), now: new Date("2023-07-01T01:00:00Z") });
    expect(tdxMismatches(v, own(v), 11)).toEqual([
      {
        code: "ATTESTATION_TD_ATTRIBUTES_MISMATCH",
        field: "TDATTRIBUTES.DEBUG",
        expected: "0 (a debug TD is never accepted)",
        actual: "1",
      },
    ]);
  });
});

describe("newer reference values: MinTCBEvaluationDataNumber and AllowedPIIDs", () => {
  it("holds the collateral's TCB evaluation data number to the minimum", () => {
    const v = t3();
    const tcb = verifyTdxCollateral(v, t3Collateral(), { now: T3_NOW });
    expect(tcb.tcbEvaluationDataNumber).toBe(17);
    expect(tdxMismatches(v, { ...own(v), minTcbEvaluationDataNumber: 17 }, 11, tcb)).toEqual([]);
    expect(tdxMismatches(v, { ...own(v), minTcbEvaluationDataNumber: 18 }, 11, tcb)).toEqual([
      { code: "ATTESTATION_TCB_TOO_LOW", field: "TCB_EVALUATION_DATA_NUMBER", expected: ">= 18", actual: "17" },
    ]);
    expect(tdxMismatches(v, { ...own(v), minTcbEvaluationDataNumber: 1 }, 11)[0]).toMatchObject({
      actual: "(no collateral checked)",
    });
  });

  it("accepts only the listed platform instance IDs", () => {
    const v = verifyTdxQuote({
      quote: bin("trustee-quote-v4-00a06d080000.dat"),
      now: new Date("2025-11-01T00:00:00Z"),
    });
    const piid = fromHex("02eaf5ba6b16c479d53c39d74a1e1999");
    expect(parsePckExtension(v.pck).platformInstanceId).toEqual(piid);
    expect(tdxMismatches(v, { ...own(v), allowedPiids: [new Uint8Array(16), piid] }, 11)).toEqual([]);
    expect(tdxMismatches(v, { ...own(v), allowedPiids: [fromHex("aa".repeat(16))] }, 11)).toEqual([
      {
        code: "ATTESTATION_PIID_NOT_ALLOWED",
        field: "PIID",
        expected: `one of ${"aa".repeat(16)}`,
        actual: "02eaf5ba6b16c479d53c39d74a1e1999",
      },
    ]);
  });
});

describe("fetching TDX collateral through the store from a PCS double", () => {
  let server: Server;
  let origin: string;
  const requests: string[] = [];
  let dropHeader = false;

  beforeAll(async () => {
    const c = JSON.parse(text("phala-quote-v4-collateral.json"));
    // Intel's response shapes: signed JSON with the issuer chain URL-encoded in a header; DER CRLs.
    const routes: Record<string, { body: Buffer; headers: Record<string, string> }> = {
      "/tdx/certification/v4/tcb?fmspc=b0c06f000000": {
        body: Buffer.from(`{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`),
        headers: { "TCB-Info-Issuer-Chain": encodeURIComponent(c.tcb_info_issuer_chain) },
      },
      "/tdx/certification/v4/qe/identity": {
        body: Buffer.from(`{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`),
        headers: { "SGX-Enclave-Identity-Issuer-Chain": encodeURIComponent(c.qe_identity_issuer_chain) },
      },
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der": {
        body: Buffer.from(c.pck_crl, "hex"),
        headers: { "SGX-PCK-CRL-Issuer-Chain": encodeURIComponent(c.pck_crl_issuer_chain) },
      },
      "/IntelSGXRootCA.der": { body: Buffer.from(c.root_ca_crl, "hex"), headers: {} },
    };
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      const route = routes[req.url ?? ""];
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      const headers = dropHeader ? {} : route.headers;
      res.writeHead(200, headers).end(route.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const httpFetcher = async (url: string) => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return { body: new Uint8Array(await res.arrayBuffer()), headers: Object.fromEntries(res.headers.entries()) };
  };

  it("fetches the four documents at Intel's paths, caches them, and serves them again offline", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tdx-collateral-"));
    const clock = manualClock("2025-07-01T00:00:00Z");
    requests.length = 0;
    const online = new CollateralStore({ clock, storage: directoryStorage(dir), fetcher: httpFetcher });
    const fetched = await fetchTdxCollateral(online, t3(), { origin });
    expect(requests.sort()).toEqual([
      "/IntelSGXRootCA.der",
      "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      "/tdx/certification/v4/qe/identity",
      "/tdx/certification/v4/tcb?fmspc=b0c06f000000",
    ]);
    expect(verifyTdxCollateral(t3(), fetched, { now: T3_NOW })).toMatchObject({ status: "UpToDate" });
    const offline = new CollateralStore({ clock, storage: directoryStorage(dir) });
    // Cached under Intel's own URLs: the offline bundle does not depend on the mirror.
    expect(await fetchTdxCollateral(offline, t3())).toEqual(fetched);
    expect(requests).toHaveLength(4);
  });

  it("names Intel's own URLs by default", () => {
    const urls = intelCollateralUrls();
    expect(urls.tcbInfo("B0C06F000000")).toBe(
      "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=b0c06f000000",
    );
    expect(urls.qeIdentity).toBe("https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity");
    expect(urls.rootCaCrl).toBe("https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");
    expect(intelCollateralUrls("https://pccs.example:8081/").pckCrl("processor")).toBe(
      "https://pccs.example:8081/sgx/certification/v4/pckcrl?ca=processor&encoding=der",
    );
  });

  it("refuses a response without its issuer chain header", async () => {
    dropHeader = true;
    try {
      const store = new CollateralStore({
        clock: manualClock("2025-07-01T00:00:00Z"),
        storage: directoryStorage(mkdtempSync(join(tmpdir(), "tdx-collateral-"))),
        fetcher: httpFetcher,
      });
      await expect(fetchTdxCollateral(store, t3(), { origin })).rejects.toMatchObject({
        code: "TDX_COLLATERAL_INVALID",
      });
    } finally {
      dropHeader = false;
    }
  });
});

describe("collateral from an evidence document is untrusted input", () => {
  const fields = [
    "tcb_info",
    "tcb_info_signature",
    "tcb_info_issuer_chain",
    "qe_identity",
    "qe_identity_signature",
    "qe_identity_issuer_chain",
    "pck_crl",
    "root_ca_crl",
  ] as const;

  it("altered collateral fails only with typed errors, never passes (fuzz)", () => {
    const original = JSON.parse(text("phala-quote-v4-collateral.json")) as Record<string, string>;
    const v = t3();
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.oneof(
          fc.constantFrom("", "0", "{", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
          fc.string(),
        ),
        (field, at, insert) => {
          const c = { ...original };
          const value = c[field] as string;
          const i = at % (value.length + 1);
          c[field] = value.slice(0, i) + insert + value.slice(i + 1);
          if (c[field] === value) return;
          let collateral: TdxCollateral;
          try {
            collateral = collateralFromDcapQvl(JSON.stringify(c));
          } catch (e) {
            expect((e as EvidenceError).code).toMatch(/^[A-Z][A-Z0-9_]+$/);
            return;
          }
          try {
            judgeTdxQuote(v, { now: T3_NOW, collateral, entries: [own(v)] });
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
            expect((e as EvidenceError).code).toMatch(/^[A-Z][A-Z0-9_]+$/);
            expect((e as EvidenceError).hint?.length ?? 0).toBeGreaterThan(0);
            return;
          }
          // Only an edit that leaves the signed bytes and the CRLs' meaning intact may pass:
          // the issuer chains and hex case are not signed.
          expect([
            "tcb_info_issuer_chain",
            "qe_identity_issuer_chain",
            "pck_crl",
            "root_ca_crl",
            "tcb_info_signature",
            "qe_identity_signature",
          ]).toContain(field);
        },
      ),
      { numRuns: Math.min(FUZZ_RUNS, 300) }, // each run checks signatures and parses two CRLs,
    );
  });
});

describe("TdxVerifier.attest: the verifiers use the collateral store and the same rule", () => {
  const c = JSON.parse(text("phala-quote-v4-collateral.json"));
  const pcs: Record<string, { body: Uint8Array; headers: Record<string, string> }> = {
    "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=b0c06f000000": {
      body: Buffer.from(`{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`),
      headers: { "tcb-info-issuer-chain": encodeURIComponent(c.tcb_info_issuer_chain) },
    },
    "https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity": {
      body: Buffer.from(`{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`),
      headers: { "sgx-enclave-identity-issuer-chain": encodeURIComponent(c.qe_identity_issuer_chain) },
    },
    "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&encoding=der": {
      body: Buffer.from(c.pck_crl, "hex"),
      headers: {},
    },
    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der": {
      body: Buffer.from(c.root_ca_crl, "hex"),
      headers: {},
    },
  };
  const clock = manualClock("2025-07-01T00:00:00Z");
  const store = () =>
    new CollateralStore({
      clock,
      storage: directoryStorage(mkdtempSync(join(tmpdir(), "tdx-verifier-"))),
      fetcher: async (url) => {
        const doc = pcs[url];
        if (doc === undefined) throw new Error(`404 ${url}`);
        return doc;
      },
    });

  it("judges with the store's collateral, ignoring an incomplete carried set", async () => {
    const verifier = new TdxVerifier({ clock, collateral: { store: store() } });
    const quote = bin("phala-quote-v4.dat");
    const r = await verifier.attest(quote, {
      entries: [own(t3())],
      carried: without(t3Collateral(), "qeIdentity"),
    });
    expect(r.matched).toBe(0);
    expect(r.tcb).toMatchObject({ status: "UpToDate", revocationChecked: true });
  });

  it("without a store, uses what the evidence carried, under the same rule", async () => {
    const verifier = new TdxVerifier({ clock });
    const quote = bin("phala-quote-v4.dat");
    await expect(verifier.attest(quote, { entries: [own(t3())] })).rejects.toMatchObject({
      code: "TDX_COLLATERAL_REQUIRED",
    });
    await expect(
      verifier.attest(quote, { entries: [own(t3())], carried: without(t3Collateral(), "rootCaCrl") }),
    ).rejects.toMatchObject({ code: "TDX_COLLATERAL_INCOMPLETE" });
    expect((await verifier.attest(quote, { entries: [own(t3())], carried: t3Collateral() })).matched).toBe(0);
  });
});
