import { verify as cryptoVerify, X509Certificate } from "node:crypto";
import { bytesEqual, type Clock, sha256Hex, toHex } from "@contrast/core";
import { parseCrl, serialHex, signatureAlgorithmOid } from "@contrast/x509";
import { verifyCrl } from "../crl.js";
import type { AttestationErrorCode } from "../error-codes.js";
import { EvidenceError } from "../errors.js";
import { AMD_ROOT_CERTS } from "./amd-roots.js";
import {
  certificateBytes,
  type EndorsementKey,
  parseEndorsementKey,
  productOfName,
  RSASSA_PSS_OID,
} from "./endorsement.js";
import {
  decodeTcb,
  parseSnpReport,
  productFromCpuid,
  SNP_SIGNED_SIZE,
  type SnpProduct,
  type SnpReport,
  type TcbParts,
  tcbReservedBytes,
  tcbToString,
} from "./report.js";

/** The AMD certificates that anchor a chain: the ARK and the ASK (for VCEKs) or ASVK (VLEKs). */
export interface AmdRoots {
  ark: X509Certificate;
  ask: X509Certificate;
}

/**
 * The pinned AMD roots for a product and key kind. Certificates carried inside evidence are never
 * used as anchors.
 */
export function amdRoots(product: SnpProduct, kind: "vcek" | "vlek"): AmdRoots {
  return {
    ark: new X509Certificate(AMD_ROOT_CERTS[`ARK-${product}` as const]),
    ask: new X509Certificate(
      AMD_ROOT_CERTS[kind === "vcek" ? (`SEV-${product}` as const) : (`SEV-VLEK-${product}` as const)],
    ),
  };
}

export interface VerifySnpOptions {
  /** The raw 1184-byte report. */
  report: Uint8Array;
  /** The VCEK or VLEK, DER or PEM. */
  endorsementKey: Uint8Array | string;
  /** Verification time; certificates must be valid at this instant. */
  now: Date;
  /**
   * The expected product line. Required for version 2 reports (they carry no CPUID); when given
   * for later versions it must agree with the report's CPUID.
   */
  product?: SnpProduct;
  /** Other anchors, e.g. the simulated TEE's. Defaults to AMD's pinned roots. */
  roots?: AmdRoots;
  /** AMD's CRL for the product (DER), from the KDS or the evidence; checked when given. */
  crl?: Uint8Array;
}

export interface VerifiedSnpReport {
  report: SnpReport;
  product: SnpProduct;
  endorsementKey: EndorsementKey;
  reportedTcb: TcbParts;
  currentTcb: TcbParts;
  committedTcb: TcbParts;
  launchTcb: TcbParts;
}

function fail(
  code: AttestationErrorCode,
  message: string,
  hint: string,
  details?: Record<string, unknown>,
): EvidenceError {
  return new EvidenceError(code, message, { hint, ...(details ? { details } : {}) });
}

function checkValidity(cert: X509Certificate, name: string, now: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from || now > to) {
    throw fail(
      "SNP_CERT_NOT_VALID_AT_TIME",
      `${name} is valid from ${from.toISOString()} to ${to.toISOString()}, not at ${now.toISOString()}`,
      name.startsWith("VLEK")
        ? "VLEKs are valid for about a year; the host must provide a current one."
        : "Check the verification time (--now) and the certificate.",
      { certificate: name, notBefore: from.toISOString(), notAfter: to.toISOString(), now: now.toISOString() },
    );
  }
}

function checkSignedBy(child: X509Certificate, childName: string, issuer: X509Certificate, issuerName: string): void {
  // checkIssued compares names (and key identifiers); verify checks the RSA-PSS signature.
  if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
    throw fail(
      "SNP_CHAIN_INVALID",
      `${childName} is not signed by ${issuerName}`,
      "The certificate chain does not lead to AMD's root.",
      {
        certificate: childName,
        issuer: issuerName,
      },
    );
  }
}

/** Verifies ARK (self-signed) -> ASK/ASVK -> VCEK/VLEK at `now`, all signed with RSASSA-PSS. */
export function verifyAmdChain(key: EndorsementKey, roots: AmdRoots, now: Date): void {
  const askName = key.kind === "vcek" ? "ASK" : "ASVK";
  const keyName = key.kind.toUpperCase();
  checkSignedBy(roots.ark, "ARK", roots.ark, "ARK");
  checkSignedBy(roots.ask, askName, roots.ark, "ARK");
  if (
    key.signatureAlgorithm !== RSASSA_PSS_OID ||
    signatureAlgorithmOid(new Uint8Array(roots.ask.raw)) !== RSASSA_PSS_OID
  ) {
    throw fail(
      "SNP_CHAIN_INVALID",
      `${keyName} chain is not signed with RSASSA-PSS`,
      "AMD signs every certificate with RSASSA-PSS.",
    );
  }
  checkSignedBy(key.cert, keyName, roots.ask, askName);
  checkValidity(roots.ark, "ARK", now);
  checkValidity(roots.ask, askName, now);
  checkValidity(key.cert, keyName, now);
  const details = key.publicKey.asymmetricKeyDetails;
  if (key.publicKey.asymmetricKeyType !== "ec" || details?.namedCurve !== "secp384r1") {
    throw fail("SNP_CHAIN_INVALID", `${keyName} key is not ECDSA P-384`, "VCEKs and VLEKs are P-384 keys.");
  }
}

/** Component-wise a <= b. */
export function tcbLe(a: TcbParts, b: TcbParts): boolean {
  return (
    a.bootloader <= b.bootloader &&
    a.tee <= b.tee &&
    a.snp <= b.snp &&
    a.microcode <= b.microcode &&
    (a.fmc ?? 0) <= (b.fmc ?? 0)
  );
}

function malformedReport(message: string, offset: number): EvidenceError {
  return new EvidenceError("SNP_REPORT_MALFORMED", `SNP report: ${message} (offset 0x${offset.toString(16)})`, {
    kind: "input",
    hint: "The evidence is damaged or not an SEV-SNP attestation report.",
    details: { offset },
  });
}

function sameTcb(a: TcbParts, b: TcbParts): boolean {
  return (
    a.bootloader === b.bootloader &&
    a.tee === b.tee &&
    a.snp === b.snp &&
    a.microcode === b.microcode &&
    (a.fmc ?? 0) === (b.fmc ?? 0)
  );
}

/**
 * Establishes that a report is genuine: parsed strictly, signed by the given VCEK/VLEK, whose
 * chain leads to the pinned AMD root for the report's product, all valid at `now`; the key is
 * the one for this chip (hwID = CHIP_ID) and this TCB (certificate TCB = REPORTED_TCB).
 * It does not judge the contents (measurement, policy, TCB minimums); that is validation.
 */
export function verifySnpReport(options: VerifySnpOptions): VerifiedSnpReport {
  const report = parseSnpReport(options.report);
  const key = parseEndorsementKey(options.endorsementKey);
  const product = resolveProduct(report, key, options.product);
  const roots = options.roots ?? amdRoots(product, key.kind);
  verifyAmdChain(key, roots, options.now);
  if (options.crl !== undefined) checkAmdCrl(options.crl, roots, key, options.now);
  return checkReport(report, key, product);
}

/**
 * Checks AMD's CRL: signed by the ARK (RSASSA-PSS), current at `now`, and listing neither the
 * ASK/ASVK nor the VCEK/VLEK. (AMD revokes ASKs; checking the leaf too costs nothing.)
 */
export function checkAmdCrl(der: Uint8Array, roots: AmdRoots, key: EndorsementKey, now: Date): void {
  const crl = parseCrl(der);
  verifyCrl(crl, roots.ark, now, "AMD CRL");
  for (const [cert, name] of [
    [roots.ask, key.kind === "vcek" ? "ASK" : "ASVK"],
    [key.cert, key.kind.toUpperCase()],
  ] as const) {
    if (crl.revoked.has(serialHex(cert.serialNumber))) {
      throw fail(
        "SNP_CERT_REVOKED",
        `the ${name} (serial ${cert.serialNumber.toLowerCase()}) is revoked by AMD`,
        "The platform's keys were revoked; it cannot be trusted.",
      );
    }
  }
}

interface CachedChain {
  key: EndorsementKey;
  product: SnpProduct;
  notBefore: number;
  notAfter: number;
}

export interface SnpVerifierOptions {
  readonly clock: Clock;
  /** Trust anchors per product and key kind; defaults to AMD's pinned roots. */
  readonly roots?: (product: SnpProduct, kind: "vcek" | "vlek") => AmdRoots;
  /** Most chains kept; the oldest is dropped first. Default 1024. */
  readonly maxCachedChains?: number;
}

/**
 * Verifies reports like verifySnpReport, remembering each endorsement key whose chain verified,
 * for as long as every certificate of that chain stays valid. A Coordinator sees the same few
 * VCEKs over and over; only the report signature then needs checking.
 */
export class SnpVerifier {
  private readonly chains = new Map<string, CachedChain>();
  private readonly clock: Clock;
  private readonly roots: (product: SnpProduct, kind: "vcek" | "vlek") => AmdRoots;
  private readonly max: number;

  /** The last key's bytes and cache id: most calls bring the same VCEK as the one before. */
  private last: { readonly der: Uint8Array; readonly product: string; readonly id: string } | undefined;

  constructor(options: SnpVerifierOptions) {
    this.clock = options.clock;
    this.roots = options.roots ?? amdRoots;
    this.max = options.maxCachedChains ?? 1024;
  }

  /** The cache key of a certificate: comparing it with the last one's bytes is cheaper than hashing. */
  private chainId(der: Uint8Array, product: string): string {
    const last = this.last;
    if (last !== undefined && last.product === product && bytesEqual(last.der, der)) return last.id;
    const id = `${product}:${sha256Hex(der)}`;
    this.last = { der: new Uint8Array(der), product, id };
    return id;
  }

  verify(options: Omit<VerifySnpOptions, "now" | "roots">): VerifiedSnpReport {
    const report = parseSnpReport(options.report);
    const now = this.clock.now();
    const der = certificateBytes(options.endorsementKey);
    const id = this.chainId(der, options.product ?? "");
    let chain = this.chains.get(id);
    if (chain === undefined || now.getTime() < chain.notBefore || now.getTime() > chain.notAfter) {
      const key = parseEndorsementKey(der);
      const product = resolveProduct(report, key, options.product);
      const roots = this.roots(product, key.kind);
      verifyAmdChain(key, roots, now);
      const certs = [roots.ark, roots.ask, key.cert];
      chain = {
        key,
        product,
        notBefore: Math.max(...certs.map((c) => new Date(c.validFrom).getTime())),
        notAfter: Math.min(...certs.map((c) => new Date(c.validTo).getTime())),
      };
      this.chains.delete(id);
      this.chains.set(id, chain);
      if (this.chains.size > this.max) this.chains.delete(this.chains.keys().next().value as string);
    }
    // The product must also agree with this report's CPUID, which may differ from the report
    // that first brought the key.
    const product = resolveProduct(report, chain.key, options.product);
    if (product !== chain.product) {
      throw fail(
        "SNP_PRODUCT_MISMATCH",
        `the report is from a ${product}, but its key is for a ${chain.product}`,
        "Check the evidence.",
      );
    }
    // Revocation is not cached: a CRL may arrive that revokes a key verified earlier.
    if (options.crl !== undefined) checkAmdCrl(options.crl, this.roots(product, chain.key.kind), chain.key, now);
    return checkReport(report, chain.key, product);
  }
}

const hex8 = (n: number) => `${n.toString(16).padStart(2, "0")}h`;

function resolveProduct(report: SnpReport, key: EndorsementKey, expected: SnpProduct | undefined): SnpProduct {
  if (report.signingKey === "none") {
    throw fail(
      "SNP_REPORT_UNSIGNED",
      "the report says it is not signed (SIGNING_KEY = none)",
      "Request a report signed by the VCEK or VLEK.",
    );
  }
  if (report.signingKey !== key.kind) {
    throw fail(
      "SNP_WRONG_ENDORSEMENT_KEY",
      `the report is signed with the ${report.signingKey.toUpperCase()}, but a ${key.kind.toUpperCase()} was given`,
      "Pass the key kind the report names.",
    );
  }
  // All-zero CPUID bytes say nothing (as in version 2 reports); go-sev-guest treats them alike.
  const cpuid =
    report.cpuid && (report.cpuid.family | report.cpuid.model | report.cpuid.stepping) !== 0 ? report.cpuid : undefined;
  const fromCpuid = cpuid ? productFromCpuid(cpuid) : undefined;
  if (cpuid !== undefined && fromCpuid === undefined) {
    // Version 3+ reports say which processor signed them; one we do not know must not borrow
    // the product from the (host-supplied) certificate or the caller.
    throw fail(
      "SNP_PRODUCT_UNKNOWN",
      `the report's CPUID (family ${hex8(cpuid.family)}, model ${hex8(cpuid.model)}) is no known SEV-SNP product`,
      "Only Milan, Genoa and Turin processors are supported.",
      { cpuid },
    );
  }
  const fromCert = productOfName(key.productName);
  const product = fromCpuid ?? expected ?? fromCert;
  if (product === undefined) {
    throw fail(
      "SNP_PRODUCT_UNKNOWN",
      "cannot tell the processor product line",
      "Pass the product (Milan, Genoa or Turin).",
      {
        cpuid: report.cpuid,
        productName: key.productName,
      },
    );
  }
  for (const [source, p] of [
    ["the expected product", expected],
    ["the certificate's productName", fromCert],
  ] as const) {
    if (p !== undefined && p !== product) {
      throw fail(
        "SNP_PRODUCT_MISMATCH",
        `the report is from a ${product}, but ${source} is ${p}`,
        "Check the reference values' ProductName.",
        {
          report: product,
          [source]: p,
        },
      );
    }
  }
  return product;
}

/** Signature and the bindings between report and key; the chain is already verified. */
function checkReport(report: SnpReport, key: EndorsementKey, product: SnpProduct): VerifiedSnpReport {
  const signed = report.raw.subarray(0, SNP_SIGNED_SIZE);
  const ok = cryptoVerify("sha384", signed, { key: key.publicKey, dsaEncoding: "ieee-p1363" }, report.signature);
  if (!ok) {
    throw fail(
      "SNP_SIGNATURE_INVALID",
      `the report signature does not verify with the ${key.kind.toUpperCase()}`,
      "The report was altered, or the key belongs to another chip or TCB.",
    );
  }
  // Signed, so only firmware wrote these; still, what the product's layout reserves must be zero,
  // or two different TCB_VERSIONs would compare equal below.
  for (const [offset, raw] of [
    [0x38, report.currentTcb],
    [0x180, report.reportedTcb],
    [0x1e0, report.committedTcb],
    [0x1f0, report.launchTcb],
  ] as const) {
    for (const i of tcbReservedBytes(product)) {
      if (raw[i] !== 0)
        throw malformedReport(`reserved byte ${i} of a TCB_VERSION is not zero on ${product}`, offset + i);
    }
  }
  if (product === "Turin") {
    // Turin's CHIP_ID is 8 bytes; the rest of the 64-byte field is reserved.
    const at = report.chipId.subarray(8).findIndex((x) => x !== 0);
    if (at >= 0) throw malformedReport("CHIP_ID bytes 8-63 must be zero on Turin", 0x1a0 + 8 + at);
  }
  const reportedTcb = decodeTcb(report.reportedTcb, product);
  const currentTcb = decodeTcb(report.currentTcb, product);
  if (!sameTcb(reportedTcb, key.tcb)) {
    throw fail(
      "SNP_TCB_ENDORSEMENT_MISMATCH",
      `REPORTED_TCB (${tcbToString(reportedTcb)}) differs from the ${key.kind.toUpperCase()}'s TCB (${tcbToString(key.tcb)})`,
      "Fetch the VCEK for the report's REPORTED_TCB.",
      { reported: reportedTcb, certificate: key.tcb },
    );
  }
  // The key is derived from REPORTED_TCB; firmware that runs CURRENT_TCB cannot derive a newer
  // TCB's key, so a key above CURRENT_TCB means the TCB fields cannot be believed (go-sev-guest:
  // certificate TCB <= CURRENT_TCB).
  if (!tcbLe(key.tcb, currentTcb)) {
    throw fail(
      "SNP_TCB_ABOVE_CURRENT",
      `the ${key.kind.toUpperCase()}'s TCB (${tcbToString(key.tcb)}) is above CURRENT_TCB (${tcbToString(currentTcb)})`,
      "The report's TCB values contradict each other; the evidence cannot be trusted.",
      { certificate: key.tcb, current: currentTcb },
    );
  }
  // A masked CHIP_ID (all zero) cannot be compared; go-sev-guest skips it the same way.
  if (key.kind === "vcek" && key.hwId !== undefined && report.chipId.some((x) => x !== 0)) {
    const chip = product === "Turin" ? report.chipId.subarray(0, 8) : report.chipId;
    if (!bytesEqual(chip, key.hwId)) {
      throw fail("SNP_CHIP_ID_MISMATCH", "CHIP_ID differs from the VCEK's hwID", "Fetch the VCEK for this chip.", {
        chipId: toHex(chip),
        hwId: toHex(key.hwId),
      });
    }
  }

  return {
    report,
    product,
    endorsementKey: key,
    reportedTcb,
    currentTcb,
    committedTcb: decodeTcb(report.committedTcb, product),
    launchTcb: decodeTcb(report.launchTcb, product),
  };
}
