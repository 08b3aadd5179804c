import { EvidenceError } from "../errors.js";

export const INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607";
const HEADER_SIZE = 48;
const TD10_BODY_SIZE = 584;
const TD15_BODY_SIZE = 648;
const QE_REPORT_SIZE = 384;

export interface TdxQuoteBody {
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
  /** TD 1.5 bodies (quote v5, body type 3) only. */
  teeTcbSvn2: Uint8Array | undefined;
  mrServiceTd: Uint8Array | undefined;
}

export interface QeReport {
  raw: Uint8Array;
  cpuSvn: Uint8Array;
  miscSelect: number;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
}

export interface TdxQuote {
  version: 4 | 5;
  attestationKeyType: number;
  teeType: number;
  qeVendorId: Uint8Array;
  userData: Uint8Array;
  body: TdxQuoteBody;
  /** The bytes the attestation key signs: header and body (v5: with the body descriptor). */
  signedRegion: Uint8Array;
  /** ECDSA P-256 signature, r ‖ s big-endian. */
  signature: Uint8Array;
  /** The attestation key's public point, X ‖ Y big-endian. */
  attestationKey: Uint8Array;
  qeReport: QeReport;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** The PCK chain as sent: leaf, intermediate, root (PEM, trailing NULs removed). */
  pckChainPem: string;
  /** The PCK certification data exactly as sent (possibly NUL-padded). */
  pckChainData: Uint8Array;
  /** Bytes after the signature data (padding, markers); not covered by anything. */
  trailing: Uint8Array;
}

function malformed(message: string, offset?: number): EvidenceError {
  return new EvidenceError(
    "TDX_QUOTE_MALFORMED",
    `TDX quote: ${message}${offset === undefined ? "" : ` (offset 0x${offset.toString(16)})`}`,
    {
      kind: "input",
      hint: "The evidence is damaged or not an Intel TDX quote (version 4 or 5).",
      ...(offset === undefined ? {} : { details: { offset } }),
    },
  );
}

/** A bounds-checked little-endian cursor over the quote. */
class Reader {
  private readonly view: DataView;
  constructor(
    readonly b: Uint8Array,
    public pos = 0,
  ) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.b.length) throw malformed(`truncated ${what}`, this.pos);
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u16(what: string): number {
    this.need(2, what);
    const x = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return x;
  }
  u32(what: string): number {
    this.need(4, what);
    const x = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }
}

function parseBody(r: Reader, td15: boolean): TdxQuoteBody {
  const f = (n: number, what: string) => r.bytes(n, what);
  return {
    teeTcbSvn: f(16, "TEE_TCB_SVN"),
    mrSeam: f(48, "MRSEAM"),
    mrSignerSeam: f(48, "MRSIGNERSEAM"),
    seamAttributes: f(8, "SEAMATTRIBUTES"),
    tdAttributes: f(8, "TDATTRIBUTES"),
    xfam: f(8, "XFAM"),
    mrTd: f(48, "MRTD"),
    mrConfigId: f(48, "MRCONFIGID"),
    mrOwner: f(48, "MROWNER"),
    mrOwnerConfig: f(48, "MROWNERCONFIG"),
    rtmrs: [f(48, "RTMR0"), f(48, "RTMR1"), f(48, "RTMR2"), f(48, "RTMR3")],
    reportData: f(64, "REPORTDATA"),
    teeTcbSvn2: td15 ? f(16, "TEE_TCB_SVN_2") : undefined,
    mrServiceTd: td15 ? f(48, "MRSERVICETD") : undefined,
  };
}

function parseQeReport(raw: Uint8Array): QeReport {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: v.getUint32(0x10, true),
    attributes: raw.subarray(0x30, 0x40),
    mrEnclave: raw.subarray(0x40, 0x60),
    mrSigner: raw.subarray(0x80, 0xa0),
    isvProdId: v.getUint16(0x100, true),
    isvSvn: v.getUint16(0x102, true),
    reportData: raw.subarray(0x140, 0x180),
  };
}

/**
 * Parses a TDX quote (version 4, or version 5 with a TD 1.0 or TD 1.5 body) with ECDSA P-256
 * attestation keys and QE certification data carrying a PCK chain. Every length is checked
 * against the input; bytes after the signature data are kept as `trailing` and ignored.
 */
export function parseTdxQuote(input: Uint8Array): TdxQuote {
  const b = new Uint8Array(input); // private copy
  const r = new Reader(b);
  const version = r.u16("header");
  if (version !== 4 && version !== 5) throw malformed(`unsupported version ${version}`, 0);
  const attestationKeyType = r.u16("header");
  if (attestationKeyType !== 2)
    throw malformed(`unsupported attestation key type ${attestationKeyType} (2 = ECDSA P-256)`, 2);
  const teeType = r.u32("header");
  if (teeType !== 0x81) throw malformed(`TEE type 0x${teeType.toString(16)} is not TDX (0x81)`, 4);
  r.bytes(4, "header"); // QE SVN and PCE SVN: informational, the QE report carries the SVN that is checked
  const qeVendorId = r.bytes(16, "QE vendor ID");
  const userData = r.bytes(20, "user data");

  let td15 = false;
  if (version === 5) {
    const bodyType = r.u16("body descriptor");
    const bodySize = r.u32("body descriptor");
    if (bodyType === 2 && bodySize === TD10_BODY_SIZE) td15 = false;
    else if (bodyType === 3 && bodySize === TD15_BODY_SIZE) td15 = true;
    else throw malformed(`unsupported body type ${bodyType} of ${bodySize} bytes`, HEADER_SIZE);
  }
  const body = parseBody(r, td15);
  const signedRegion = b.subarray(0, r.pos);

  const sigDataLength = r.u32("signature data length");
  r.need(sigDataLength, "signature data");
  const sigEnd = r.pos + sigDataLength;
  const s = new Reader(b.subarray(0, sigEnd), r.pos);
  const signature = s.bytes(64, "quote signature");
  const attestationKey = s.bytes(64, "attestation key");
  const certType = s.u16("certification data type");
  if (certType !== 6) throw malformed(`certification data type ${certType}, expected 6 (QE report)`, s.pos - 2);
  const certSize = s.u32("certification data size");
  s.need(certSize, "certification data");
  if (s.pos + certSize !== sigEnd)
    throw malformed("certification data size disagrees with the signature data length", s.pos - 4);
  const qeReport = parseQeReport(s.bytes(QE_REPORT_SIZE, "QE report"));
  const qeReportSignature = s.bytes(64, "QE report signature");
  const authSize = s.u16("QE auth data size");
  const qeAuthData = s.bytes(authSize, "QE auth data");
  const innerType = s.u16("PCK certification data type");
  if (innerType !== 5) throw malformed(`PCK certification data type ${innerType}, expected 5 (PEM chain)`, s.pos - 2);
  const innerSize = s.u32("PCK certification data size");
  const chain = s.bytes(innerSize, "PCK certificate chain");
  if (s.pos !== sigEnd) throw malformed("unexpected bytes after the PCK chain inside the signature data", s.pos);
  let end = chain.length;
  while (end > 0 && chain[end - 1] === 0) end--;

  return {
    version,
    attestationKeyType,
    teeType,
    qeVendorId,
    userData,
    body,
    signedRegion,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChainPem: Buffer.from(chain.buffer, chain.byteOffset, end).toString("latin1"),
    pckChainData: chain,
    trailing: b.subarray(sigEnd),
  };
}
