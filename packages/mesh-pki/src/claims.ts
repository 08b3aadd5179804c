import { decodeGuestPolicy, decodeTcb, type SnpProduct, type SnpReport, type TdxQuote } from "@contrast/attestation";
import type { CertificateExtension } from "./certificate.js";
import { derBoolean, derInteger, derOctetString } from "./der-writer.js";

/** The arc under which mesh certificates carry SEV-SNP report claims. */
export const SNP_CLAIMS_OID = "1.3.9901.2.1";

const SIGNING_KEY_VALUE = { vcek: 0, vlek: 1, none: 7 } as const;

/**
 * The SEV-SNP report claims a mesh certificate carries, one extension per field under
 * 1.3.9901.2.1.<n>: INTEGER for numbers, BOOLEAN for flags, OCTET STRING for byte fields. Peers
 * can then make decisions on the workload's hardware state without seeing its report. TCB
 * values are split with the product's layout (Turin moved the fields).
 */
export function snpClaimExtensions(report: SnpReport, product: SnpProduct): CertificateExtension[] {
  const policy = decodeGuestPolicy(report.policy);
  const tcb = (raw: Uint8Array) => {
    const t = decodeTcb(raw, product);
    return [t.bootloader, t.snp, t.tee, t.microcode].map((n) => derInteger(n));
  };
  const values: Uint8Array[] = [
    derInteger(report.version), // 1
    derInteger(report.guestSvn),
    derInteger(policy.abiMajor),
    derInteger(policy.abiMinor),
    derBoolean(policy.debug), // 5
    derBoolean(policy.migrateMa),
    derBoolean(policy.smt),
    derBoolean(policy.singleSocket),
    derOctetString(report.familyId),
    derOctetString(report.imageId), // 10
    derInteger(report.vmpl),
    ...tcb(report.currentTcb), // 12..15
    derBoolean((report.platformInfo & 1n) === 1n), // 16 SMT enabled
    derBoolean((report.platformInfo & 2n) === 2n), // 17 TSME enabled
    derBoolean(report.authorKeyEn),
    derBoolean(report.maskChipKey),
    derInteger(SIGNING_KEY_VALUE[report.signingKey]), // 20
    derOctetString(report.reportData),
    derOctetString(report.measurement),
    derOctetString(report.hostData),
    derOctetString(report.idKeyDigest),
    derOctetString(report.authorKeyDigest), // 25
    derOctetString(report.reportId),
    derOctetString(report.reportIdMa),
    ...tcb(report.reportedTcb), // 28..31
    derOctetString(report.chipId), // 32
    ...tcb(report.committedTcb), // 33..36
    derInteger(report.currentVersion.build), // 37
    derInteger(report.currentVersion.minor),
    derInteger(report.currentVersion.major),
    derInteger(report.committedVersion.build), // 40
    derInteger(report.committedVersion.minor),
    derInteger(report.committedVersion.major),
    ...tcb(report.launchTcb), // 43..46
  ];
  return values.map((value, i) => ({ oid: `${SNP_CLAIMS_OID}.${i + 1}`, value }));
}

/** The arc under which mesh certificates carry TDX quote claims. */
export const TDX_CLAIMS_OID = "1.3.9901.2.2";

// Fixed parts of the quote's signature data: signature, attestation key, certification type and size.
const SIGNATURE_DATA_FIXED = 64 + 64 + 2 + 4;
// The QE report certification data around the variable parts: report, signature, two sizes, type, size.
const QE_CERT_DATA_FIXED = 384 + 64 + 2 + 2 + 4;
// The parser accepts only these (QE report certification data; a PEM PCK chain).
const CERT_DATA_TYPE_QE_REPORT = 6;
const CERT_DATA_TYPE_PCK_CHAIN = 5;

/**
 * The TDX quote claims a mesh certificate carries, one extension per field of go-tdx-guest's
 * `tdx.QuoteV4` message in its order, under 1.3.9901.2.2.<n>: INTEGER for numeric fields,
 * OCTET STRING for byte fields (the QE and PCE SVNs are bytes there, little-endian as in the
 * quote). Number 28 is the nested QE report certification data message, which has no value of
 * its own and is skipped. `extraBytes` is the document's extra_bytes; it defaults to the bytes
 * after the quote, which is where go-tdx-guest takes them from when it reads an ABI quote.
 */
export function tdxClaimExtensions(quote: TdxQuote, extraBytes: Uint8Array = quote.trailing): CertificateExtension[] {
  const h = quote.signedRegion;
  const b = quote.body;
  const qe = quote.qeReport;
  const raw = (offset: number, size: number) => qe.raw.subarray(offset, offset + size);
  const certSize = QE_CERT_DATA_FIXED + quote.qeAuthData.length + quote.pckChainData.length;
  const values: [number, Uint8Array][] = [
    [1, derInteger(quote.version)],
    [2, derInteger(quote.attestationKeyType)],
    [3, derInteger(quote.teeType)],
    [4, derOctetString(h.subarray(8, 10))], // QE SVN
    [5, derOctetString(h.subarray(10, 12))], // PCE SVN
    [6, derOctetString(quote.qeVendorId)],
    [7, derOctetString(quote.userData)],
    [8, derOctetString(b.teeTcbSvn)],
    [9, derOctetString(b.mrSeam)],
    [10, derOctetString(b.mrSignerSeam)],
    [11, derOctetString(b.seamAttributes)],
    [12, derOctetString(b.tdAttributes)],
    [13, derOctetString(b.xfam)],
    [14, derOctetString(b.mrTd)],
    [15, derOctetString(b.mrConfigId)],
    [16, derOctetString(b.mrOwner)],
    [17, derOctetString(b.mrOwnerConfig)],
    ...b.rtmrs.map((rtmr, i): [number, Uint8Array] => [18 + i, derOctetString(rtmr)]),
    [22, derOctetString(b.reportData)],
    [23, derInteger(SIGNATURE_DATA_FIXED + certSize)],
    [24, derOctetString(quote.signature)],
    [25, derOctetString(quote.attestationKey)],
    [26, derInteger(CERT_DATA_TYPE_QE_REPORT)],
    [27, derInteger(certSize)],
    [29, derOctetString(qe.cpuSvn)],
    [30, derInteger(qe.miscSelect)],
    [31, derOctetString(raw(0x14, 28))], // reserved1
    [32, derOctetString(qe.attributes)],
    [33, derOctetString(qe.mrEnclave)],
    [34, derOctetString(raw(0x60, 32))], // reserved2
    [35, derOctetString(qe.mrSigner)],
    [36, derOctetString(raw(0xa0, 96))], // reserved3
    [37, derInteger(qe.isvProdId)],
    [38, derInteger(qe.isvSvn)],
    [39, derOctetString(raw(0x104, 60))], // reserved4
    [40, derOctetString(qe.reportData)],
    [41, derOctetString(quote.qeReportSignature)],
    [42, derInteger(quote.qeAuthData.length)],
    [43, derOctetString(quote.qeAuthData)],
    [44, derInteger(CERT_DATA_TYPE_PCK_CHAIN)],
    [45, derInteger(quote.pckChainData.length)],
    [46, derOctetString(quote.pckChainData)],
    [47, derOctetString(extraBytes)],
  ];
  return values.map(([n, value]) => ({ oid: `${TDX_CLAIMS_OID}.${n}`, value }));
}
