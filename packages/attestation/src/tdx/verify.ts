import { createPublicKey, verify as cryptoVerify, type KeyObject, X509Certificate } from "node:crypto";
import { bytesEqual, type Clock, decodePem, sha256, toBase64Url, toHex } from "@contrast/core";
import type { CollateralStore } from "../collateral/store.js";
import { fetchTdxCollateral } from "../collateral/tdx.js";
import type { AttestationErrorCode } from "../error-codes.js";
import { EvidenceError } from "../errors.js";
import type { TdxCollateral } from "./collateral-documents.js";
import { INTEL_SGX_ROOT_CA } from "./intel-root.js";
import { judgeTdxQuote, type TdxJudgement } from "./judge.js";
import { INTEL_QE_VENDOR_ID, parseTdxQuote, type TdxQuote } from "./quote.js";
import type { TcbStatus } from "./tcb-status.js";
import type { TdxExpectations } from "./validate.js";

export interface VerifyTdxOptions {
  quote: Uint8Array;
  now: Date;
  /** Anchor; defaults to the pinned Intel SGX Root CA. */
  root?: X509Certificate;
}

export interface VerifiedTdxQuote {
  quote: TdxQuote;
  pck: X509Certificate;
  pckIntermediate: X509Certificate;
}

function fail(
  code: AttestationErrorCode,
  message: string,
  hint: string,
  details?: Record<string, unknown>,
): EvidenceError {
  return new EvidenceError(code, message, { hint, ...(details ? { details } : {}) });
}

const cn = (c: X509Certificate) => /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1];

/** P-256 public key from the quote's raw X ‖ Y. */
function attestationKeyObject(raw: Uint8Array): KeyObject {
  try {
    return createPublicKey({
      key: { kty: "EC", crv: "P-256", x: toBase64Url(raw.subarray(0, 32)), y: toBase64Url(raw.subarray(32, 64)) },
      format: "jwk",
    });
  } catch (cause) {
    throw new EvidenceError("TDX_ATTESTATION_KEY_INVALID", "the quote's attestation key is not a P-256 point", {
      cause,
      hint: "The quote is damaged.",
    });
  }
}

function checkValidity(cert: X509Certificate, name: string, now: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from || now > to) {
    throw fail(
      "TDX_CERT_NOT_VALID_AT_TIME",
      `${name} is valid from ${from.toISOString()} to ${to.toISOString()}, not at ${now.toISOString()}`,
      "Check the verification time (--now).",
      {
        certificate: name,
        notBefore: from.toISOString(),
        notAfter: to.toISOString(),
      },
    );
  }
}

/** The PCK chain of a quote: leaf, then Platform or Processor CA, then the pinned root. */
export function verifyPckChain(
  pem: string,
  root: X509Certificate,
  now: Date,
): { pck: X509Certificate; intermediate: X509Certificate } {
  let certs: X509Certificate[];
  try {
    certs = decodePem(pem)
      .filter((b) => b.type === "CERTIFICATE")
      .map((b) => new X509Certificate(b.der));
  } catch (cause) {
    throw new EvidenceError("TDX_PCK_CHAIN_INVALID", "the quote's PCK certificate chain cannot be read", {
      cause,
      hint: "The quote is damaged.",
    });
  }
  if (certs.length !== 3) {
    throw fail(
      "TDX_PCK_CHAIN_INVALID",
      `expected 3 certificates in the PCK chain, found ${certs.length}`,
      "The quote is damaged.",
    );
  }
  const [pck, intermediate, sentRoot] = certs as [X509Certificate, X509Certificate, X509Certificate];
  if (!Buffer.from(sentRoot.raw).equals(Buffer.from(root.raw))) {
    throw fail(
      "TDX_PCK_CHAIN_INVALID",
      "the PCK chain does not end in the pinned Intel SGX Root CA",
      "Only Intel's root is trusted for TDX.",
    );
  }
  const link = (child: X509Certificate, childName: string, issuer: X509Certificate, issuerName: string) => {
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      throw fail(
        "TDX_PCK_CHAIN_INVALID",
        `${childName} is not signed by ${issuerName}`,
        "The certificate chain does not lead to Intel's root.",
      );
    }
  };
  link(root, "Intel SGX Root CA", root, "itself");
  link(intermediate, "the PCK CA", root, "Intel SGX Root CA");
  link(pck, "the PCK certificate", intermediate, "the PCK CA");
  if (
    cn(pck) !== "Intel SGX PCK Certificate" ||
    !["Intel SGX PCK Platform CA", "Intel SGX PCK Processor CA"].includes(cn(intermediate) ?? "")
  ) {
    throw fail(
      "TDX_PCK_CHAIN_INVALID",
      `unexpected PCK chain names: ${cn(pck)} <- ${cn(intermediate)}`,
      "The quote is damaged.",
    );
  }
  checkValidity(root, "Intel SGX Root CA", now);
  checkValidity(intermediate, cn(intermediate) as string, now);
  checkValidity(pck, "PCK certificate", now);
  return { pck, intermediate };
}

/**
 * Establishes that a quote is genuine: the PCK chain leads to Intel's root and is valid at `now`;
 * the PCK signed the QE report; the QE report binds the attestation key (and QE auth data); the
 * attestation key signed header and body. Collateral (TCB level, QE identity, CRLs) is separate.
 */
export function verifyTdxQuote(options: VerifyTdxOptions): VerifiedTdxQuote {
  const quote = parseTdxQuote(options.quote);
  checkVendor(quote);
  const root = options.root ?? new X509Certificate(INTEL_SGX_ROOT_CA);
  const { pck, intermediate } = verifyPckChain(quote.pckChainPem, root, options.now);
  checkQeReport(quote, pck);
  checkQuoteSignature(quote);
  return { quote, pck, pckIntermediate: intermediate };
}

interface CachedPlatform {
  pck: X509Certificate;
  intermediate: X509Certificate;
  notBefore: number;
  notAfter: number;
  /** The attestation key the cached QE report binds, imported once. */
  attestationKey: Uint8Array;
  attestationKeyObject: KeyObject;
  /** What was verified: the PCK chain as sent and the QE report with its signature. */
  pckChainData: Uint8Array;
  qeReport: Uint8Array;
  qeAuthData: Uint8Array;
}

/** Equality of public bytes (no secret is compared, so memcmp timing is fine). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export interface TdxVerifierOptions {
  readonly clock: Clock;
  readonly root?: X509Certificate;
  /** Most platforms kept; the oldest is dropped first. Default 1024. */
  readonly maxCachedPlatforms?: number;
  /**
   * Where `attest` gets Intel's collateral: a store (cache, offline bundle, fetcher) and
   * optionally a mirror's origin. Without it, only collateral carried by the evidence is used.
   */
  readonly collateral?: { readonly store: CollateralStore; readonly origin?: string };
}

export interface TdxAttestOptions {
  /** Reference-value entries; leave out to look at a quote without judging it. */
  readonly entries?: readonly TdxExpectations[];
  /** Collateral an evidence document carried; used only when the verifier has no store. */
  readonly carried?: TdxCollateral;
  readonly acceptedStatuses?: readonly TcbStatus[];
}

/**
 * Verifies quotes like verifyTdxQuote, remembering each PCK chain and QE report it has verified
 * for as long as the chain stays valid. Quotes from a known platform then cost one signature
 * check (the quote's) and one hash (the attestation-key binding).
 */
export class TdxVerifier {
  private readonly cache = new Map<string, CachedPlatform>();
  private readonly clock: Clock;
  private readonly root: X509Certificate;
  private readonly max: number;
  private readonly collateralSource: TdxVerifierOptions["collateral"];

  constructor(options: TdxVerifierOptions) {
    this.clock = options.clock;
    this.collateralSource = options.collateral;
    this.root = options.root ?? new X509Certificate(INTEL_SGX_ROOT_CA);
    this.max = options.maxCachedPlatforms ?? 1024;
  }

  /**
   * Verifies a quote, gets its collateral (the verifier's store first, else what the evidence
   * carried) and judges it with `judgeTdxQuote`: reference values need complete collateral.
   */
  async attest(
    input: Uint8Array,
    options: TdxAttestOptions = {},
  ): Promise<TdxJudgement & { verified: VerifiedTdxQuote }> {
    const verified = this.verify(input);
    const collateral =
      this.collateralSource === undefined
        ? options.carried
        : await fetchTdxCollateral(
            this.collateralSource.store,
            verified,
            this.collateralSource.origin === undefined ? {} : { origin: this.collateralSource.origin },
          );
    const judgement = judgeTdxQuote(verified, {
      now: this.clock.now(),
      root: this.root,
      ...(collateral ? { collateral } : {}),
      ...(options.entries ? { entries: options.entries } : {}),
      ...(options.acceptedStatuses ? { acceptedStatuses: options.acceptedStatuses } : {}),
    });
    return { ...judgement, verified };
  }

  verify(input: Uint8Array): VerifiedTdxQuote {
    const quote = parseTdxQuote(input);
    checkVendor(quote);
    const now = this.clock.now();
    // Looked up by the QE report signature, then compared in full with what was verified: a hit
    // means this exact chain and signed QE report passed before. (Comparing costs less than
    // hashing the few kilobytes of chain on every quote.)
    const id = toHex(quote.qeReportSignature);
    let platform = this.cache.get(id);
    if (
      platform !== undefined &&
      !(same(platform.qeReport, quote.qeReport.raw) && same(platform.pckChainData, quote.pckChainData))
    ) {
      platform = undefined;
    }
    if (platform === undefined || now.getTime() < platform.notBefore || now.getTime() > platform.notAfter) {
      const { pck, intermediate } = verifyPckChain(quote.pckChainPem, this.root, now);
      checkQeReport(quote, pck);
      const certs = [this.root, intermediate, pck];
      platform = {
        pck,
        intermediate,
        notBefore: Math.max(...certs.map((c) => new Date(c.validFrom).getTime())),
        notAfter: Math.min(...certs.map((c) => new Date(c.validTo).getTime())),
        attestationKey: new Uint8Array(quote.attestationKey),
        attestationKeyObject: attestationKeyObject(quote.attestationKey),
        pckChainData: new Uint8Array(quote.pckChainData),
        qeAuthData: new Uint8Array(quote.qeAuthData),
        qeReport: new Uint8Array(quote.qeReport.raw),
      };
      this.cache.delete(id);
      this.cache.set(id, platform);
      if (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value as string);
    }
    // The cached QE report was checked to bind exactly this key and auth data; anything else
    // gets the full SHA-256 binding check (and fails it, since the QE report is the same).
    let key = platform.attestationKeyObject;
    if (!same(quote.attestationKey, platform.attestationKey) || !same(quote.qeAuthData, platform.qeAuthData)) {
      checkAttestationKeyBinding(quote);
      key = attestationKeyObject(quote.attestationKey);
    }
    checkQuoteSignature(quote, key);
    return { quote, pck: platform.pck, pckIntermediate: platform.intermediate };
  }
}

function checkVendor(quote: TdxQuote): void {
  if (toHex(quote.qeVendorId) !== INTEL_QE_VENDOR_ID) {
    throw fail(
      "TDX_QE_VENDOR_UNKNOWN",
      `QE vendor ID ${toHex(quote.qeVendorId)} is not Intel's`,
      "Only Intel's quoting enclave is trusted.",
    );
  }
}

function checkQeReport(quote: TdxQuote, pck: X509Certificate): void {
  if (
    !cryptoVerify(
      "sha256",
      quote.qeReport.raw,
      { key: pck.publicKey, dsaEncoding: "ieee-p1363" },
      quote.qeReportSignature,
    )
  ) {
    throw fail(
      "TDX_QE_REPORT_SIGNATURE_INVALID",
      "the QE report is not signed by the PCK certificate",
      "The quote was altered.",
    );
  }
  checkAttestationKeyBinding(quote);
}

function checkAttestationKeyBinding(quote: TdxQuote): void {
  const binding = sha256(quote.attestationKey, quote.qeAuthData);
  const rd = quote.qeReport.reportData;
  if (!bytesEqual(rd.subarray(0, 32), binding) || rd.subarray(32).some((x) => x !== 0)) {
    throw fail(
      "TDX_ATTESTATION_KEY_NOT_BOUND",
      "the QE report does not bind the attestation key (REPORTDATA != SHA-256(key ‖ auth data))",
      "The quote was altered.",
    );
  }
}

function checkQuoteSignature(quote: TdxQuote, key: KeyObject = attestationKeyObject(quote.attestationKey)): void {
  if (!cryptoVerify("sha256", quote.signedRegion, { key, dsaEncoding: "ieee-p1363" }, quote.signature)) {
    throw fail(
      "TDX_QUOTE_SIGNATURE_INVALID",
      "the quote signature does not verify with its attestation key",
      "The quote was altered.",
    );
  }
}
