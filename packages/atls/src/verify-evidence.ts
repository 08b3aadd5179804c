import { X509Certificate } from "node:crypto";
import {
  decodeSnpEvidence,
  decodeTdxEvidence,
  EVIDENCE_OIDS,
  EvidenceError,
  judgeTdxQuote,
  type SnpExpectations,
  type SnpProduct,
  SnpVerifier,
  simArkKeyDigest,
  simEntriesNamingDigest,
  snpExpectations,
  snpReportSigningKey,
  type TcbStatus,
  type TdxCollateral,
  TdxVerifier,
  tdxExpectations,
  type VerifiedSnpReport,
  type VerifiedTdxQuote,
  validateSnpReport,
  verifySnpReport,
  verifyTdxQuote,
} from "@contrast/attestation";
import { bytesEqual, isContrastError, sha256Hex, toHex } from "@contrast/core";
import type { SimReferenceValues, SNPReferenceValues, TDXReferenceValues } from "@contrast/manifest";
import { AtlsError } from "./errors.js";
import type { EvidencePlatform } from "./issuer.js";

/** The reference values a verifier accepts, by platform (a manifest's ReferenceValues fits). */
export interface AtlsReferenceValues {
  readonly snp?: readonly SNPReferenceValues[] | null | undefined;
  readonly tdx?: readonly TDXReferenceValues[] | null | undefined;
  readonly sim?: readonly SimReferenceValues[] | null | undefined;
}

/** Where revocation and TCB collateral come from; injected, because libraries do not fetch. */
export interface EvidenceCollateral {
  /** AMD's CRL for a product and key kind (KDS), when the evidence document does not carry it. */
  readonly snpCrl?: (product: SnpProduct, kind: "vcek" | "vlek") => Promise<Uint8Array | undefined>;
  /**
   * Accept hardware SNP evidence without any CRL (revocation unchecked). Default false: then
   * ATLS_CRL_REQUIRED.
   */
  readonly allowMissingCrl?: boolean;
  /** Intel's collateral for a verified quote; else the document's own collateral is used. */
  readonly tdxCollateral?: (verified: VerifiedTdxQuote) => Promise<TdxCollateral>;
  /** TDX TCB statuses accepted; default UpToDate only. */
  readonly acceptedTcbStatuses?: readonly TcbStatus[];
  /**
   * Verified endorsement chains to reuse (createEvidenceCache): a Coordinator verifies the same
   * VCEK/PCK chain for every pod, which otherwise costs two RSA-4096 signatures per SNP report.
   */
  readonly cache?: EvidenceCache | undefined;
}

interface CacheState {
  now: Date;
  readonly hardware: SnpVerifier;
  /** Simulated roots by the SHA-256 of their raw ARK and ASK bytes. */
  readonly sim: Map<string, SimRoots>;
  /** The roots of the last call and the exact bytes they were parsed from. */
  lastSim: { readonly ark: Uint8Array; readonly ask: Uint8Array; readonly roots: SimRoots } | undefined;
  readonly tdx: TdxVerifier;
  /** Expectations per reference-values entry: Contrast's ID key digest costs ~15 ms to derive. */
  readonly snpExpectations: Map<string, SnpExpectations>;
  readonly clock: { now(): Date };
  readonly maxChains: number;
}

/**
 * A simulated ARK and ASK as parsed from exactly the bytes their key names: parsing and the ARK's
 * key digest are functions of those bytes, so a hit may skip both. It vouches for nothing by
 * itself: whether the ARK is trusted is decided per call from the digest and the reference
 * values, and the chain is checked by the verifier (per endorsement key, at each call's time).
 */
interface SimRoots {
  readonly ark: X509Certificate;
  readonly ask: X509Certificate;
  readonly arkKeyDigest: string;
  readonly verifier: SnpVerifier;
}

const states = new WeakMap<EvidenceCache, CacheState>();

/**
 * Remembers verified vendor (and simulated) chains between verifyEvidence calls, at most
 * `maxChains` per kind (default 256); revocation is never cached. One per verifier.
 */
export class EvidenceCache {
  constructor(options: { maxChains?: number } = {}) {
    const maxChains = options.maxChains ?? 256;
    // verifyEvidence passes its `now` through this clock; verification is synchronous, so the
    // value set just before a call is the one the call sees.
    const clock = { now: () => state.now };
    const state: CacheState = {
      now: new Date(0),
      clock,
      hardware: new SnpVerifier({ clock, maxCachedChains: maxChains }),
      sim: new Map(),
      lastSim: undefined,
      tdx: new TdxVerifier({ clock, maxCachedPlatforms: maxChains }),
      snpExpectations: new Map(),
      maxChains,
    };
    states.set(this, state);
  }
}

function parseSimRoots(arkDer: Uint8Array, askDer: Uint8Array): { ark: X509Certificate; ask: X509Certificate } {
  try {
    return { ark: new X509Certificate(arkDer), ask: new X509Certificate(askDer) };
  } catch (e) {
    throw new EvidenceError("SNP_CERT_MALFORMED", "the evidence document's ASK or ARK cannot be parsed", {
      kind: "input",
      hint: "The evidence was damaged or forged.",
      cause: e,
    });
  }
}

/** The simulated roots for these exact bytes, parsed once; failures are not remembered. */
function cachedSimRoots(state: CacheState, arkDer: Uint8Array, askDer: Uint8Array): SimRoots {
  // Every pod of a deployment brings the same roots: comparing with the last ones' bytes is
  // cheaper than hashing both.
  const last = state.lastSim;
  if (last !== undefined && bytesEqual(last.ark, arkDer) && bytesEqual(last.ask, askDer)) return last.roots;
  // Keyed by a hash of both raw encodings: any changed byte is a miss, parsed and judged anew.
  const id = `${sha256Hex(arkDer)}:${sha256Hex(askDer)}`;
  let roots = state.sim.get(id);
  if (roots === undefined) {
    const { ark, ask } = parseSimRoots(arkDer, askDer);
    roots = {
      ark,
      ask,
      arkKeyDigest: simArkKeyDigest(ark.publicKey),
      verifier: new SnpVerifier({ clock: state.clock, roots: () => ({ ark, ask }), maxCachedChains: 16 }),
    };
    state.sim.set(id, roots);
    if (state.sim.size > state.maxChains) state.sim.delete(state.sim.keys().next().value as string);
  }
  state.lastSim = { ark: new Uint8Array(arkDer), ask: new Uint8Array(askDer), roots };
  return roots;
}

export interface VerifyEvidenceOptions extends EvidenceCollateral {
  /** The certificate extension OID the evidence came under. */
  readonly oid: string;
  readonly evidence: Uint8Array;
  /** The 64 bytes the evidence must carry: reportData(peer key, verifier nonce). */
  readonly reportData: Uint8Array;
  readonly referenceValues: AtlsReferenceValues;
  /**
   * Hex policy hashes HOST_DATA (SNP, sim) or the first 32 bytes of MRCONFIGID (TDX) must be one
   * of; when left out, any policy is accepted.
   */
  readonly allowedHostData?: readonly string[] | undefined;
  readonly now: Date;
}

export interface VerifiedEvidence {
  readonly platform: EvidencePlatform;
  /** HOST_DATA (SNP, sim) or MRCONFIGID[0:32] (TDX): in Contrast the policy hash, 32 bytes. */
  readonly hostData: Uint8Array;
  readonly reportData: Uint8Array;
  /** Index of the matching entry in the platform's reference values. */
  readonly matched: number;
  readonly snpReport?: VerifiedSnpReport;
  readonly tdxQuote?: VerifiedTdxQuote;
  readonly tdxExtraBytes?: Uint8Array;
}

/**
 * Verifies an aTLS evidence document: its signature and chain to the vendor's pinned roots (or,
 * for the simulated TEE, to an ARK that ReferenceValues.sim names), then the binding (REPORT_DATA
 * must be `reportData`), then the policy hash (`allowedHostData`), then the reference values.
 * One function for the client credentials, the Coordinator's mesh API and the CLI, so all judge
 * evidence alike. Throws ContrastErrors: `crypto` for evidence that is not genuine or not bound
 * to this key and nonce, `policy` for genuine evidence the reference values do not allow.
 */
export async function verifyEvidence(options: VerifyEvidenceOptions): Promise<VerifiedEvidence> {
  if (options.reportData.length !== 64) {
    throw new AtlsError(
      "ATLS_REPORT_DATA_MISMATCH",
      `expected report data must be 64 bytes, got ${options.reportData.length}`,
    );
  }
  const verify =
    options.oid === EVIDENCE_OIDS.snp ? verifySnp : options.oid === EVIDENCE_OIDS.tdx ? verifyTdx : undefined;
  if (verify === undefined) {
    throw new AtlsError("ATLS_EVIDENCE_TYPE_UNSUPPORTED", `evidence type ${options.oid} is not accepted`);
  }
  try {
    return await verify(options);
  } catch (e) {
    // Node's crypto parses keys inside certificates lazily; its errors mean forged bytes too.
    if (isContrastError(e)) throw e;
    throw new AtlsError("ATLS_EVIDENCE_MALFORMED", `the evidence cannot be parsed: ${String(e)}`, { cause: e });
  }
}

function checkBinding(actual: Uint8Array, expected: Uint8Array): void {
  if (!bytesEqual(actual, expected)) {
    throw new AtlsError(
      "ATLS_REPORT_DATA_MISMATCH",
      "the evidence's report data does not bind the peer's key and this verifier's nonce",
      { details: { expected: toHex(expected), actual: toHex(actual) } },
    );
  }
}

// A Coordinator passes the same list (its manifest's policy hashes, possibly hundreds) with every
// evidence of a generation: lower-cased into a set once per list, not once per entry and call.
const allowedSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function checkHostData(hostData: Uint8Array, allowed: readonly string[] | undefined): void {
  if (allowed === undefined) return;
  const hex = toHex(hostData);
  let set = allowedSets.get(allowed);
  // Frozen lists cannot change under the cache; others (callers may reuse and edit an array) are
  // lower-cased anew each time, as before.
  if (set === undefined) {
    set = new Set(allowed.map((a) => a.toLowerCase()));
    if (Object.isFrozen(allowed)) allowedSets.set(allowed, set);
  }
  if (!set.has(hex)) {
    throw new AtlsError("ATLS_HOST_DATA_NOT_ALLOWED", `policy hash ${hex} is not allowed`, {
      details: { hostData: hex },
    });
  }
}

function noReferenceValues(platform: EvidencePlatform): AtlsError {
  return new AtlsError("ATLS_NO_REFERENCE_VALUES", `the reference values have no ${platform} entries`);
}

async function verifySnp(o: VerifyEvidenceOptions): Promise<VerifiedEvidence> {
  const doc = decodeSnpEvidence(o.evidence);
  const signer = snpReportSigningKey(doc.report);
  const endorsementKey = signer === "vlek" ? doc.vlek : (doc.vcek ?? doc.vlek);
  if (endorsementKey === undefined) {
    throw new EvidenceError("EVIDENCE_DOCUMENT_MALFORMED", "the SNP evidence document carries no VCEK or VLEK", {
      hint: "The issuer must include the endorsement key the host supplied.",
    });
  }
  const sims = o.referenceValues.sim ?? [];
  const snps = o.referenceValues.snp ?? [];
  // Sim evidence is SNP evidence under another ARK; it is taken as sim only when an entry
  // names that ARK, so a self-made chain never reaches the hardware path's trust.
  const state = o.cache === undefined ? undefined : states.get(o.cache);
  let simEntries: SimReferenceValues[] | undefined;
  let sim: (Omit<SimRoots, "verifier"> & { verifier?: SnpVerifier }) | undefined;
  if (doc.ark !== undefined && doc.ask !== undefined && sims.length > 0) {
    if (state === undefined) {
      const parsed = parseSimRoots(doc.ark, doc.ask);
      sim = { ...parsed, arkKeyDigest: simArkKeyDigest(parsed.ark.publicKey) };
    } else sim = cachedSimRoots(state, doc.ark, doc.ask);
    const digest = sim.arkKeyDigest;
    if (sims.some((e) => e.ArkKeyDigest.toLowerCase() === digest) || snps.length === 0) {
      simEntries = simEntriesNamingDigest(digest, sims);
    }
  } else if (snps.length === 0) {
    if (sims.length > 0) {
      throw new EvidenceError(
        "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED",
        "the evidence carries no simulated chain to check",
        {
          hint: "Simulated evidence documents carry their ASK and ARK; hardware evidence needs ReferenceValues.snp.",
        },
      );
    }
    throw noReferenceValues("snp");
  }
  const platform: EvidencePlatform = simEntries === undefined ? "snp" : "sim";
  let crl = doc.crl;
  const product = doc.product?.name;
  if (crl === undefined && platform === "snp" && o.snpCrl !== undefined && product !== undefined) {
    crl = await o.snpCrl(product, signer === "vlek" ? "vlek" : "vcek");
  }
  const roots = platform === "sim" && sim !== undefined ? { ark: sim.ark, ask: sim.ask } : undefined;
  let verified: VerifiedSnpReport;
  if (state === undefined) {
    verified = verifySnpReport({
      report: doc.report,
      endorsementKey,
      now: o.now,
      ...(product ? { product } : {}),
      ...(roots ? { roots } : {}),
      ...(crl ? { crl } : {}),
    });
  } else {
    state.now = o.now;
    const verifier = platform === "sim" && sim?.verifier !== undefined ? sim.verifier : state.hardware;
    verified = verifier.verify({
      report: doc.report,
      endorsementKey,
      ...(product ? { product } : {}),
      ...(crl ? { crl } : {}),
    });
  }
  if (crl === undefined && platform === "snp" && o.allowMissingCrl !== true) {
    throw new AtlsError("ATLS_CRL_REQUIRED", `no CRL for ${verified.product}: revocation cannot be checked`);
  }
  checkBinding(verified.report.reportData, o.reportData);
  checkHostData(verified.report.hostData, o.allowedHostData);
  const entries: readonly SNPReferenceValues[] = simEntries ?? snps;
  const expect = (e: SNPReferenceValues): SnpExpectations => {
    if (state === undefined) return snpExpectations(e, { reportData: o.reportData });
    const frozen = frozenExpectations(e);
    if (frozen !== undefined) return { ...frozen, reportData: o.reportData };
    // Keyed by content: manifests are parsed anew, so entry objects are not stable.
    const id = JSON.stringify(e);
    let cached = state.snpExpectations.get(id);
    if (cached === undefined) {
      cached = snpExpectations(e);
      if (state.snpExpectations.size >= state.maxChains) {
        state.snpExpectations.delete(state.snpExpectations.keys().next().value as string);
      }
      state.snpExpectations.set(id, cached);
    }
    return { ...cached, reportData: o.reportData };
  };
  const matched = validateSnpReport(verified, entries.map(expect));
  const index = simEntries === undefined ? matched : sims.indexOf(simEntries[matched] as SimReferenceValues);
  return {
    platform,
    hostData: verified.report.hostData,
    reportData: verified.report.reportData,
    matched: index,
    snpReport: verified,
  };
}

// Expectations of entries that cannot change, by identity: a Coordinator passes the same
// deep-frozen reference values with every call of a manifest generation, and serialising an entry
// to look it up by content cost more than the rest of the lookup. Entries that are not deep-frozen
// (and so might be edited between calls) go by content as before.
const byFrozenEntry = new WeakMap<SNPReferenceValues, SnpExpectations>();

function frozenExpectations(e: SNPReferenceValues): SnpExpectations | undefined {
  let known = byFrozenEntry.get(e);
  if (known === undefined && deepFrozen(e)) {
    known = snpExpectations(e);
    byFrozenEntry.set(e, known);
  }
  return known;
}

function deepFrozen(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  for (const v of Object.values(value)) if (!deepFrozen(v)) return false;
  return true;
}

async function verifyTdx(o: VerifyEvidenceOptions): Promise<VerifiedEvidence> {
  const tdxs = o.referenceValues.tdx ?? [];
  if (tdxs.length === 0) throw noReferenceValues("tdx");
  const doc = decodeTdxEvidence(o.evidence);
  const state = o.cache === undefined ? undefined : states.get(o.cache);
  let verified: VerifiedTdxQuote;
  if (state === undefined) verified = verifyTdxQuote({ quote: doc.quote, now: o.now });
  else {
    state.now = o.now;
    verified = state.tdx.verify(doc.quote);
  }
  const body = verified.quote.body;
  checkBinding(body.reportData, o.reportData);
  const hostData = body.mrConfigId.subarray(0, 32);
  if (!body.mrConfigId.subarray(32).every((b) => b === 0)) {
    throw new AtlsError("ATLS_HOST_DATA_NOT_ALLOWED", "MRCONFIGID is not a policy hash followed by 16 zero bytes", {
      details: { mrConfigId: toHex(body.mrConfigId) },
    });
  }
  checkHostData(hostData, o.allowedHostData);
  const collateral = o.tdxCollateral === undefined ? doc.collateral : await o.tdxCollateral(verified);
  const { matched } = judgeTdxQuote(verified, {
    now: o.now,
    ...(collateral ? { collateral } : {}),
    entries: tdxs.map((e) => tdxExpectations(e, { reportData: o.reportData })),
    ...(o.acceptedTcbStatuses ? { acceptedStatuses: o.acceptedTcbStatuses } : {}),
  });
  return {
    platform: "tdx",
    hostData: new Uint8Array(hostData),
    reportData: body.reportData,
    matched: matched ?? 0,
    tdxQuote: verified,
    ...(doc.extraBytes ? { tdxExtraBytes: doc.extraBytes } : {}),
  };
}
