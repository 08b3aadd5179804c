import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  CollateralStore,
  collateralFromDcapQvl,
  decodeTdxEvidence,
  directoryStorage,
  fetchTdxCollateral,
  judgeTdxQuote,
  parsePcsResponse,
  TCB_STATUSES,
  type TdxCollateral,
  tdxExpectations,
  type VerifiedTdxQuote,
  verifyTdxQuote,
} from "@contrast/attestation";
import { fixedClock, toHex } from "@contrast/core";
import type { Outcome } from "../../command-spec.js";
import { type Context, resolvePath } from "../../context.js";
import { readBounded } from "../../files.js";

import { httpFetcher, memoryStorage } from "./fetch.js";
import { type AttestationVerifyOptions, loadReferenceValues, MAX_EVIDENCE, readText, usage } from "./options.js";

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

/**
 * The collateral to verify against, chosen by the verifier, never by the evidence: a file or
 * directory (--collateral), else the store (--collateral-dir, --fetch-collateral), and only then
 * what an evidence document carries.
 */
async function chooseCollateral(
  ctx: Context,
  opts: AttestationVerifyOptions,
  verified: VerifiedTdxQuote,
  now: Date,
  carried: TdxCollateral | undefined,
): Promise<TdxCollateral | undefined> {
  if (opts.collateral !== undefined) return loadTdxCollateral(ctx, opts.collateral);
  if (opts.collateralDir === undefined && opts.fetchCollateral !== true) {
    if (opts.pcsUrl !== undefined) throw usage("--pcs-url needs --fetch-collateral", "Add --fetch-collateral.");
    return carried;
  }
  if (opts.pcsUrl !== undefined && !/^https?:\/\/[^/]+\/?$/.test(opts.pcsUrl)) {
    throw usage(`--pcs-url ${JSON.stringify(opts.pcsUrl)} is not an origin`, "Use e.g. https://pccs.example:8081.");
  }
  const store = new CollateralStore({
    // Freshness is judged at the verification time, so that --now and the cache agree.
    clock: fixedClock(now),
    storage:
      opts.collateralDir === undefined
        ? memoryStorage()
        : directoryStorage(resolvePath(ctx, opts.collateralDir, opts.collateralDir)),
    ...(opts.fetchCollateral === true ? { fetcher: httpFetcher } : {}),
    log: ctx.log,
  });
  return fetchTdxCollateral(store, verified, opts.pcsUrl === undefined ? {} : { origin: opts.pcsUrl });
}

export async function tdxVerify(
  ctx: Context,
  evidenceFile: string,
  opts: AttestationVerifyOptions,
  now: Date,
  reportData: Uint8Array | undefined,
  hostData: Uint8Array | undefined,
): Promise<Outcome> {
  const { out } = ctx;
  const input = await readBounded(resolvePath(ctx, evidenceFile, evidenceFile), MAX_EVIDENCE, "evidence");
  // A raw quote starts with its version (4 or 5, u16); a document with protobuf field 1 (0x0a).
  const doc = input[0] === 0x0a ? decodeTdxEvidence(input) : undefined;
  const quote = doc?.quote ?? input;
  const verified = verifyTdxQuote({ quote, now });
  const statuses = TCB_STATUSES;
  const accepted = (opts.acceptTcbStatus ?? "UpToDate").split(",").map((x) => {
    const found = statuses.find((st) => st.toLowerCase() === x.trim().toLowerCase());
    if (found === undefined)
      throw usage(`unknown TCB status ${JSON.stringify(x)}`, `Use a comma-separated list of ${statuses.join(", ")}.`);
    return found;
  });
  const collateral = await chooseCollateral(ctx, opts, verified, now, doc?.collateral);
  const entries =
    opts.referenceValues === undefined
      ? undefined
      : (await loadReferenceValues(ctx, opts.referenceValues, "tdx")).map((e) =>
          tdxExpectations(e, { reportData, hostData }),
        );
  // One rule for CLI and verifiers: reference values are judged only with complete collateral.
  const { pck, tcb, matched } = judgeTdxQuote(verified, {
    now,
    ...(collateral ? { collateral } : {}),
    ...(entries ? { entries } : {}),
    acceptedStatuses: accepted,
  });
  if (tcb === undefined) {
    out.warn(
      "no collateral (--collateral, --collateral-dir or --fetch-collateral): the platform's TCB status, QE identity and revocation were not checked",
      "CLI_COLLATERAL_MISSING",
    );
  } else if (!tcb.revocationChecked) {
    out.warn(
      "the collateral lacks the PCK CRL or the root CA CRL: revocation was not checked",
      "CLI_REVOCATION_UNCHECKED",
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
    ...(b.teeTcbSvn2 ? { teeTcbSvn2: toHex(b.teeTcbSvn2) } : {}),
    ...(b.mrServiceTd ? { mrServiceTd: toHex(b.mrServiceTd) } : {}),
    reportData: toHex(b.reportData),
    qeSvn: verified.quote.qeReport.isvSvn,
    pck: {
      fmspc: pck.fmspc,
      pceSvn: pck.pceSvn,
      sgxType: pck.sgxType,
      ...(pck.platformInstanceId ? { piid: toHex(pck.platformInstanceId) } : {}),
      notAfter: new Date(verified.pck.validTo).toISOString(),
    },
    ...(tcb
      ? {
          tcb: {
            status: tcb.status,
            platformStatus: tcb.platformStatus,
            moduleStatus: tcb.moduleStatus,
            currentStatus: tcb.currentStatus,
            qeStatus: tcb.qeStatus,
            revocationChecked: tcb.revocationChecked,
            advisoryIds: tcb.advisoryIds,
            tcbEvaluationDataNumber: tcb.tcbEvaluationDataNumber,
          },
        }
      : {}),
    ...(matched === undefined ? {} : { matchedReferenceValues: matched }),
  };
  if (out.json) return { ok: true, fields: { claims: result } };
  out.success(
    `TDX quote v${result.version} verified (PCK chain to Intel's root, QE report, attestation key, quote signature)`,
  );
  if (tcb)
    out.success(
      `TCB status ${tcb.status} (platform ${tcb.platformStatus}, module ${tcb.moduleStatus ?? "-"}, QE ${tcb.qeStatus}${tcb.currentStatus ? `, current module ${tcb.currentStatus}` : ""})`,
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
  return { ok: true, fields: { claims: result } };
}
