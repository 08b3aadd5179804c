import type { X509Certificate } from "node:crypto";
import { EvidenceError } from "../errors.js";
import { missingTdxCollateral, type TdxCollateral, tdxCollateralSources } from "./collateral-documents.js";
import { type PckExtension, parsePckExtension } from "./pck.js";
import type { TdxTcbEvaluation } from "./tcb-evaluation.js";
import type { TcbStatus } from "./tcb-status.js";
import { type TdxExpectations, validateTdxQuote } from "./validate.js";
import type { VerifiedTdxQuote } from "./verify.js";
import { verifyTdxCollateral } from "./verify-collateral.js";

export interface JudgeTdxQuoteOptions {
  now: Date;
  /** Intel's collateral, from a file, a store or the evidence document: verified the same way. */
  collateral?: TdxCollateral;
  /** Reference-value entries; leave out to look at a quote without judging it. */
  entries?: readonly TdxExpectations[];
  acceptedStatuses?: readonly TcbStatus[];
  root?: X509Certificate;
}

export interface TdxJudgement {
  pck: PckExtension;
  /** Undefined only when no collateral was given and no entries were to be judged. */
  tcb: TdxTcbEvaluation | undefined;
  /** Index of the matching entry; undefined when no entries were given. */
  matched: number | undefined;
}

/**
 * The one rule for what a verified quote needs before it is trusted, shared by the CLI and the
 * verifiers: judging it against reference values needs complete collateral (TCB info, QE identity,
 * PCK CRL, root CA CRL), as upstream's verifier does with go-tdx-guest (GetCollateral and
 * CheckRevocations). Only when nothing is judged may collateral be missing or partial (its CRLs
 * are then checked if present); the result says what was checked.
 */
export function judgeTdxQuote(verified: VerifiedTdxQuote, options: JudgeTdxQuoteOptions): TdxJudgement {
  const judging = options.entries !== undefined;
  if (judging && options.collateral === undefined) {
    throw new EvidenceError(
      "TDX_COLLATERAL_REQUIRED",
      "judging a TDX quote against reference values needs Intel's collateral, and none was given",
      {
        kind: "input",
        hint: `Pass --collateral (a dcap-qvl JSON file or a directory of PCS responses), or --collateral-dir with --fetch-collateral to fetch it: ${tdxCollateralSources()}.`,
        details: { missing: missingTdxCollateral(undefined) },
      },
    );
  }
  const tcb =
    options.collateral === undefined
      ? undefined
      : verifyTdxCollateral(verified, options.collateral, {
          now: options.now,
          ...(options.root ? { root: options.root } : {}),
          ...(options.acceptedStatuses ? { acceptedStatuses: options.acceptedStatuses } : {}),
          revocation: judging ? "required" : "if-present",
        });
  const pck = tcb?.pck ?? parsePckExtension(verified.pck);
  const matched =
    options.entries === undefined ? undefined : validateTdxQuote(verified, options.entries, pck.pceSvn, tcb);
  return { pck, tcb, matched };
}
