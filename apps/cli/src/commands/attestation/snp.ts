import { X509Certificate } from "node:crypto";
import {
  type AmdRoots,
  decodeGuestPolicy,
  decodePlatformInfo,
  decodeSnpEvidence,
  EvidenceError,
  kdsCrlUrl,
  parseSnpReport,
  type SnpProduct,
  simEntriesNaming,
  snpExpectations,
  type VerifiedSnpReport,
  validateSnpReport,
  verifySnpReport,
} from "@contrast/attestation";
import { ContrastError, decodePem, toHex } from "@contrast/core";
import type { Outcome } from "../../command-spec.js";
import { type Context, resolvePath } from "../../context.js";
import { readBounded } from "../../files.js";

import {
  type AttestationVerifyOptions,
  collateralFile,
  loadReferenceValues,
  MAX_CERT,
  MAX_EVIDENCE,
  usage,
} from "./options.js";

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
    platformInfo: { value: `0x${r.platformInfo.toString(16)}`, ...decodePlatformInfo(r.platformInfo) },
    ...(r.launchMitVector === undefined
      ? {}
      : {
          mitigationVectors: {
            launch: `0x${r.launchMitVector.toString(16)}`,
            current: `0x${(r.currentMitVector ?? 0n).toString(16)}`,
          },
        }),
    firmware: `${r.currentVersion.major}.${r.currentVersion.minor} build ${r.currentVersion.build}`,
    endorsementKey: {
      kind: v.endorsementKey.kind,
      productName: v.endorsementKey.productName,
      notAfter: new Date(v.endorsementKey.cert.validTo).toISOString(),
    },
    ...(matched === undefined ? {} : { matchedReferenceValues: matched }),
  };
}

/** SEV-SNP and simulated evidence: chain, signature, bindings, optionally reference values. */
export async function snpVerify(
  ctx: Context,
  evidenceFile: string,
  opts: AttestationVerifyOptions,
  now: Date,
  reportData: Uint8Array | undefined,
  hostData: Uint8Array | undefined,
): Promise<Outcome> {
  const { out } = ctx;
  const product =
    opts.product === undefined
      ? undefined
      : (["Milan", "Genoa", "Turin"].find((p) => p.toLowerCase() === opts.product?.toLowerCase()) as
          | SnpProduct
          | undefined);
  if (opts.product !== undefined && product === undefined)
    throw usage(`unknown --product ${opts.product}`, "Use Milan, Genoa or Turin.");

  const input = await readBounded(resolvePath(ctx, evidenceFile, evidenceFile), MAX_EVIDENCE, "evidence");
  // A raw report starts with its version (2 to 5); a document with protobuf field 1 (0x0a).
  const doc = input[0] === 0x0a ? decodeSnpEvidence(input) : undefined;
  const report = doc?.report ?? input;
  const vcekPath = await collateralFile(ctx, opts.vcek, opts.collateral, [
    "vcek.der",
    "vcek.pem",
    "vlek.der",
    "vlek.pem",
  ]);
  // A document may carry both keys; the report says which one signed it (SIGNER_INFO), as
  // go-sev-guest's validateKeyKind reads it.
  const signer = doc === undefined ? undefined : parseSnpReport(doc.report).signingKey;
  const endorsementKey =
    vcekPath === undefined
      ? signer === "vlek"
        ? doc?.vlek
        : (doc?.vcek ?? doc?.vlek)
      : await readBounded(vcekPath, MAX_CERT, "certificate");
  if (endorsementKey === undefined)
    throw usage(
      "no VCEK or VLEK given",
      "Pass --vcek <file> or --collateral <dir> containing vcek.der, or an evidence document that carries it.",
    );

  let roots: AmdRoots | undefined;
  const chainPath = await collateralFile(ctx, opts.certChain, opts.collateral, ["cert_chain.pem", "cert-chain.pem"]);
  if (opts.platform === "sim") {
    if (chainPath !== undefined) {
      roots = chainRoots(
        Buffer.from(await readBounded(chainPath, MAX_CERT * 2, "certificate chain")).toString("utf8"),
        chainPath,
      );
    } else if (doc?.ask !== undefined && doc.ark !== undefined) {
      // Trust still comes only from the reference values, which must name this ARK.
      roots = { ask: new X509Certificate(doc.ask), ark: new X509Certificate(doc.ark) };
    } else {
      throw usage(
        "the simulated TEE needs its chain",
        "Pass --cert-chain with the simulated ASK and ARK, or an evidence document that carries them.",
      );
    }
    out.warn(
      "verifying SIMULATED evidence: it proves nothing about confidentiality or integrity (development and tests only)",
      "CLI_EVIDENCE_SIMULATED",
    );
    if (opts.referenceValues === undefined) {
      // Anyone can make a chain that verifies; only the manifest's ArkKeyDigest makes one trusted.
      throw new EvidenceError(
        "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED",
        "simulated evidence cannot be trusted without reference values that name its ARK",
        {
          hint: "Pass --reference-values with the manifest whose ReferenceValues.sim[].ArkKeyDigest names the simulated ARK.",
        },
      );
    }
  } else if (chainPath !== undefined) {
    // AMD's chain is pinned; a chain given for hardware evidence must be AMD's own.
    ctx.log.info("ignoring --cert-chain for snp: AMD's roots are pinned", { path: chainPath });
  }

  const crlPath = await collateralFile(ctx, opts.crl, opts.collateral, ["crl.der"]);
  const crl = crlPath === undefined ? doc?.crl : await readBounded(crlPath, 1024 * 1024, "CRL");
  const verified = verifySnpReport({
    ...(crl ? { crl } : {}),
    report,
    endorsementKey,
    now,
    ...(product ? { product } : {}),
    ...(roots ? { roots } : {}),
  });

  if (crl === undefined && opts.platform === "snp") {
    // Judging hardware evidence means trusting its keys; upstream checks AMD's CRL for that.
    const url = kdsCrlUrl(verified.product, verified.endorsementKey.kind);
    if (opts.referenceValues !== undefined && opts.allowMissingCrl !== true) {
      throw new EvidenceError("SNP_CRL_REQUIRED", "judging reference values needs AMD's CRL, and none was given", {
        kind: "input",
        hint: `Fetch ${url} and pass it with --crl (or put it into the evidence document), or accept unchecked revocation with --allow-missing-crl.`,
        details: { url },
      });
    }
    out.warn(
      `no CRL given: revocation of the ASK and the key was not checked (AMD's CRL: ${url})`,
      "CLI_REVOCATION_UNCHECKED",
      {
        crlUrl: url,
      },
    );
  }

  let matched: number | undefined;
  const idBlock = opts.skipIdBlock !== true;
  if (opts.referenceValues !== undefined) {
    if (opts.platform === "sim") {
      const entries = await loadReferenceValues(ctx, opts.referenceValues, "sim");
      // The manifest must name the simulated ARK explicitly; otherwise any self-made chain would do.
      const named = simEntriesNaming((roots as AmdRoots).ark.publicKey, entries);
      matched = entries.indexOf(
        named[
          validateSnpReport(
            verified,
            named.map((e) => snpExpectations(e, { reportData, hostData, idBlock })),
          )
        ] as never,
      );
    } else {
      const entries = await loadReferenceValues(ctx, opts.referenceValues, "snp");
      matched = validateSnpReport(
        verified,
        entries.map((e) => snpExpectations(e, { reportData, hostData, idBlock })),
      );
    }
  }

  const result = claims(verified, opts.platform, matched);
  if (out.json) return { ok: true, fields: { claims: result } };
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
  return { ok: true, fields: { claims: result } };
}
