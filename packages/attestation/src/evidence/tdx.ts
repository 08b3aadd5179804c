import { fromHex, parseJson, toHex } from "@contrast/core";
import type { TdxCollateral } from "../tdx/collateral-documents.js";
import { parseTdxQuote } from "../tdx/quote.js";
import { documentError, type Field, MessageWriter, readMessage, sized } from "./wire.js";

/**
 * The TDX evidence document: go-tdx-guest's `tdx.QuoteV4` protobuf, which Contrast puts into
 * the aTLS certificate extension 1.3.9901.2.2. The quote is carried as parsed fields and
 * re-serialised to its ABI bytes for verification. `extra_bytes` may carry collateral as JSON
 * (see COLLATERAL_KEY); nothing signs it, so it is verified like collateral from the network.
 */

export interface TdxEvidence {
  /** The quote in its ABI form (version 4), without trailing bytes. */
  quote: Uint8Array;
  collateral?: TdxCollateral;
  /** extra_bytes that are not ours (e.g. upstream Contrast's own extensions), kept as they are. */
  extraBytes?: Uint8Array;
}

const WHAT = "TDX evidence document";

/**
 * The JSON key in extra_bytes under which collateral travels. Upstream's issuer uses
 * "Collateral" with go-tdx-guest's Go structs; a key of our own keeps either side from
 * misreading the other's (unknown keys are ignored by both).
 */
export const COLLATERAL_KEY = "ContrastCollateral";
export const COLLATERAL_VERSION = 1;

// [field number, offset, size] of the TD 1.0 body (584 bytes); rtmrs (11) is repeated.
const BODY: readonly (readonly [number, number, number])[] = [
  [1, 0, 16],
  [2, 16, 48],
  [3, 64, 48],
  [4, 112, 8],
  [5, 120, 8],
  [6, 128, 8],
  [7, 136, 48],
  [8, 184, 48],
  [9, 232, 48],
  [10, 280, 48],
  [12, 520, 64],
];
const RTMRS_OFFSET = 328;
const BODY_SIZE = 584;
// EnclaveReport (384 bytes): [field, offset, size]; 9 and 10 are u16 held in u32 fields.
const QE_REPORT: readonly (readonly [number, number, number])[] = [
  [1, 0x00, 16],
  [3, 0x14, 28],
  [4, 0x30, 16],
  [5, 0x40, 32],
  [6, 0x60, 32],
  [7, 0x80, 32],
  [8, 0xa0, 96],
  [11, 0x104, 60],
  [12, 0x140, 64],
];

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
function u16(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, n >> 8]);
}

/** Serialises collateral as the JSON that travels in extra_bytes (dcap-qvl's field names). */
export function collateralToJson(c: TdxCollateral): string {
  const doc: Record<string, unknown> = {
    version: COLLATERAL_VERSION,
    tcb_info: c.tcbInfo.body,
    tcb_info_signature: c.tcbInfo.signature,
    tcb_info_issuer_chain: c.tcbInfoIssuerChain,
  };
  if (c.qeIdentity !== undefined) {
    doc.qe_identity = c.qeIdentity.body;
    doc.qe_identity_signature = c.qeIdentity.signature;
  }
  if (c.qeIdentityIssuerChain !== undefined) doc.qe_identity_issuer_chain = c.qeIdentityIssuerChain;
  if (c.pckCrl !== undefined) doc.pck_crl = toHex(c.pckCrl);
  if (c.rootCaCrl !== undefined) doc.root_ca_crl = toHex(c.rootCaCrl);
  return JSON.stringify({ [COLLATERAL_KEY]: doc });
}

function collateralFromJson(doc: Record<string, unknown>): TdxCollateral {
  const what = `${WHAT} (collateral)`;
  if (doc.version !== COLLATERAL_VERSION) throw documentError(what, `unsupported version ${String(doc.version)}`);
  const str = (k: string, required: boolean): string | undefined => {
    const v = doc[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string") throw documentError(what, `${k} must be a string`);
    return v;
  };
  const hex = (k: string) => {
    const v = str(k, false);
    try {
      return v === undefined ? undefined : fromHex(v);
    } catch (e) {
      throw documentError(what, `${k} is not hex`, e);
    }
  };
  const qeBody = str("qe_identity", false);
  const qeSig = str("qe_identity_signature", qeBody !== undefined);
  const qeChain = str("qe_identity_issuer_chain", false);
  const pckCrl = hex("pck_crl");
  const rootCaCrl = hex("root_ca_crl");
  return {
    tcbInfo: { body: str("tcb_info", true) as string, signature: str("tcb_info_signature", true) as string },
    tcbInfoIssuerChain: str("tcb_info_issuer_chain", true) as string,
    ...(qeBody !== undefined ? { qeIdentity: { body: qeBody, signature: qeSig as string } } : {}),
    ...(qeChain !== undefined ? { qeIdentityIssuerChain: qeChain } : {}),
    ...(pckCrl !== undefined ? { pckCrl } : {}),
    ...(rootCaCrl !== undefined ? { rootCaCrl } : {}),
  };
}

/** Encodes a version 4 quote (and optional collateral) as a `tdx.QuoteV4` protobuf. */
export function encodeTdxEvidence(e: { quote: Uint8Array; collateral?: TdxCollateral }): Uint8Array {
  const q = parseTdxQuote(e.quote);
  if (q.version !== 4) {
    throw documentError(WHAT, `quote version ${q.version} cannot be carried`, undefined);
  }
  const raw = q.signedRegion;
  const header = new MessageWriter()
    .u32(1, q.version)
    .u32(2, q.attestationKeyType)
    .u32(3, q.teeType)
    .bytes(4, raw.subarray(10, 12)) // qe_svn: go-tdx-guest's mapping of the reserved bytes
    .bytes(5, raw.subarray(8, 10)) // pce_svn
    .bytes(6, q.qeVendorId)
    .bytes(7, q.userData)
    .finish();
  const bodyRaw = raw.subarray(48, 48 + BODY_SIZE);
  const body = new MessageWriter();
  for (const [no, offset, size] of BODY) {
    if (no === 12) for (const rtmr of q.body.rtmrs) body.bytes(11, rtmr);
    body.bytes(no, bodyRaw.subarray(offset, offset + size));
  }
  const qr = q.qeReport.raw;
  const qe = new MessageWriter();
  for (const [no, offset, size] of QE_REPORT) {
    qe.bytes(no, qr.subarray(offset, offset + size));
    if (no === 1) qe.u32(2, q.qeReport.miscSelect);
    if (no === 8) qe.u32(9, q.qeReport.isvProdId).u32(10, q.qeReport.isvSvn);
  }
  const chainBytes = q.pckChainData;
  const pck = new MessageWriter().u32(1, 5).u32(2, chainBytes.length).bytes(3, chainBytes).finish();
  const qeAuth = new MessageWriter().u32(1, q.qeAuthData.length).bytes(2, q.qeAuthData).finish();
  const qeCert = new MessageWriter()
    .message(1, qe.finish())
    .bytes(2, q.qeReportSignature)
    .message(3, qeAuth)
    .message(4, pck)
    .finish();
  const certSize = 384 + 64 + 2 + q.qeAuthData.length + 2 + 4 + chainBytes.length;
  const cert = new MessageWriter().u32(1, 6).u32(2, certSize).message(3, qeCert).finish();
  const signed = new MessageWriter().bytes(1, q.signature).bytes(2, q.attestationKey).message(3, cert).finish();
  const signedSize = 64 + 64 + 2 + 4 + certSize;
  const w = new MessageWriter().message(1, header).message(2, body.finish()).u32(3, signedSize).message(4, signed);
  if (e.collateral !== undefined) w.bytes(5, new TextEncoder().encode(collateralToJson(e.collateral)));
  return w.finish();
}

type Fields = Map<number, Uint8Array | number>;

function fields(bytes: Uint8Array, what: string, kinds: Record<number, "bytes" | "u32">, depth: number): Fields {
  const out: Fields = new Map();
  readMessage(
    bytes,
    what,
    (f: Field) => {
      const kind = kinds[f.no];
      if (kind === undefined) return false;
      out.set(f.no, kind === "u32" ? f.varint32() : f.bytes());
      return true;
    },
    depth,
  );
  return out;
}

const getBytes = (m: Fields, no: number): Uint8Array | undefined => m.get(no) as Uint8Array | undefined;
const getU32 = (m: Fields, no: number): number => (m.get(no) as number | undefined) ?? 0;

/** Decodes a `tdx.QuoteV4` protobuf into the ABI quote and the collateral it carries, if any. */
export function decodeTdxEvidence(doc: Uint8Array): TdxEvidence {
  const top = fields(doc, WHAT, { 1: "bytes", 2: "bytes", 3: "u32", 4: "bytes", 5: "bytes" }, 0);
  const headerMsg = getBytes(top, 1);
  const bodyMsg = getBytes(top, 2);
  const signedMsg = getBytes(top, 4);
  if (headerMsg === undefined || bodyMsg === undefined || signedMsg === undefined) {
    throw documentError(WHAT, "header, body and signed data are all required");
  }
  const h = fields(
    headerMsg,
    `${WHAT} (header)`,
    { 1: "u32", 2: "u32", 3: "u32", 4: "bytes", 5: "bytes", 6: "bytes", 7: "bytes" },
    1,
  );
  const version = getU32(h, 1);
  if (version !== 4) throw documentError(WHAT, `header version ${version}, expected 4`);
  const parts: Uint8Array[] = [
    u16(version),
    u16(getU32(h, 2)),
    u32(getU32(h, 3)),
    sized(WHAT, "pce_svn", getBytes(h, 5) ?? new Uint8Array(2), 2),
    sized(WHAT, "qe_svn", getBytes(h, 4) ?? new Uint8Array(2), 2),
    sized(WHAT, "qe_vendor_id", getBytes(h, 6), 16),
    sized(WHAT, "user_data", getBytes(h, 7), 20),
  ];

  const body = new Uint8Array(BODY_SIZE);
  const rtmrs: Uint8Array[] = [];
  const seen = new Map<number, Uint8Array>();
  readMessage(
    bodyMsg,
    `${WHAT} (body)`,
    (f) => {
      if (f.no === 11) rtmrs.push(sized(WHAT, "rtmr", f.bytes(), 48));
      else if (BODY.some(([no]) => no === f.no)) seen.set(f.no, f.bytes());
      else return false;
      return true;
    },
    1,
  );
  for (const [no, offset, size] of BODY) body.set(sized(WHAT, `body field ${no}`, seen.get(no), size), offset);
  if (rtmrs.length !== 4) throw documentError(WHAT, `${rtmrs.length} RTMRs, expected 4`);
  rtmrs.forEach((r, i) => {
    body.set(r, RTMRS_OFFSET + 48 * i);
  });
  parts.push(body);

  const s = fields(signedMsg, `${WHAT} (signed data)`, { 1: "bytes", 2: "bytes", 3: "bytes" }, 1);
  const cert = fields(
    getBytes(s, 3) ?? new Uint8Array(),
    `${WHAT} (certification data)`,
    { 1: "u32", 2: "u32", 3: "bytes" },
    2,
  );
  const qeCert = fields(
    getBytes(cert, 3) ?? new Uint8Array(),
    `${WHAT} (QE report certification data)`,
    { 1: "bytes", 2: "bytes", 3: "bytes", 4: "bytes" },
    3,
  );
  const qeKinds: Record<number, "bytes" | "u32"> = { 2: "u32", 9: "u32", 10: "u32" };
  for (const [no] of QE_REPORT) qeKinds[no] = "bytes";
  const qe = fields(getBytes(qeCert, 1) ?? new Uint8Array(), `${WHAT} (QE report)`, qeKinds, 4);
  const qeReport = new Uint8Array(384);
  const qv = new DataView(qeReport.buffer);
  for (const [no, offset, size] of QE_REPORT)
    qeReport.set(sized(WHAT, `QE report field ${no}`, getBytes(qe, no), size), offset);
  qv.setUint32(0x10, getU32(qe, 2), true);
  for (const [no, offset] of [
    [9, 0x100],
    [10, 0x102],
  ] as const) {
    const x = getU32(qe, no);
    if (x > 0xffff) throw documentError(WHAT, `QE report field ${no} exceeds 16 bits`);
    qv.setUint16(offset, x, true);
  }
  const auth = fields(getBytes(qeCert, 3) ?? new Uint8Array(), `${WHAT} (QE auth data)`, { 1: "u32", 2: "bytes" }, 4);
  const authData = getBytes(auth, 2) ?? new Uint8Array();
  if (getU32(auth, 1) !== authData.length) throw documentError(WHAT, "QE auth data size disagrees with its data");
  const pck = fields(
    getBytes(qeCert, 4) ?? new Uint8Array(),
    `${WHAT} (PCK chain)`,
    { 1: "u32", 2: "u32", 3: "bytes" },
    4,
  );
  const chain = getBytes(pck, 3) ?? new Uint8Array();
  if (getU32(pck, 2) !== chain.length) throw documentError(WHAT, "PCK chain size disagrees with its data");

  const certSize = 384 + 64 + 2 + authData.length + 2 + 4 + chain.length;
  if (getU32(cert, 2) !== certSize) throw documentError(WHAT, "certification data size disagrees with its contents");
  const signedSize = 64 + 64 + 2 + 4 + certSize;
  if (getU32(top, 3) !== signedSize) throw documentError(WHAT, "signed_data_size disagrees with the signed data");
  parts.push(
    u32(signedSize),
    sized(WHAT, "signature", getBytes(s, 1), 64),
    sized(WHAT, "attestation key", getBytes(s, 2), 64),
    u16(getU32(cert, 1)),
    u32(certSize),
    qeReport,
    sized(WHAT, "QE report signature", getBytes(qeCert, 2), 64),
    u16(authData.length),
    authData,
    u16(getU32(pck, 1)),
    u32(chain.length),
    chain,
  );
  const quote = new Uint8Array(Buffer.concat(parts));
  parseTdxQuote(quote); // types, sizes and framing: fail here with the quote's own error

  const extra = getBytes(top, 5);
  const out: TdxEvidence = { quote };
  if (extra !== undefined && extra.length > 0) {
    const collateral = collateralIn(extra);
    if (collateral !== undefined) out.collateral = collateral;
    else out.extraBytes = extra;
  }
  return out;
}

/** Our collateral, if extra_bytes is a JSON object with COLLATERAL_KEY; otherwise undefined. */
function collateralIn(extra: Uint8Array): TdxCollateral | undefined {
  if (extra[0] !== 0x7b) return undefined; // not a JSON object: upstream padding or data
  let doc: unknown;
  try {
    doc = parseJson(Buffer.from(extra).toString("utf8"), { maxBytes: 4 * 1024 * 1024 });
  } catch {
    return undefined; // foreign bytes, kept as they are
  }
  const inner = (doc as Record<string, unknown>)[COLLATERAL_KEY];
  if (inner === undefined) return undefined;
  if (typeof inner !== "object" || inner === null || Array.isArray(inner)) {
    throw documentError(`${WHAT} (collateral)`, `${COLLATERAL_KEY} must be an object`);
  }
  return collateralFromJson(inner as Record<string, unknown>);
}
