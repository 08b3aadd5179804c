import { generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from "node:crypto";
import { type Clock, DerTag, encodeDer, utf8 } from "@contrast/core";
import {
  type CertificateExtension,
  caBasicConstraintsExtension,
  derInteger,
  encodeExtension,
  encodeName,
  NAME,
  rsaPssSigner,
  signCertificate,
  signCrl,
  spkiOfKey,
} from "@contrast/x509";
import { EvidenceError } from "../errors.js";
import { simArkKeyDigest } from "../expectations/sim.js";
import { AMD_OIDS } from "../snp/endorsement.js";
import { contrastIdBlock } from "../snp/id-block.js";
import { SNP_REPORT_SIZE, SNP_SIGNED_SIZE } from "../snp/report.js";
import type { AmdRoots } from "../snp/verify.js";

/**
 * The simulated TEE: an ARK -> ASK -> VCEK chain made here, and SEV-SNP reports in the real
 * format signed by that VCEK. Verification goes through exactly the code that verifies AMD
 * evidence; only the trust anchor differs, and every name in the chain says INSECURE.
 * It proves nothing about confidentiality: it exists for development, tests and demos.
 */
export interface SimulatedAuthority {
  /** The trust anchor to verify against (never AMD's roots). */
  readonly roots: AmdRoots;
  /** SHA-256 of the ARK's PKIX public key: the manifest's ReferenceValues.sim[].ArkKeyDigest. */
  readonly arkKeyDigest: string;
  /** The VCEK certificate (DER), as a host would serve it. */
  readonly vcek: Uint8Array;
  readonly chipId: Uint8Array;
  readonly tcb: SimTcb;
  /** Produces a signed report, as a guest's firmware would. */
  report(request: SimReportRequest): Uint8Array;
  /** A CRL signed by the simulated ARK, as AMD's KDS serves one; `revokeAsk` lists the ASK. */
  crl(options: { now: Date; revokeAsk?: boolean }): Uint8Array;
}

export interface SimTcb {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

export interface SimReportRequest {
  /** 64 bytes chosen by the guest, e.g. the aTLS binding. */
  reportData: Uint8Array;
  /** 48-byte launch measurement, given by whoever launches the "VM". */
  measurement: Uint8Array;
  /** 32 bytes given by whoever launches the "VM" (Contrast: the policy hash). */
  hostData: Uint8Array;
  /** Guest policy; default 0x30000 (SMT allowed, no debug, no migration agent). */
  policy?: bigint;
  vmpl?: number;
  /**
   * Launch with Contrast's deterministic ID block (the default), so that ID_KEY_DIGEST, GUEST_SVN
   * and the ID fields are what a Contrast runtime produces; "none" launches without one.
   */
  idBlock?: "contrast" | "none";
}

export interface CreateSimulatedAuthorityOptions {
  readonly clock: Clock;
  /** Randomness for the chip ID and report IDs. */
  readonly random?: (size: number) => Uint8Array;
  /** RSA modulus of ARK and ASK; AMD uses 4096. Smaller keys make tests faster. */
  readonly rsaModulusLength?: number;
  readonly tcb?: SimTcb;
}

const INSECURE = "Contrast simulated TEE (INSECURE, not AMD)";
// UTF8String names, as AMD writes them.
const name = (cn: string) =>
  encodeName(
    [
      [NAME.organizationalUnit, INSECURE],
      [NAME.organization, INSECURE],
      [NAME.commonName, cn],
    ],
    "utf8",
  );

function amdExtensions(tcb: SimTcb, chipId: Uint8Array): Uint8Array[] {
  const int = (oid: string, n: number): CertificateExtension => ({ oid, value: derInteger(n) });
  return [
    int(AMD_OIDS.structVersion, 0),
    { oid: AMD_OIDS.productName, value: encodeDer(DerTag.IA5_STRING, utf8("Genoa")) },
    int(AMD_OIDS.blSPL, tcb.bootloader),
    int(AMD_OIDS.teeSPL, tcb.tee),
    int(AMD_OIDS.snpSPL, tcb.snp),
    int(AMD_OIDS.spl4, 0),
    int(AMD_OIDS.spl5, 0),
    int(AMD_OIDS.spl6, 0),
    int(AMD_OIDS.spl7, 0),
    int(AMD_OIDS.ucodeSPL, tcb.microcode),
    { oid: AMD_OIDS.hwID, value: chipId }, // raw, as AMD's KDS writes it
  ].map(encodeExtension);
}

/** Creates the simulated "hardware": keys, chain and chip identity. */
export function createSimulatedAuthority(options: CreateSimulatedAuthorityOptions): SimulatedAuthority {
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const tcb = options.tcb ?? { bootloader: 10, tee: 0, snp: 23, microcode: 84 };
  const modulusLength = options.rsaModulusLength ?? 4096;
  const now = options.clock.now();
  // Valid from a day before creation, for clock skew, for 25 years as AMD's roots are.
  const notBefore = new Date(now.getTime() - 86_400_000);
  const notAfter = new Date(now.getTime() + 25 * 365 * 86_400_000);

  const ark = generateKeyPairSync("rsa", { modulusLength });
  const ask = generateKeyPairSync("rsa", { modulusLength });
  const vcekKeys = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  const chipId = random(64);

  // RSASSA-PSS with SHA-384 and salt 48, as AMD signs, so the chain is checked by AMD's code path.
  const arkSigner = rsaPssSigner(ark.privateKey);
  const arkCert = signCertificate({
    serial: 0x10000,
    signer: arkSigner,
    issuer: name("ARK-Genoa"),
    subject: name("ARK-Genoa"),
    notBefore,
    notAfter,
    subjectPublicKeyInfo: spkiOfKey(ark.publicKey),
    extensions: [caBasicConstraintsExtension()],
  });
  const askCert = signCertificate({
    serial: 0x10001,
    signer: arkSigner,
    issuer: name("ARK-Genoa"),
    subject: name("SEV-Genoa"),
    notBefore,
    notAfter,
    subjectPublicKeyInfo: spkiOfKey(ask.publicKey),
    extensions: [caBasicConstraintsExtension()],
  });
  const vcek = signCertificate({
    serial: 0,
    signer: rsaPssSigner(ask.privateKey),
    issuer: name("SEV-Genoa"),
    subject: name("SEV-VCEK"),
    notBefore,
    notAfter: new Date(now.getTime() + 7 * 365 * 86_400_000),
    subjectPublicKeyInfo: spkiOfKey(vcekKeys.publicKey),
    extensions: amdExtensions(tcb, chipId),
  });

  return assembleAuthority(
    {
      arkKey: ark.privateKey,
      askKey: ask.privateKey,
      vcekKey: vcekKeys.privateKey,
      ark: arkCert,
      ask: askCert,
      vcek,
      chipId,
      tcb,
    },
    random,
  );
}

/** Everything a simulated authority is made of: what saving and loading it carries. */
export interface SimAuthorityParts {
  readonly arkKey: KeyObject;
  readonly askKey: KeyObject;
  readonly vcekKey: KeyObject;
  readonly ark: Uint8Array;
  readonly ask: Uint8Array;
  readonly vcek: Uint8Array;
  readonly chipId: Uint8Array;
  readonly tcb: SimTcb;
}

// The private parts stay out of the public object, so that printing or serialising an authority
// never leaks its keys; only encodeSimulatedAuthority reads them, deliberately.
const PARTS = new WeakMap<SimulatedAuthority, SimAuthorityParts>();

/** The parts of an authority made by this module (for saving it). */
export function simAuthorityParts(authority: SimulatedAuthority): SimAuthorityParts | undefined {
  return PARTS.get(authority);
}

export function assembleAuthority(parts: SimAuthorityParts, random: (n: number) => Uint8Array): SimulatedAuthority {
  const roots: AmdRoots = { ark: new X509Certificate(parts.ark), ask: new X509Certificate(parts.ask) };
  const arkSigner = rsaPssSigner(parts.arkKey);
  const { chipId, tcb } = parts;
  const authority: SimulatedAuthority = {
    roots,
    arkKeyDigest: simArkKeyDigest(roots.ark.publicKey),
    vcek: parts.vcek,
    chipId,
    tcb,
    report: (request) => buildReport(request, { key: parts.vcekKey, chipId, tcb, random }),
    crl: ({ now: at, revokeAsk }) =>
      signCrl({
        signer: arkSigner,
        issuer: name("ARK-Genoa"),
        thisUpdate: new Date(at.getTime() - 3_600_000),
        nextUpdate: new Date(at.getTime() + 7 * 86_400_000),
        revoked: revokeAsk ? [{ serial: 0x10001, date: at }] : [],
      }),
  };
  PARTS.set(authority, parts);
  return authority;
}

function checkLength(what: string, value: Uint8Array, size: number): void {
  if (value.length !== size) {
    throw new EvidenceError("SIM_REPORT_REQUEST_INVALID", `${what} must be ${size} bytes, got ${value.length}`, {
      kind: "input",
      hint: "Pass report data (64 bytes), measurement (48) and host data (32) at their full sizes.",
    });
  }
}

// Recovering the ID key is pure big-integer arithmetic (~15 ms); a "VM" keeps its measurement
// and policy, so each pair is computed once (bounded, for callers that vary them).
const idBlocks = new Map<string, ReturnType<typeof contrastIdBlock>>();
function idBlockFor(measurement: Uint8Array, policy: bigint): ReturnType<typeof contrastIdBlock> {
  const id = `${Buffer.from(measurement).toString("hex")}:${policy.toString(16)}`;
  let block = idBlocks.get(id);
  if (block === undefined) {
    block = contrastIdBlock({ launchDigest: measurement, policy });
    if (idBlocks.size >= 64) idBlocks.delete(idBlocks.keys().next().value as string);
    idBlocks.set(id, block);
  }
  return block;
}

function buildReport(
  request: SimReportRequest,
  ctx: { key: KeyObject; chipId: Uint8Array; tcb: SimTcb; random: (n: number) => Uint8Array },
): Uint8Array {
  checkLength("report data", request.reportData, 64);
  checkLength("measurement", request.measurement, 48);
  checkLength("host data", request.hostData, 32);
  const policy = (request.policy ?? 0x30000n) | (1n << 17n);
  const b = new Uint8Array(SNP_REPORT_SIZE);
  const v = new DataView(b.buffer);
  if ((request.idBlock ?? "contrast") === "contrast") {
    // The firmware copies these from the ID block it was launched with.
    const id = idBlockFor(request.measurement, policy);
    v.setUint32(0x04, 2, true); // GUEST_SVN
    b.set(id.idKeyDigest, 0xe0);
  }
  const tcbBytes = new Uint8Array([ctx.tcb.bootloader, ctx.tcb.tee, 0, 0, 0, 0, ctx.tcb.snp, ctx.tcb.microcode]);
  v.setUint32(0x00, 3, true); // version
  v.setBigUint64(0x08, policy, true);
  v.setUint32(0x30, request.vmpl ?? 0, true);
  v.setUint32(0x34, 1, true); // ECDSA P-384 with SHA-384
  b.set(tcbBytes, 0x38); // current
  v.setBigUint64(0x40, 1n, true); // platform info: SMT enabled
  b.set(request.reportData, 0x50);
  b.set(request.measurement, 0x90);
  b.set(request.hostData, 0xc0);
  b.set(ctx.random(32), 0x140); // report ID
  b.fill(0xff, 0x160, 0x180); // no migration agent
  b.set(tcbBytes, 0x180); // reported
  b.set([0x19, 0x11, 0x01], 0x188); // CPUID: family 19h, model 11h (Genoa), stepping 1
  b.set(ctx.chipId, 0x1a0);
  b.set(tcbBytes, 0x1e0); // committed
  b.set([40, 55, 1], 0x1e8); // firmware 1.55 build 40
  b.set([40, 55, 1], 0x1ec);
  b.set(tcbBytes, 0x1f0); // launch
  const sig = sign("sha384", b.subarray(0, SNP_SIGNED_SIZE), { key: ctx.key, dsaEncoding: "ieee-p1363" });
  b.set(Uint8Array.from(sig.subarray(0, 48)).reverse(), 0x2a0);
  b.set(Uint8Array.from(sig.subarray(48, 96)).reverse(), 0x2e8);
  return b;
}
