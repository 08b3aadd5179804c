import { decodeGuestPolicy, decodeTcb, type SnpProduct, type SnpReport, type TdxQuote } from "@contrast/attestation";
import { type CertificateExtension, derBoolean, derInteger, derOctetString } from "@contrast/x509";

/** The arc under which mesh certificates carry SEV-SNP report claims. */
export const SNP_CLAIMS_OID = "1.3.9901.2.1";

const SIGNING_KEY_VALUE = { vcek: 0, vlek: 1, none: 7 } as const;

/** kds.DecomposeTCBVersion reads every TCB with the Milan/Genoa byte layout. */
const UPSTREAM_TCB_LAYOUT: SnpProduct = "Milan";

/**
 * The SEV-SNP report claims a mesh certificate carries, one extension per field under
 * 1.3.9901.2.1.<n>: INTEGER for numbers, BOOLEAN for flags, OCTET STRING for byte fields. Peers
 * can then make decisions on the workload's hardware state without seeing its report.
 *
 * Bit-exact with upstream, whose certificates peers already parse:
 * - The extensions come in upstream's emission order, which is not the numeric order: policy SMT,
 *   MigrateMA, Debug (7, 6, 5); each TCB as bootloader, TEE, SNP, microcode (12, 14, 13, 15);
 *   signing key before AuthorKeyEn and MaskChipKey (20, 18, 19).
 * - Every TCB is split with go-sev-guest's `kds.DecomposeTCBVersion`, the Milan/Genoa layout
 *   (bytes 0, 1, 6, 7), for every product. On Turin that puts the FMC SPL under "bootloader",
 *   the bootloader SPL under "TEE" and a reserved byte under "SNP"; Turin's TEE and SNP SPLs
 *   (bytes 2 and 3) are not carried at all. That is upstream's behaviour, kept on purpose
 *   (docs/mesh-pki.md).
 */
export function snpClaimExtensions(report: SnpReport): CertificateExtension[] {
  const policy = decodeGuestPolicy(report.policy);
  const tcb = (raw: Uint8Array, first: number): [number, Uint8Array][] => {
    const t = decodeTcb(raw, UPSTREAM_TCB_LAYOUT);
    return [
      [first, derInteger(t.bootloader)],
      [first + 2, derInteger(t.tee)],
      [first + 1, derInteger(t.snp)],
      [first + 3, derInteger(t.microcode)],
    ];
  };
  const values: [number, Uint8Array][] = [
    [1, derInteger(report.version)],
    [2, derInteger(report.guestSvn)],
    [3, derInteger(policy.abiMajor)],
    [4, derInteger(policy.abiMinor)],
    [7, derBoolean(policy.smt)],
    [6, derBoolean(policy.migrateMa)],
    [5, derBoolean(policy.debug)],
    [8, derBoolean(policy.singleSocket)],
    [9, derOctetString(report.familyId)],
    [10, derOctetString(report.imageId)],
    [11, derInteger(report.vmpl)],
    ...tcb(report.currentTcb, 12),
    [16, derBoolean((report.platformInfo & 1n) === 1n)], // SMT enabled
    [17, derBoolean((report.platformInfo & 2n) === 2n)], // TSME enabled
    [20, derInteger(SIGNING_KEY_VALUE[report.signingKey])],
    [18, derBoolean(report.authorKeyEn)],
    [19, derBoolean(report.maskChipKey)],
    [21, derOctetString(report.reportData)],
    [22, derOctetString(report.measurement)],
    [23, derOctetString(report.hostData)],
    [24, derOctetString(report.idKeyDigest)],
    [25, derOctetString(report.authorKeyDigest)],
    [26, derOctetString(report.reportId)],
    [27, derOctetString(report.reportIdMa)],
    ...tcb(report.reportedTcb, 28),
    [32, derOctetString(report.chipId)],
    ...tcb(report.committedTcb, 33),
    [37, derInteger(report.currentVersion.build)],
    [38, derInteger(report.currentVersion.minor)],
    [39, derInteger(report.currentVersion.major)],
    [40, derInteger(report.committedVersion.build)],
    [41, derInteger(report.committedVersion.minor)],
    [42, derInteger(report.committedVersion.major)],
    ...tcb(report.launchTcb, 43),
  ];
  return values.map(([n, value]) => ({ oid: SNP_CLAIM_OIDS[n] as string, value }));
}

/** The arc under which mesh certificates carry TDX quote claims. */
export const TDX_CLAIMS_OID = "1.3.9901.2.2";

// The OID strings made once: x509 looks their DER up by string, and a string built per
// certificate has to be hashed anew for every one of the ~50 claims.
const claimOids = (arc: string): readonly string[] => Array.from({ length: 48 }, (_, n) => `${arc}.${n}`);
const SNP_CLAIM_OIDS = claimOids(SNP_CLAIMS_OID);
const TDX_CLAIM_OIDS = claimOids(TDX_CLAIMS_OID);

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
  return values.map(([n, value]) => ({ oid: TDX_CLAIM_OIDS[n] as string, value }));
}
