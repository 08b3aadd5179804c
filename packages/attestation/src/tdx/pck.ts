import type { X509Certificate } from "node:crypto";
import { type DerElement, DerTag, decodeOid, readDerChildren, readDerExact, toHex } from "@contrast/core";
import { certificateExtensions } from "@contrast/x509";
import { EvidenceError } from "../errors.js";

const SGX_EXT = "1.2.840.113741.1.13.1";

export type SgxType = "Standard" | "Scalable" | "ScalableWithIntegrity";

/** Intel's SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1). */
export interface PckExtension {
  ppid: Uint8Array;
  /** SGX TCB component SVNs 1..16. */
  tcbComponents: number[];
  pceSvn: number;
  cpuSvn: Uint8Array;
  /** 2 bytes, hex. */
  pceId: string;
  /** 6 bytes, hex. */
  fmspc: string;
  sgxType: SgxType;
  /** Platform CA certificates only. */
  platformInstanceId: Uint8Array | undefined;
  configuration: { dynamicPlatform?: boolean; cachedKeys?: boolean; smtEnabled?: boolean } | undefined;
}

function bad(what: string, cause?: unknown): EvidenceError {
  return new EvidenceError("TDX_PCK_EXTENSION_MALFORMED", `PCK certificate: ${what}`, {
    kind: "input",
    cause,
    hint: "The PCK certificate is damaged.",
  });
}

function uint(el: DerElement | undefined): number {
  if (el?.tag !== DerTag.INTEGER && el?.tag !== 0x0a /* ENUMERATED */) throw bad("expected an INTEGER");
  if (el.value.length === 0 || el.value.length > 4 || ((el.value[0] as number) & 0x80) !== 0)
    throw bad("integer out of range");
  let n = 0;
  for (const b of el.value) n = n * 256 + b;
  return n;
}

function octets(el: DerElement | undefined, size: number, what: string): Uint8Array {
  if (el?.tag !== DerTag.OCTET_STRING || el.value.length !== size) throw bad(`${what} must be ${size} bytes`);
  return new Uint8Array(el.value);
}

/** Named members of a SEQUENCE OF SEQUENCE { OID, value }. */
function members(el: DerElement): Map<string, DerElement> {
  const out = new Map<string, DerElement>();
  for (const entry of readDerChildren(el)) {
    const [oid, value] = readDerChildren(entry);
    if (oid?.tag !== DerTag.OID || value === undefined) throw bad("malformed SGX extension entry");
    out.set(decodeOid(oid.value), value);
  }
  return out;
}

export function parsePckExtension(pck: X509Certificate): PckExtension {
  try {
    const raw = certificateExtensions(new Uint8Array(pck.raw)).get(SGX_EXT);
    if (raw === undefined) throw bad("no SGX extension");
    const m = members(readDerExact(raw, DerTag.SEQUENCE));
    const get = (suffix: string) => m.get(`${SGX_EXT}.${suffix}`);
    const tcbEl = get("2");
    if (tcbEl?.tag !== DerTag.SEQUENCE) throw bad("no TCB");
    const tcb = members(tcbEl);
    const tcbComponents = Array.from({ length: 16 }, (_, i) => uint(tcb.get(`${SGX_EXT}.2.${i + 1}`)));
    const type = uint(get("5"));
    const sgxType: SgxType | undefined = (["Standard", "Scalable", "ScalableWithIntegrity"] as const)[type];
    if (sgxType === undefined) throw bad(`unknown SGX type ${type}`);
    const conf = get("7");
    let configuration: PckExtension["configuration"];
    if (conf?.tag === DerTag.SEQUENCE) {
      configuration = {};
      for (const [oid, el] of members(conf)) {
        const flag = el.tag === DerTag.BOOLEAN && el.value.length === 1 ? el.value[0] !== 0 : undefined;
        if (flag === undefined) throw bad("configuration flags must be BOOLEAN");
        if (oid === `${SGX_EXT}.7.1`) configuration.dynamicPlatform = flag;
        if (oid === `${SGX_EXT}.7.2`) configuration.cachedKeys = flag;
        if (oid === `${SGX_EXT}.7.3`) configuration.smtEnabled = flag;
      }
    }
    const piid = get("6");
    return {
      ppid: octets(get("1"), 16, "PPID"),
      tcbComponents,
      pceSvn: uint(tcb.get(`${SGX_EXT}.2.17`)),
      cpuSvn: octets(tcb.get(`${SGX_EXT}.2.18`), 16, "CPUSVN"),
      pceId: toHex(octets(get("3"), 2, "PCE-ID")),
      fmspc: toHex(octets(get("4"), 6, "FMSPC")),
      sgxType,
      platformInstanceId: piid === undefined ? undefined : octets(piid, 16, "PIID"),
      configuration,
    };
  } catch (e) {
    if (e instanceof EvidenceError && e.code === "TDX_PCK_EXTENSION_MALFORMED") throw e;
    throw bad("unreadable SGX extension", e);
  }
}
