import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from "node:crypto";
import { DerTag, encodeDer, utf8 } from "@contrast/core";
import {
  caBasicConstraintsExtension,
  derInteger,
  encodeExtension,
  encodeName,
  NAME,
  rsaPssSigner,
  signCertificate,
  spkiOfKey,
} from "@contrast/x509";
import { AMD_OIDS } from "../src/snp/endorsement.js";
import { SNP_REPORT_SIZE, SNP_SIGNED_SIZE, type TcbParts } from "../src/snp/report.js";
import type { AmdRoots } from "../src/snp/verify.js";

/**
 * A self-made AMD-style chain that signs whatever report bytes a test writes, so that the checks
 * after the signature (TCB relations, reserved bytes, key extensions, CPUID) can be probed with
 * reports no real firmware would sign. Verified against its own roots, never AMD's.
 */
export const FORGE_NOW = new Date("2026-11-22T00:00:00Z");

const name = (cn: string) => encodeName([[NAME.commonName, cn]], "utf8");
const ark = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ask = generateKeyPairSync("rsa", { modulusLength: 2048 });
const validity = { notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2040-01-01T00:00:00Z") };

export const forgedRoots: AmdRoots = {
  ark: new X509Certificate(
    signCertificate({
      serial: 1,
      signer: rsaPssSigner(ark.privateKey),
      issuer: name("ARK-Forged"),
      subject: name("ARK-Forged"),
      ...validity,
      subjectPublicKeyInfo: spkiOfKey(ark.publicKey),
      extensions: [caBasicConstraintsExtension()],
    }),
  ),
  ask: new X509Certificate(
    signCertificate({
      serial: 2,
      signer: rsaPssSigner(ark.privateKey),
      issuer: name("ARK-Forged"),
      subject: name("SEV-Forged"),
      ...validity,
      subjectPublicKeyInfo: spkiOfKey(ask.publicKey),
      extensions: [caBasicConstraintsExtension()],
    }),
  ),
};

export interface ForgedKeyOptions {
  kind?: "vcek" | "vlek";
  productName?: string;
  tcb: TcbParts;
  hwId?: Uint8Array;
  cspId?: string;
}

export interface ForgedKey {
  der: Uint8Array;
  privateKey: KeyObject;
}

/** A VCEK or VLEK with exactly the AMD extensions asked for, signed by the forged ASK. */
export function forgeKey(o: ForgedKeyOptions): ForgedKey {
  const keys = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  const int = (oid: string, n: number) => ({ oid, value: derInteger(n) });
  const der = signCertificate({
    serial: 3,
    signer: rsaPssSigner(ask.privateKey),
    issuer: name("SEV-Forged"),
    subject: name(o.kind === "vlek" ? "SEV-VLEK" : "SEV-VCEK"),
    ...validity,
    subjectPublicKeyInfo: spkiOfKey(keys.publicKey),
    extensions: [
      int(AMD_OIDS.structVersion, 1),
      { oid: AMD_OIDS.productName, value: encodeDer(DerTag.IA5_STRING, utf8(o.productName ?? "Genoa")) },
      int(AMD_OIDS.blSPL, o.tcb.bootloader),
      int(AMD_OIDS.teeSPL, o.tcb.tee),
      int(AMD_OIDS.snpSPL, o.tcb.snp),
      int(AMD_OIDS.ucodeSPL, o.tcb.microcode),
      ...(o.tcb.fmc === undefined ? [] : [int(AMD_OIDS.fmcSPL, o.tcb.fmc)]),
      ...(o.hwId === undefined ? [] : [{ oid: AMD_OIDS.hwID, value: o.hwId }]),
      ...(o.cspId === undefined ? [] : [{ oid: AMD_OIDS.cspID, value: encodeDer(DerTag.IA5_STRING, utf8(o.cspId)) }]),
    ].map(encodeExtension),
  });
  return { der, privateKey: keys.privateKey };
}

/** TCB_VERSION bytes in the product's layout. */
export function tcbBytes(t: TcbParts, product: "Milan" | "Genoa" | "Turin" = "Genoa"): Uint8Array {
  return product === "Turin"
    ? new Uint8Array([t.fmc ?? 0, t.bootloader, t.tee, t.snp, 0, 0, 0, t.microcode])
    : new Uint8Array([t.bootloader, t.tee, 0, 0, 0, 0, t.snp, t.microcode]);
}

export interface ForgedReportFields {
  version?: number;
  signingKey?: "vcek" | "vlek";
  policy?: bigint;
  product?: "Milan" | "Genoa" | "Turin";
  cpuid?: [number, number, number];
  current: TcbParts;
  reported?: TcbParts;
  committed?: TcbParts;
  launch?: TcbParts;
  platformInfo?: bigint;
  chipId?: Uint8Array;
  /** [build, minor, major] */
  currentFirmware?: [number, number, number];
  committedFirmware?: [number, number, number];
  launchMitVector?: bigint;
  currentMitVector?: bigint;
  /** Last edits to the unsigned bytes, for what the fields above cannot say. */
  edit?: (raw: Uint8Array) => void;
}

const CPUID = { Milan: [0x19, 0x01, 0x01], Genoa: [0x19, 0x11, 0x01], Turin: [0x1a, 0x02, 0x00] } as const;

/** A report with these fields, signed by `key`. */
export function forgeReport(f: ForgedReportFields, key: ForgedKey): Uint8Array {
  const product = f.product ?? "Genoa";
  const b = new Uint8Array(SNP_REPORT_SIZE);
  const v = new DataView(b.buffer);
  const version = f.version ?? 3;
  v.setUint32(0x00, version, true);
  v.setBigUint64(0x08, f.policy ?? 0x30000n, true);
  v.setUint32(0x34, 1, true);
  b.set(tcbBytes(f.current, product), 0x38);
  v.setBigUint64(0x40, f.platformInfo ?? 1n, true);
  v.setUint32(0x48, (f.signingKey === "vlek" ? 1 : 0) << 2, true);
  b.set(tcbBytes(f.reported ?? f.current, product), 0x180);
  if (version >= 3) b.set(f.cpuid ?? CPUID[product], 0x188);
  if (f.chipId) b.set(f.chipId, 0x1a0);
  b.set(tcbBytes(f.committed ?? f.current, product), 0x1e0);
  b.set(f.currentFirmware ?? [40, 55, 1], 0x1e8);
  b.set(f.committedFirmware ?? f.currentFirmware ?? [40, 55, 1], 0x1ec);
  b.set(tcbBytes(f.launch ?? f.current, product), 0x1f0);
  if (version >= 5) {
    v.setBigUint64(0x1f8, f.launchMitVector ?? 0n, true);
    v.setBigUint64(0x200, f.currentMitVector ?? 0n, true);
  }
  f.edit?.(b);
  const sig = sign("sha384", b.subarray(0, SNP_SIGNED_SIZE), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  b.set(Uint8Array.from(sig.subarray(0, 48)).reverse(), 0x2a0);
  b.set(Uint8Array.from(sig.subarray(48, 96)).reverse(), 0x2e8);
  return b;
}
