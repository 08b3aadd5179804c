import { EvidenceError } from "../errors.js";

/** Size of the SEV-SNP ATTESTATION_REPORT structure. */
export const SNP_REPORT_SIZE = 0x4a0;
/** The signature covers bytes [0, SNP_SIGNED_SIZE). */
export const SNP_SIGNED_SIZE = 0x2a0;

export type SnpProduct = "Milan" | "Genoa" | "Turin";
export type SnpSigningKey = "vcek" | "vlek" | "none";

export interface SnpGuestPolicyBits {
  abiMinor: number;
  abiMajor: number;
  smt: boolean;
  migrateMa: boolean;
  debug: boolean;
  singleSocket: boolean;
  cxlAllowed: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHidingDram: boolean;
  pageSwapDisable: boolean;
}

export interface FirmwareVersion {
  major: number;
  minor: number;
  build: number;
}

/** A parsed report. Byte fields are views into `raw`, which is a private copy of the input. */
export interface SnpReport {
  raw: Uint8Array;
  version: number;
  guestSvn: number;
  policy: bigint;
  familyId: Uint8Array;
  imageId: Uint8Array;
  vmpl: number;
  signatureAlgo: number;
  /** TCB_VERSION values, 8 raw bytes each; decode with decodeTcb for the product's layout. */
  currentTcb: Uint8Array;
  platformInfo: bigint;
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: SnpSigningKey;
  reportData: Uint8Array;
  measurement: Uint8Array;
  hostData: Uint8Array;
  idKeyDigest: Uint8Array;
  authorKeyDigest: Uint8Array;
  reportId: Uint8Array;
  reportIdMa: Uint8Array;
  reportedTcb: Uint8Array;
  /** CPUID(1).EAX family/model/stepping; version 3 and later only. */
  cpuid: { family: number; model: number; stepping: number } | undefined;
  chipId: Uint8Array;
  committedTcb: Uint8Array;
  currentVersion: FirmwareVersion;
  committedVersion: FirmwareVersion;
  launchTcb: Uint8Array;
  /** Version 5 and later. */
  launchMitVector: bigint | undefined;
  currentMitVector: bigint | undefined;
  /** ECDSA P-384 signature as big-endian r ‖ s (IEEE P1363), converted from AMD's layout. */
  signature: Uint8Array;
}

function malformed(message: string, offset?: number): EvidenceError {
  return new EvidenceError(
    "SNP_REPORT_MALFORMED",
    `SNP report: ${message}${offset === undefined ? "" : ` (offset 0x${offset.toString(16)})`}`,
    {
      kind: "input",
      hint: "The evidence is damaged or not an SEV-SNP attestation report.",
      ...(offset === undefined ? {} : { details: { offset } }),
    },
  );
}

function mustBeZero(b: Uint8Array, start: number, end: number, what: string): void {
  for (let i = start; i < end; i++) if (b[i] !== 0) throw malformed(`${what} must be zero`, i);
}

/**
 * Parses an ATTESTATION_REPORT strictly, as the SEV-SNP firmware ABI lays it out: versions 2 to
 * 5, reserved bits and ranges zero, the policy's must-be-one bit set, signature algorithm 1
 * (ECDSA P-384 with SHA-384). Nothing is verified here; see verifySnpReport.
 */
export function parseSnpReport(input: Uint8Array): SnpReport {
  if (input.length !== SNP_REPORT_SIZE) {
    throw new EvidenceError(
      "SNP_REPORT_MALFORMED",
      `SNP report: expected ${SNP_REPORT_SIZE} bytes, got ${input.length}`,
      {
        kind: "input",
        hint: "An SEV-SNP attestation report is exactly 1184 bytes; check that the whole report was captured.",
        details: { size: input.length },
      },
    );
  }
  const b = new Uint8Array(input); // private copy: callers cannot change it after verification
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => v.getUint32(o, true);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const bytes = (o: number, n: number) => b.subarray(o, o + n);

  const version = u32(0x00);
  if (version < 2 || version > 5) throw malformed(`unsupported version ${version}`, 0);
  const policy = u64(0x08);
  if (((policy >> 17n) & 1n) !== 1n) throw malformed("policy bit 17 (reserved, must be one) is clear", 0x08);
  if (policy >> 26n !== 0n) throw malformed("policy bits 63:26 must be zero", 0x08);
  const signatureAlgo = u32(0x34);
  if (signatureAlgo !== 1) throw malformed(`unsupported signature algorithm ${signatureAlgo}`, 0x34);
  const signer = u32(0x48);
  if (signer >>> 5 !== 0) throw malformed("signer info bits 31:5 must be zero", 0x48);
  const key = (signer >>> 2) & 7;
  const signingKey: SnpSigningKey | undefined =
    key === 0 ? "vcek" : key === 1 ? "vlek" : key === 7 ? "none" : undefined;
  if (signingKey === undefined) throw malformed(`reserved signing key selector ${key}`, 0x48);
  mustBeZero(b, 0x4c, 0x50, "reserved bytes");
  mustBeZero(b, version >= 3 ? 0x18b : 0x188, 0x1a0, "reserved bytes");
  mustBeZero(b, 0x1eb, 0x1ec, "reserved byte");
  mustBeZero(b, 0x1ef, 0x1f0, "reserved byte");
  if (version < 5) mustBeZero(b, 0x1f8, 0x208, "mitigation vectors (version 5 and later only)");
  mustBeZero(b, 0x208, 0x2a0, "reserved bytes");
  // r and s are 48-byte little-endian numbers in 72-byte fields; the rest of the area is zero.
  mustBeZero(b, 0x2a0 + 48, 0x2e8, "signature R padding");
  mustBeZero(b, 0x2e8 + 48, 0x330, "signature S padding");
  mustBeZero(b, 0x330, SNP_REPORT_SIZE, "signature reserved area");

  const signature = new Uint8Array(96);
  signature.set(bytes(0x2a0, 48).slice().reverse(), 0);
  signature.set(bytes(0x2e8, 48).slice().reverse(), 48);

  return {
    raw: b,
    version,
    guestSvn: u32(0x04),
    policy,
    familyId: bytes(0x10, 16),
    imageId: bytes(0x20, 16),
    vmpl: u32(0x30),
    signatureAlgo,
    currentTcb: bytes(0x38, 8),
    platformInfo: u64(0x40),
    authorKeyEn: (signer & 1) === 1,
    maskChipKey: (signer & 2) === 2,
    signingKey,
    reportData: bytes(0x50, 64),
    measurement: bytes(0x90, 48),
    hostData: bytes(0xc0, 32),
    idKeyDigest: bytes(0xe0, 48),
    authorKeyDigest: bytes(0x110, 48),
    reportId: bytes(0x140, 32),
    reportIdMa: bytes(0x160, 32),
    reportedTcb: bytes(0x180, 8),
    cpuid:
      version >= 3
        ? { family: b[0x188] as number, model: b[0x189] as number, stepping: b[0x18a] as number }
        : undefined,
    chipId: bytes(0x1a0, 64),
    committedTcb: bytes(0x1e0, 8),
    currentVersion: { build: b[0x1e8] as number, minor: b[0x1e9] as number, major: b[0x1ea] as number },
    committedVersion: { build: b[0x1ec] as number, minor: b[0x1ed] as number, major: b[0x1ee] as number },
    launchTcb: bytes(0x1f0, 8),
    launchMitVector: version >= 5 ? u64(0x1f8) : undefined,
    currentMitVector: version >= 5 ? u64(0x200) : undefined,
    signature,
  };
}

/**
 * The SIGNING_KEY field of a report, read and checked as parseSnpReport does, without parsing the
 * rest: for picking the endorsement key before the report is verified (which parses it in full).
 */
export function snpReportSigningKey(report: Uint8Array): SnpSigningKey {
  if (report.length !== SNP_REPORT_SIZE) return parseSnpReport(report).signingKey; // throws the size error
  const signer = new DataView(report.buffer, report.byteOffset, report.byteLength).getUint32(0x48, true);
  if (signer >>> 5 !== 0) throw malformed("signer info bits 31:5 must be zero", 0x48);
  const key = (signer >>> 2) & 7;
  if (key === 0) return "vcek";
  if (key === 1) return "vlek";
  if (key === 7) return "none";
  throw malformed(`reserved signing key selector ${key}`, 0x48);
}

export function decodeGuestPolicy(policy: bigint): SnpGuestPolicyBits {
  const bit = (n: bigint) => ((policy >> n) & 1n) === 1n;
  return {
    abiMinor: Number(policy & 0xffn),
    abiMajor: Number((policy >> 8n) & 0xffn),
    smt: bit(16n),
    migrateMa: bit(18n),
    debug: bit(19n),
    singleSocket: bit(20n),
    cxlAllowed: bit(21n),
    memAes256Xts: bit(22n),
    raplDis: bit(23n),
    ciphertextHidingDram: bit(24n),
    pageSwapDisable: bit(25n),
  };
}

/** PLATFORM_INFO bits, named as go-sev-guest's SnpPlatformInfo. */
export interface SnpPlatformInfoBits {
  smtEnabled: boolean;
  tsmeEnabled: boolean;
  eccEnabled: boolean;
  raplDisabled: boolean;
  ciphertextHidingDramEnabled: boolean;
  aliasCheckComplete: boolean;
  tioEnabled: boolean;
}

/** Bits of PLATFORM_INFO that have a meaning: 0-5 and 7. Bit 6 and bits 63:8 are reserved. */
export const PLATFORM_INFO_KNOWN_BITS = 0xbfn;

export function decodePlatformInfo(info: bigint): SnpPlatformInfoBits {
  const bit = (n: bigint) => ((info >> n) & 1n) === 1n;
  return {
    smtEnabled: bit(0n),
    tsmeEnabled: bit(1n),
    eccEnabled: bit(2n),
    raplDisabled: bit(3n),
    ciphertextHidingDramEnabled: bit(4n),
    aliasCheckComplete: bit(5n),
    tioEnabled: bit(7n),
  };
}

export interface TcbParts {
  /** Turin only. */
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

/** Decodes an 8-byte TCB_VERSION; Turin moved the fields (and added FMC). */
export function decodeTcb(raw: Uint8Array, product: SnpProduct): TcbParts {
  const at = (i: number) => raw[i] as number;
  if (product === "Turin") return { fmc: at(0), bootloader: at(1), tee: at(2), snp: at(3), microcode: at(7) };
  return { bootloader: at(0), tee: at(1), snp: at(6), microcode: at(7) };
}

/** Indices of the reserved (must-be-zero) bytes of a TCB_VERSION in the product's layout. */
export function tcbReservedBytes(product: SnpProduct): readonly number[] {
  return product === "Turin" ? [4, 5, 6] : [2, 3, 4, 5];
}

/**
 * The product line from CPUID (version 3+ reports). Family 19h models 00-0Fh are Milan, 10-1Fh
 * and A0-AFh (Bergamo, Siena) Genoa; family 1Ah is Turin. go-sev-guest accepts only the exact
 * models 01h, 11h and 1Ah/02h; the wider ranges follow AMD's KDS, which issues "Genoa" VCEKs
 * for model A0h (see docs/deviations.md).
 */
export function productFromCpuid(cpuid: { family: number; model: number }): SnpProduct | undefined {
  if (cpuid.family === 0x19) {
    if (cpuid.model <= 0x0f) return "Milan";
    if ((cpuid.model >= 0x10 && cpuid.model <= 0x1f) || (cpuid.model >= 0xa0 && cpuid.model <= 0xaf)) return "Genoa";
  }
  if (cpuid.family === 0x1a) return "Turin";
  return undefined;
}

export function tcbToString(t: TcbParts): string {
  return `${t.fmc === undefined ? "" : `fmc ${t.fmc} `}bl ${t.bootloader} tee ${t.tee} snp ${t.snp} ucode ${t.microcode}`;
}
