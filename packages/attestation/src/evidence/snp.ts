import { parseSnpReport, SNP_REPORT_SIZE, type SnpProduct } from "../snp/report.js";
import { documentError, type Field, MessageWriter, readMessage, sized } from "./wire.js";

/**
 * The SEV-SNP evidence document: go-sev-guest's `sevsnp.Attestation` protobuf, which Contrast
 * puts into the aTLS certificate extension 1.3.9901.2.1. It carries the report as parsed
 * fields (re-serialised to the 1184-byte ABI form to verify the signature), the VCEK or VLEK
 * with ASK and ARK, the product, and the product's CRL under a fixed `extras` key.
 */

/** The `extras` key under which Contrast's issuer stores the product CRL (DER). */
export const SNP_CRL_EXTRAS_KEY = "00569ee4-e480-4fba-bbf4-45b629901180";

export interface SnpEvidence {
  /** The report in its 1184-byte ABI form. */
  report: Uint8Array;
  vcek?: Uint8Array;
  vlek?: Uint8Array;
  ask?: Uint8Array;
  ark?: Uint8Array;
  /** AMD's CRL for the product (DER), stored in `extras`. */
  crl?: Uint8Array;
  /** Other `extras` entries, kept so that nothing is lost on a round trip. */
  extras?: ReadonlyMap<string, Uint8Array>;
  /** The product as the guest saw it; Contrast forces the machine stepping to 0. */
  product?: { name: SnpProduct | undefined; machineStepping?: number };
}

const WHAT = "SNP evidence document";
const PRODUCTS: readonly (SnpProduct | undefined)[] = [undefined, "Milan", "Genoa", "Turin"];

// Report message fields in ABI order: [field number, offset, kind, size].
type Slot = readonly [number, number, "u32" | "u64" | "bytes", number];
const REPORT_SLOTS: readonly Slot[] = [
  [1, 0x00, "u32", 4], // version
  [2, 0x04, "u32", 4], // guest_svn
  [3, 0x08, "u64", 8], // policy
  [4, 0x10, "bytes", 16], // family_id
  [5, 0x20, "bytes", 16], // image_id
  [6, 0x30, "u32", 4], // vmpl
  [7, 0x34, "u32", 4], // signature_algo
  [8, 0x38, "u64", 8], // current_tcb
  [9, 0x40, "u64", 8], // platform_info
  [10, 0x48, "u32", 4], // signer_info
  [11, 0x50, "bytes", 64], // report_data
  [12, 0x90, "bytes", 48], // measurement
  [13, 0xc0, "bytes", 32], // host_data
  [14, 0xe0, "bytes", 48], // id_key_digest
  [15, 0x110, "bytes", 48], // author_key_digest
  [16, 0x140, "bytes", 32], // report_id
  [17, 0x160, "bytes", 32], // report_id_ma
  [18, 0x180, "u64", 8], // reported_tcb
  [19, 0x1a0, "bytes", 64], // chip_id
  [20, 0x1e0, "u64", 8], // committed_tcb
  [21, 0x1e8, "u32", 1], // current_build
  [22, 0x1e9, "u32", 1], // current_minor
  [23, 0x1ea, "u32", 1], // current_major
  [24, 0x1ec, "u32", 1], // committed_build
  [25, 0x1ed, "u32", 1], // committed_minor
  [26, 0x1ee, "u32", 1], // committed_major
  [27, 0x1f0, "u64", 8], // launch_tcb
  [28, 0x2a0, "bytes", 0x200], // signature: the whole area, r and s little-endian
  [30, 0x1f8, "u64", 8], // launch_mit_vector (version 5)
  [31, 0x200, "u64", 8], // current_mit_vector (version 5)
];
const CPUID_FIELD = 29;

/** CPUID(1).EAX masked with 0x0fff0fff, from the report's family, model and stepping bytes. */
function cpuidEax(family: number, model: number, stepping: number): number {
  if (stepping > 0xf) throw documentError(WHAT, `CPUID stepping ${stepping} does not fit in four bits`);
  const baseFamily = Math.min(family, 0xf);
  const extFamily = family - baseFamily;
  return (extFamily << 20) | ((model >> 4) << 16) | (baseFamily << 8) | ((model & 0xf) << 4) | stepping;
}

function cpuidBytes(eax: number): [number, number, number] {
  const family = ((eax >> 8) & 0xf) + ((eax >> 20) & 0xff);
  if (family > 0xff) throw documentError(WHAT, "cpuid1eax_fms encodes a family above 0xFF");
  return [family, (((eax >> 16) & 0xf) << 4) | ((eax >> 4) & 0xf), eax & 0xf];
}

function reportMessage(raw: Uint8Array): Uint8Array {
  const r = parseSnpReport(raw); // only well-formed reports go into documents
  const v = new DataView(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength);
  const w = new MessageWriter();
  const slots = [...REPORT_SLOTS].sort((a, b) => a[0] - b[0]);
  for (const [no, offset, kind, size] of slots) {
    if (no === 30) {
      // cpuid1eax_fms (29) sits between signature (28) and the mitigation vectors.
      if (r.cpuid !== undefined) w.u32(CPUID_FIELD, cpuidEax(r.cpuid.family, r.cpuid.model, r.cpuid.stepping));
    }
    if (kind === "bytes") w.bytes(no, r.raw.subarray(offset, offset + size));
    else if (kind === "u64") w.u64(no, v.getBigUint64(offset, true));
    else w.u32(no, size === 1 ? (r.raw[offset] as number) : v.getUint32(offset, true));
  }
  return w.finish();
}

const SLOT_BY_FIELD: ReadonlyMap<number, Slot> = new Map(REPORT_SLOTS.map((s) => [s[0], s]));

function reportFromMessage(msg: Uint8Array): Uint8Array {
  const what = `${WHAT} (report)`;
  const b = new Uint8Array(SNP_REPORT_SIZE);
  const v = new DataView(b.buffer);
  const bySlot = SLOT_BY_FIELD;
  const seen = new Set<number>();
  let cpuid: number | undefined;
  readMessage(msg, what, (f: Field) => {
    if (f.no === CPUID_FIELD) {
      cpuid = f.varint32();
      return true;
    }
    const slot = bySlot.get(f.no);
    if (slot === undefined) return false;
    const [no, offset, kind, size] = slot;
    seen.add(no);
    if (kind === "bytes") {
      b.set(sized(what, `field ${no}`, f.bytes(), size), offset);
    } else if (kind === "u64") {
      v.setBigUint64(offset, f.varint64(), true);
    } else {
      const x = f.varint32();
      if (size === 1 && x > 0xff) throw documentError(what, `field ${no} holds ${x}, more than one byte`);
      if (size === 1) b[offset] = x;
      else v.setUint32(offset, x, true);
    }
    return true;
  });
  for (const [no, , kind, size] of REPORT_SLOTS) {
    if (kind === "bytes" && !seen.has(no)) sized(what, `field ${no}`, undefined, size);
  }
  // The CPUID bytes are reserved (zero) before version 3.
  if (cpuid !== undefined && v.getUint32(0, true) >= 3) b.set(cpuidBytes(cpuid), 0x188);
  parseSnpReport(b); // reserved fields, version, signature algorithm: fail here, not later
  return b;
}

function chainMessage(e: SnpEvidence): Uint8Array {
  const w = new MessageWriter().bytes(1, e.vcek).bytes(2, e.ask).bytes(3, e.ark).bytes(6, e.vlek);
  const extras = new Map(e.extras ?? []);
  if (e.crl !== undefined) extras.set(SNP_CRL_EXTRAS_KEY, e.crl);
  // Sorted keys make the encoding deterministic (Go's map order is random).
  for (const key of [...extras.keys()].sort()) {
    const entry = new MessageWriter()
      .string(1, key)
      .bytes(2, extras.get(key) as Uint8Array)
      .finish();
    w.message(7, entry);
  }
  return w.finish();
}

/** Encodes evidence as a `sevsnp.Attestation` protobuf. The report must be well formed. */
export function encodeSnpEvidence(e: SnpEvidence): Uint8Array {
  const w = new MessageWriter().message(1, reportMessage(e.report)).message(2, chainMessage(e));
  if (e.product !== undefined) {
    const name = PRODUCTS.indexOf(e.product.name);
    const p = new MessageWriter().u32(1, name);
    // google.protobuf.UInt32Value: present even when 0, which is what Contrast sends.
    if (e.product.machineStepping !== undefined)
      p.message(3, new MessageWriter().u32(1, e.product.machineStepping).finish());
    w.message(3, p.finish());
  }
  return w.finish();
}

/** Decodes a `sevsnp.Attestation` protobuf back into the ABI report and its certificates. */
export function decodeSnpEvidence(doc: Uint8Array): SnpEvidence {
  let report: Uint8Array | undefined;
  const out: Omit<SnpEvidence, "report"> = {};
  const extras = new Map<string, Uint8Array>();
  readMessage(doc, WHAT, (f) => {
    if (f.no === 1) report = reportFromMessage(f.bytes());
    else if (f.no === 2) {
      readMessage(
        f.bytes(),
        `${WHAT} (certificate_chain)`,
        (c) => {
          const put = (k: "vcek" | "ask" | "ark" | "vlek") => {
            const v = c.bytes();
            if (v.length > 0) out[k] = v;
          };
          if (c.no === 1) put("vcek");
          else if (c.no === 2) put("ask");
          else if (c.no === 3) put("ark");
          else if (c.no === 6) put("vlek");
          else if (c.no === 7) {
            let key = "";
            let value: Uint8Array = new Uint8Array();
            readMessage(
              c.bytes(),
              `${WHAT} (extras)`,
              (x) => {
                if (x.no === 1) key = Buffer.from(x.bytes()).toString("utf8");
                else if (x.no === 2) value = x.bytes();
                else return false;
                return true;
              },
              2,
            );
            extras.set(key, value);
          } else return false;
          return true;
        },
        1,
      );
    } else if (f.no === 3) {
      let name: SnpProduct | undefined;
      let machineStepping: number | undefined;
      readMessage(
        f.bytes(),
        `${WHAT} (product)`,
        (p) => {
          if (p.no === 1) name = PRODUCTS[p.varint32()];
          else if (p.no === 3) {
            machineStepping = 0;
            readMessage(
              p.bytes(),
              `${WHAT} (machine_stepping)`,
              (s) => {
                if (s.no !== 1) return false;
                machineStepping = s.varint32();
                return true;
              },
              2,
            );
          } else return false;
          return true;
        },
        1,
      );
      out.product = machineStepping === undefined ? { name } : { name, machineStepping };
    } else return false;
    return true;
  });
  if (report === undefined) throw documentError(WHAT, "it holds no report");
  const crl = extras.get(SNP_CRL_EXTRAS_KEY);
  extras.delete(SNP_CRL_EXTRAS_KEY);
  return {
    report,
    ...out,
    ...(crl !== undefined && crl.length > 0 ? { crl } : {}),
    ...(extras.size > 0 ? { extras } : {}),
  };
}
