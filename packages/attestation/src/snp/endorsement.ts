import { type KeyObject, X509Certificate } from "node:crypto";
import { DerTag, decodePemBlock, readDerExact } from "@contrast/core";
import { certificateExtensions, signatureAlgorithmOid } from "@contrast/x509";
import { EvidenceError } from "../errors.js";

const AMD_ARC = "1.3.6.1.4.1.3704.1";
export const AMD_OIDS = {
  structVersion: `${AMD_ARC}.1`,
  productName: `${AMD_ARC}.2`,
  blSPL: `${AMD_ARC}.3.1`,
  teeSPL: `${AMD_ARC}.3.2`,
  snpSPL: `${AMD_ARC}.3.3`,
  spl4: `${AMD_ARC}.3.4`,
  spl5: `${AMD_ARC}.3.5`,
  spl6: `${AMD_ARC}.3.6`,
  spl7: `${AMD_ARC}.3.7`,
  ucodeSPL: `${AMD_ARC}.3.8`,
  fmcSPL: `${AMD_ARC}.3.9`,
  hwID: `${AMD_ARC}.4`,
  cspID: `${AMD_ARC}.5`,
} as const;

export const RSASSA_PSS_OID = "1.2.840.113549.1.1.10";

/** A VCEK or VLEK certificate with AMD's extensions decoded. */
export interface EndorsementKey {
  cert: X509Certificate;
  /** The certificate's public key, extracted once (X509Certificate.publicKey builds a new one per call). */
  publicKey: KeyObject;
  der: Uint8Array;
  kind: "vcek" | "vlek";
  structVersion: number | undefined;
  /** As written in the certificate: "Milan-B0", "Genoa", "Turin", ... */
  productName: string;
  /** The TCB the key is derived from. */
  tcb: { fmc?: number; bootloader: number; tee: number; snp: number; microcode: number };
  /** Chip ID (64 bytes; 8 on Turin). Present on every VCEK, absent on every VLEK. */
  hwId: Uint8Array | undefined;
  /** The cloud provider a VLEK was issued to. Present on every VLEK, absent on every VCEK. */
  cspId: string | undefined;
  signatureAlgorithm: string;
}

function certError(message: string, cause?: unknown): EvidenceError {
  return new EvidenceError("SNP_CERT_MALFORMED", `endorsement key certificate: ${message}`, {
    kind: "input",
    cause,
    hint: "Pass the VCEK or VLEK as DER or PEM, as AMD's Key Distribution Service serves it.",
  });
}

/** Accepts DER or PEM. */
export function certificateBytes(input: Uint8Array | string): Uint8Array {
  const text = typeof input === "string" ? input : undefined;
  if (text !== undefined || (input as Uint8Array)[0] === 0x2d /* '-' */) {
    const pem = text ?? Buffer.from(input as Uint8Array).toString("latin1");
    return decodePemBlock(pem, "CERTIFICATE").der;
  }
  return input as Uint8Array;
}

/** Unsigned value of a DER INTEGER's content octets (AMD encodes 217 as 02 02 00 D9). */
function derUint(content: Uint8Array): number {
  if (content.length === 0 || content.length > 6 || ((content[0] as number) & 0x80) !== 0)
    throw certError("bad INTEGER in AMD extension");
  let n = 0;
  for (const byte of content) n = n * 256 + byte;
  return n;
}

/** Parses a VCEK or VLEK and its AMD extensions. Does not verify anything. */
export function parseEndorsementKey(input: Uint8Array | string): EndorsementKey {
  let der: Uint8Array;
  let cert: X509Certificate;
  let ext: Map<string, Uint8Array>;
  let signatureAlgorithm: string;
  let publicKey: KeyObject;
  try {
    der = certificateBytes(input);
    cert = new X509Certificate(der);
    publicKey = cert.publicKey;
    ext = certificateExtensions(der);
    signatureAlgorithm = signatureAlgorithmOid(der);
  } catch (e) {
    if (e instanceof EvidenceError) throw e;
    throw certError("not a parsable X.509 certificate", e);
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  const kind = cn === "SEV-VCEK" ? "vcek" : cn === "SEV-VLEK" ? "vlek" : undefined;
  if (kind === undefined) throw certError(`subject CN is ${JSON.stringify(cn)}, expected SEV-VCEK or SEV-VLEK`);

  const integer = (oid: string, required: boolean): number | undefined => {
    const raw = ext.get(oid);
    if (raw === undefined) {
      if (required) throw certError(`missing AMD extension ${oid}`);
      return undefined;
    }
    const el = readDerExact(raw, DerTag.INTEGER);
    return derUint(el.value);
  };
  const ia5 = (oid: string): string | undefined => {
    const raw = ext.get(oid);
    return raw === undefined ? undefined : Buffer.from(readDerExact(raw, DerTag.IA5_STRING).value).toString("latin1");
  };
  const productName = ia5(AMD_OIDS.productName);
  if (productName === undefined) throw certError("missing productName extension");

  // hwID is raw bytes in KDS certificates; some tools wrap it in an OCTET STRING. The lengths
  // tell the two apart: 64 (8 on Turin) raw, or 66 (10) with the 04 xx header.
  let hwId = ext.get(AMD_OIDS.hwID);
  if (hwId !== undefined && (hwId.length === 66 || hwId.length === 10) && hwId[0] === DerTag.OCTET_STRING) {
    hwId = readDerExact(hwId, DerTag.OCTET_STRING).value;
  }
  // KDS: a VCEK names its chip (hwID) and no cloud; a VLEK names its cloud (cspID) and no chip.
  // Without hwID a VCEK could not be bound to the report's CHIP_ID (go-sev-guest refuses it too).
  const cspId = ia5(AMD_OIDS.cspID);
  const hwIdSize = productOfName(productName) === "Turin" ? 8 : 64;
  if (kind === "vcek") {
    if (hwId === undefined) throw certError("the VCEK has no hwID extension");
    if (hwId.length !== hwIdSize) throw certError(`hwID has ${hwId.length} bytes, expected ${hwIdSize}`);
    if (cspId !== undefined) throw certError("the VCEK has a cspID extension, which only VLEKs carry");
  } else {
    if (hwId !== undefined) throw certError("the VLEK has an hwID extension, which only VCEKs carry");
    if (cspId === undefined) throw certError("the VLEK has no cspID extension");
  }

  const fmc = integer(AMD_OIDS.fmcSPL, false);
  return {
    cert,
    publicKey,
    der,
    kind,
    structVersion: integer(AMD_OIDS.structVersion, false),
    productName,
    tcb: {
      ...(fmc === undefined ? {} : { fmc }),
      bootloader: integer(AMD_OIDS.blSPL, true) as number,
      tee: integer(AMD_OIDS.teeSPL, true) as number,
      snp: integer(AMD_OIDS.snpSPL, true) as number,
      microcode: integer(AMD_OIDS.ucodeSPL, true) as number,
    },
    hwId: hwId === undefined ? undefined : new Uint8Array(hwId),
    cspId,
    signatureAlgorithm,
  };
}

/** The product line a certificate names ("Milan-B0" -> "Milan"). */
export function productOfName(name: string): "Milan" | "Genoa" | "Turin" | undefined {
  const base = name.split("-")[0];
  return base === "Milan" || base === "Genoa" || base === "Turin" ? base : undefined;
}
