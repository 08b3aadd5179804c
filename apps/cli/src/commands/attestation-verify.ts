import { X509Certificate } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type AmdRoots,
  collateralFromDcapQvl,
  decodeGuestPolicy,
  PolicyError,
  parsePckExtension,
  parsePcsResponse,
  type SnpExpectations,
  type SnpProduct,
  TCB_STATUSES,
  type TdxCollateral,
  type TdxExpectations,
  type TdxTcbEvaluation,
  type VerifiedSnpReport,
  validateSnpReport,
  validateTdxQuote,
  verifySnpReport,
  verifyTdxCollateral,
  verifyTdxQuote,
} from "@contrast/attestation";
import { ContrastError, decodePem, fromHex, sha256Hex, toHex } from "@contrast/core";
import {
  parseManifest,
  type ReferenceValues,
  type SNPReferenceValues,
  type TDXReferenceValues,
} from "@contrast/manifest";
import { type Context, resolvePath } from "../context.js";
import { readBounded } from "../files.js";

export interface AttestationVerifyOptions {
  platform: "snp" | "sim" | "tdx";
  acceptTcbStatus?: string;
  crl?: string;
  vcek?: string;
  certChain?: string;
  collateral?: string;
  referenceValues?: string;
  reportData?: string;
  hostData?: string;
  product?: string;
  now?: string;
}

const MAX_EVIDENCE = 64 * 1024;
const MAX_CERT = 64 * 1024;

/** Exit status for genuine evidence that violates the reference values (1: broken evidence). */
export const EXIT_POLICY_MISMATCH = 2;

function usage(message: string, hint: string): ContrastError {
  return new ContrastError("CLI_USAGE", message, { hint });
}

function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(d.getTime())) {
    throw usage(`--now ${JSON.stringify(value)} is not an RFC 3339 time`, "Use a time such as 2025-06-01T00:00:00Z.");
  }
  return d;
}

function hexOption(name: string, value: string | undefined, bytes: number): Uint8Array | undefined {
  if (value === undefined) return undefined;
  try {
    return fromHex(value, bytes);
  } catch (e) {
    const err = ContrastError.from(e);
    throw usage(`${name}: ${err.message}`, `Pass ${bytes} bytes as ${bytes * 2} hex characters.`);
  }
}

async function collateralFile(
  ctx: Context,
  explicit: string | undefined,
  dir: string | undefined,
  names: string[],
): Promise<string | undefined> {
  if (explicit !== undefined) return resolvePath(ctx, explicit, explicit);
  if (dir === undefined) return undefined;
  for (const n of names) {
    const p = join(resolvePath(ctx, dir, dir), n);
    if (
      await stat(p).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return p;
  }
  return undefined;
}

/** Reference values from a manifest, or a bare ReferenceValues object, or an array of entries. */
async function loadReferenceValues<K extends "snp" | "sim" | "tdx">(
  ctx: Context,
  file: string,
  platform: K,
): Promise<ReferenceValues[K]> {
  const path = resolvePath(ctx, file, file);
  const bytes = await readBounded(path, 8 * 1024 * 1024, "reference values file");
  const text = Buffer.from(bytes).toString("utf8");
  const trimmed = text.trimStart();
  const wrapped = trimmed.startsWith("[")
    ? `{"ReferenceValues": {"${platform}": ${text}}}`
    : /"ReferenceValues"\s*:/.test(text)
      ? text
      : `{"ReferenceValues": ${text}}`;
  const result = parseManifest(wrapped, { source: path });
  const errors = result.issues.filter((i) => i.severity !== "warning");
  if (result.manifest === undefined || errors.length > 0) {
    const first = errors[0];
    throw new ContrastError(
      "REFERENCE_VALUES_INVALID",
      `${path}: ${errors.length} problem(s)${first ? `; first: ${first.path}: ${first.message}` : ""}`,
      {
        hint: "Run `contrast manifest validate` on the file; expected-missing values (bare-metal TCB) must be filled in to verify.",
        details: { issues: errors },
      },
    );
  }
  const entries = result.manifest.ReferenceValues[platform];
  if (entries.length === 0) {
    throw new ContrastError("REFERENCE_VALUES_INVALID", `${path} has no ${platform} reference values`, {
      hint:
        platform === "sim"
          ? "Simulated evidence is checked only against ReferenceValues.sim."
          : `Pass the manifest of a ${platform.toUpperCase()} platform.`,
    });
  }
  return entries;
}

function toExpectations(
  rv: SNPReferenceValues,
  reportData: Uint8Array | undefined,
  hostData: Uint8Array | undefined,
): SnpExpectations {
  const t = rv.MinimumTCB;
  const gp = rv.GuestPolicy;
  const policy = decodeGuestPolicy(0n);
  return {
    measurement: fromHex(rv.TrustedMeasurement, 48),
    minimumTcb: {
      bootloader: t.BootloaderVersion ?? 0,
      tee: t.TEEVersion ?? 0,
      snp: t.SNPVersion ?? 0,
      microcode: t.MicrocodeVersion ?? 0,
    },
    guestPolicy: {
      ...policy,
      abiMajor: gp.ABIMajor,
      abiMinor: gp.ABIMinor,
      smt: gp.SMT,
      migrateMa: gp.MigrateMA,
      debug: gp.Debug,
      singleSocket: gp.SingleSocket,
      cxlAllowed: gp.CXLAllowed,
      memAes256Xts: gp.MemAES256XTS,
      raplDis: gp.RAPLDis,
      ciphertextHidingDram: gp.CipherTextHidingDRAM,
      pageSwapDisable: gp.PageSwapDisable ?? false,
    },
    ...(rv.AllowedChipIDs && rv.AllowedChipIDs.length > 0
      ? { allowedChipIds: rv.AllowedChipIDs.map((id) => fromHex(id, 64)) }
      : {}),
    ...(reportData ? { reportData } : {}),
    ...(hostData ? { hostData } : {}),
  };
}

/** The chain file in KDS format: ASK (or ASVK) first, then ARK. */
function chainRoots(pem: string, path: string): AmdRoots {
  const certs = decodePem(pem).filter((b) => b.type === "CERTIFICATE");
  if (certs.length !== 2) {
    throw new ContrastError(
      "CERT_CHAIN_INVALID",
      `${path}: expected 2 certificates (ASK, then ARK), found ${certs.length}`,
      {
        hint: "Pass the cert_chain file in AMD's KDS format, or the simulated TEE's chain.",
      },
    );
  }
  return {
    ask: new X509Certificate(certs[0]?.der as Uint8Array),
    ark: new X509Certificate(certs[1]?.der as Uint8Array),
  };
}

function claims(v: VerifiedSnpReport, platform: string, matched: number | undefined) {
  const r = v.report;
  const policy = decodeGuestPolicy(r.policy);
  return {
    platform,
    product: v.product,
    signingKey: r.signingKey,
    version: r.version,
    measurement: toHex(r.measurement),
    hostData: toHex(r.hostData),
    reportData: toHex(r.reportData),
    chipId: toHex(r.chipId),
    vmpl: r.vmpl,
    guestPolicy: { value: `0x${r.policy.toString(16)}`, ...policy },
    tcb: { reported: v.reportedTcb, current: v.currentTcb, committed: v.committedTcb, launch: v.launchTcb },
    firmware: `${r.currentVersion.major}.${r.currentVersion.minor} build ${r.currentVersion.build}`,
    endorsementKey: {
      kind: v.endorsementKey.kind,
      productName: v.endorsementKey.productName,
      notAfter: new Date(v.endorsementKey.cert.validTo).toISOString(),
    },
    ...(matched === undefined ? {} : { matchedReferenceValues: matched }),
  };
}

export async function attestationVerify(
  ctx: Context,
  evidenceFile: string,
  opts: AttestationVerifyOptions,
): Promise<number> {
  const { out } = ctx;
  const now = parseNow(opts.now);
  const reportData = hexOption("--report-data", opts.reportData, 64);
  const hostData = hexOption("--host-data", opts.hostData, 32);
  if ((reportData !== undefined || hostData !== undefined) && opts.referenceValues === undefined) {
    throw usage(
      "--report-data and --host-data need --reference-values",
      "Pass the manifest whose reference values apply.",
    );
  }
  if (opts.platform === "tdx") return tdxVerify(ctx, evidenceFile, opts, now, reportData, hostData);
  const product =
    opts.product === undefined
      ? undefined
      : (["Milan", "Genoa", "Turin"].find((p) => p.toLowerCase() === opts.product?.toLowerCase()) as
          | SnpProduct
          | undefined);
  if (opts.product !== undefined && product === undefined)
    throw usage(`unknown --product ${opts.product}`, "Use Milan, Genoa or Turin.");

  const report = await readBounded(resolvePath(ctx, evidenceFile, evidenceFile), MAX_EVIDENCE, "report");
  const vcekPath = await collateralFile(ctx, opts.vcek, opts.collateral, [
    "vcek.der",
    "vcek.pem",
    "vlek.der",
    "vlek.pem",
  ]);
  if (vcekPath === undefined)
    throw usage("no VCEK or VLEK given", "Pass --vcek <file> or --collateral <dir> containing vcek.der.");
  const endorsementKey = await readBounded(vcekPath, MAX_CERT, "certificate");

  let roots: AmdRoots | undefined;
  const chainPath = await collateralFile(ctx, opts.certChain, opts.collateral, ["cert_chain.pem", "cert-chain.pem"]);
  if (opts.platform === "sim") {
    if (chainPath === undefined)
      throw usage("the simulated TEE needs its chain", "Pass --cert-chain with the simulated ASK and ARK.");
    roots = chainRoots(
      Buffer.from(await readBounded(chainPath, MAX_CERT * 2, "certificate chain")).toString("utf8"),
      chainPath,
    );
    out.warn(
      "verifying SIMULATED evidence: it proves nothing about confidentiality or integrity (development and tests only)",
    );
  } else if (chainPath !== undefined) {
    // AMD's chain is pinned; a chain given for hardware evidence must be AMD's own.
    ctx.log.info("ignoring --cert-chain for snp: AMD's roots are pinned", { path: chainPath });
  }

  const crlPath = await collateralFile(ctx, opts.crl, opts.collateral, ["crl.der"]);
  const crl = crlPath === undefined ? undefined : await readBounded(crlPath, 1024 * 1024, "CRL");
  if (crl === undefined) ctx.log.info("no CRL given: revocation of the ASK was not checked");
  const verified = verifySnpReport({
    ...(crl ? { crl } : {}),
    report,
    endorsementKey,
    now,
    ...(product ? { product } : {}),
    ...(roots ? { roots } : {}),
  });

  let matched: number | undefined;
  if (opts.referenceValues !== undefined) {
    if (opts.platform === "sim") {
      const entries = await loadReferenceValues(ctx, opts.referenceValues, "sim");
      // The manifest must name the simulated ARK explicitly; otherwise any self-made chain would do.
      const digest = sha256Hex(
        new Uint8Array((roots as AmdRoots).ark.publicKey.export({ type: "spki", format: "der" })),
      );
      const named = entries.filter((e) => e.ArkKeyDigest === digest);
      if (named.length === 0) {
        throw new PolicyError(
          "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED",
          `the simulated ARK (key digest ${digest}) is not named by the reference values`,
          {
            hint: "ReferenceValues.sim[].ArkKeyDigest must equal the digest of the chain's ARK key.",
            details: { arkKeyDigest: digest },
          },
        );
      }
      matched = entries.indexOf(
        named[
          validateSnpReport(
            verified,
            named.map((e) => toExpectations(e, reportData, hostData)),
          )
        ] as never,
      );
    } else {
      const entries = await loadReferenceValues(ctx, opts.referenceValues, "snp");
      matched = validateSnpReport(
        verified,
        entries.map((e) => toExpectations(e, reportData, hostData)),
      );
    }
  }

  const result = claims(verified, opts.platform, matched);
  if (out.json) {
    out.result({ ok: true, claims: result });
    return 0;
  }
  out.success(
    `${opts.platform === "sim" ? "SIMULATED " : ""}${verified.endorsementKey.kind.toUpperCase()}-signed report from a ${verified.product} verified (chain, signature, TCB and chip binding)`,
  );
  if (matched !== undefined) out.success(`matches reference values entry ${matched}`);
  else out.info("no --reference-values given: the evidence is genuine, but its contents were not judged");
  for (const [k, v] of Object.entries({
    measurement: result.measurement,
    "host data": result.hostData,
    "report data": result.reportData,
    "chip ID": result.chipId,
    VMPL: result.vmpl,
    "guest policy": `${result.guestPolicy.value} (debug ${result.guestPolicy.debug ? "ALLOWED" : "off"}, SMT ${result.guestPolicy.smt ? "allowed" : "off"}, migration agent ${result.guestPolicy.migrateMa ? "ALLOWED" : "off"})`,
    "reported TCB": JSON.stringify(result.tcb.reported),
    firmware: result.firmware,
  })) {
    out.info(`  ${k.padEnd(12)} ${v}`);
  }
  return 0;
}

async function readText(path: string, what: string): Promise<string> {
  return Buffer.from(await readBounded(path, 4 * 1024 * 1024, what)).toString("utf8");
}

/** Collateral from a dcap-qvl JSON file, or a directory of PCS responses. */
async function loadTdxCollateral(ctx: Context, location: string): Promise<TdxCollateral> {
  const path = resolvePath(ctx, location, location);
  const info = await stat(path);
  if (info.isFile()) return collateralFromDcapQvl(await readText(path, "collateral"));
  const file = (name: string) => join(path, name);
  const exists = (name: string) =>
    stat(file(name)).then(
      (s) => s.isFile(),
      () => false,
    );
  if (await exists("collateral.json"))
    return collateralFromDcapQvl(await readText(file("collateral.json"), "collateral"));
  const collateral: TdxCollateral = {
    tcbInfo: parsePcsResponse(await readText(file("tcb_info.json"), "TCB info"), "tcbInfo"),
    tcbInfoIssuerChain: await readText(file("tcb_info_issuer_chain.pem"), "issuer chain"),
  };
  if (await exists("qe_identity.json")) {
    collateral.qeIdentity = parsePcsResponse(
      await readText(file("qe_identity.json"), "QE identity"),
      "enclaveIdentity",
    );
    if (await exists("qe_identity_issuer_chain.pem"))
      collateral.qeIdentityIssuerChain = await readText(file("qe_identity_issuer_chain.pem"), "issuer chain");
  }
  if (await exists("pck_crl.der")) collateral.pckCrl = await readBounded(file("pck_crl.der"), 1024 * 1024, "CRL");
  if (await exists("root_crl.der")) collateral.rootCaCrl = await readBounded(file("root_crl.der"), 1024 * 1024, "CRL");
  return collateral;
}

function toTdxExpectations(
  rv: TDXReferenceValues,
  reportData: Uint8Array | undefined,
  hostData: Uint8Array | undefined,
): TdxExpectations {
  return {
    mrTd: fromHex(rv.MrTd, 48),
    rtmrs: [fromHex(rv.Rtrms[0], 48), fromHex(rv.Rtrms[1], 48), fromHex(rv.Rtrms[2], 48), fromHex(rv.Rtrms[3], 48)],
    mrSeam: fromHex(rv.MrSeam),
    xfam: fromHex(rv.Xfam, 8),
    tdAttributes: fromHex(rv.TdAttributes, 8),
    minimumQeSvn: rv.MinimumQeSvn ?? 0,
    minimumPceSvn: rv.MinimumPceSvn ?? 0,
    minimumTeeTcbSvn: fromHex(rv.MinimumTeeTcbSvn, 16),
    ...(reportData ? { reportData } : {}),
    ...(hostData ? { hostData } : {}),
  };
}

async function tdxVerify(
  ctx: Context,
  evidenceFile: string,
  opts: AttestationVerifyOptions,
  now: Date,
  reportData: Uint8Array | undefined,
  hostData: Uint8Array | undefined,
): Promise<number> {
  const { out } = ctx;
  const quote = await readBounded(resolvePath(ctx, evidenceFile, evidenceFile), 64 * 1024, "quote");
  const verified = verifyTdxQuote({ quote, now });
  let tcb: TdxTcbEvaluation | undefined;
  const statuses = TCB_STATUSES;
  const accepted = (opts.acceptTcbStatus ?? "UpToDate").split(",").map((x) => {
    const found = statuses.find((st) => st.toLowerCase() === x.trim().toLowerCase());
    if (found === undefined)
      throw usage(`unknown TCB status ${JSON.stringify(x)}`, `Use a comma-separated list of ${statuses.join(", ")}.`);
    return found;
  });
  if (opts.collateral !== undefined) {
    tcb = verifyTdxCollateral(verified, await loadTdxCollateral(ctx, opts.collateral), {
      now,
      acceptedStatuses: accepted,
    });
  } else out.warn("no --collateral: the platform's TCB status, QE identity and revocation were not checked");
  const pck = parsePckExtension(verified.pck);
  let matched: number | undefined;
  if (opts.referenceValues !== undefined) {
    const entries = await loadReferenceValues(ctx, opts.referenceValues, "tdx");
    matched = validateTdxQuote(
      verified,
      entries.map((e) => toTdxExpectations(e, reportData, hostData)),
      pck.pceSvn,
    );
  }
  const b = verified.quote.body;
  const result = {
    platform: "tdx",
    version: verified.quote.version,
    mrTd: toHex(b.mrTd),
    rtmrs: b.rtmrs.map(toHex),
    mrSeam: toHex(b.mrSeam),
    mrConfigId: toHex(b.mrConfigId),
    tdAttributes: toHex(b.tdAttributes),
    xfam: toHex(b.xfam),
    teeTcbSvn: toHex(b.teeTcbSvn),
    reportData: toHex(b.reportData),
    qeSvn: verified.quote.qeReport.isvSvn,
    pck: {
      fmspc: pck.fmspc,
      pceSvn: pck.pceSvn,
      sgxType: pck.sgxType,
      notAfter: new Date(verified.pck.validTo).toISOString(),
    },
    ...(tcb
      ? {
          tcb: {
            status: tcb.status,
            platformStatus: tcb.platformStatus,
            moduleStatus: tcb.moduleStatus,
            qeStatus: tcb.qeStatus,
            advisoryIds: tcb.advisoryIds,
            tcbEvaluationDataNumber: tcb.tcbEvaluationDataNumber,
          },
        }
      : {}),
    ...(matched === undefined ? {} : { matchedReferenceValues: matched }),
  };
  if (out.json) {
    out.result({ ok: true, claims: result });
    return 0;
  }
  out.success(
    `TDX quote v${result.version} verified (PCK chain to Intel's root, QE report, attestation key, quote signature)`,
  );
  if (tcb)
    out.success(
      `TCB status ${tcb.status} (platform ${tcb.platformStatus}, module ${tcb.moduleStatus ?? "-"}, QE ${tcb.qeStatus ?? "-"})`,
    );
  if (matched !== undefined) out.success(`matches reference values entry ${matched}`);
  else out.info("no --reference-values given: the quote is genuine, but its contents were not judged");
  for (const [k, v] of Object.entries({
    MRTD: result.mrTd,
    MRSEAM: result.mrSeam,
    RTMR0: result.rtmrs[0],
    MRCONFIGID: result.mrConfigId,
    TDATTRIBUTES: result.tdAttributes,
    XFAM: result.xfam,
    REPORTDATA: result.reportData,
    FMSPC: pck.fmspc,
  })) {
    out.info(`  ${k.padEnd(12)} ${v}`);
  }
  return 0;
}
