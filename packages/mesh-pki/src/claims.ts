import { decodeGuestPolicy, decodeTcb, type SnpProduct, type SnpReport } from "@contrast/attestation";
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
