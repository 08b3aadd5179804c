import { X509Certificate } from "node:crypto";
import { type Crl, parseCrl, serialHex } from "@contrast/x509";
import { verifyCrl } from "../crl.js";
import { AttestationPolicyError, EvidenceError } from "../errors.js";
import {
  missingTdxCollateral,
  type SignedCollateral,
  type TdxCollateral,
  tdxCollateralSources,
} from "./collateral-documents.js";
import { num } from "./collateral-fields.js";
import { INTEL_SGX_ROOT_CA } from "./intel-root.js";
import { evaluateQe } from "./qe-identity.js";
import { verifySignedCollateral } from "./signed-collateral.js";
import { evaluateTdxTcb, type TdxTcbEvaluation } from "./tcb-evaluation.js";
import { converge, type TcbStatus } from "./tcb-status.js";
import type { VerifiedTdxQuote } from "./verify.js";

export interface VerifyTdxCollateralOptions {
  now: Date;
  root?: X509Certificate;
  /** Statuses accepted; default only UpToDate, as Contrast. */
  acceptedStatuses?: readonly TcbStatus[];
  /** Reject collateral (TCB info or QE identity) older than this evaluation data number. */
  minTcbEvaluationDataNumber?: number;
  /**
   * "required" (default): both CRLs must be given. "if-present": check those given, for looking at
   * a quote without judging it (the result says `revocationChecked: false`).
   */
  revocation?: "required" | "if-present";
}

/**
 * Checks a verified quote against Intel's collateral: signatures and freshness of TCB info and QE
 * identity (both required), the PCK CRL and root CA CRL (required unless `revocation` is
 * "if-present"): PCK, PCK CA and TCB Signing certificate not revoked; FMSPC/PCE-ID; the QE
 * identity; the TCB level (for TD 1.5 quotes, of TEE_TCB_SVN and TEE_TCB_SVN_2). Returns the
 * evaluation; throws an AttestationPolicyError if the status is not accepted.
 */
export function verifyTdxCollateral(
  verified: VerifiedTdxQuote,
  collateral: TdxCollateral,
  options: VerifyTdxCollateralOptions,
): TdxTcbEvaluation {
  const root = options.root ?? new X509Certificate(INTEL_SGX_ROOT_CA);
  const { now } = options;
  const requireRevocation = (options.revocation ?? "required") === "required";
  const missing = missingTdxCollateral(collateral, requireRevocation);
  if (missing.length > 0) {
    // Without the QE identity, nothing says the quoting enclave is Intel's; without the CRLs,
    // a revoked platform passes. Whoever assembled the collateral must not decide that.
    throw new EvidenceError("TDX_COLLATERAL_INCOMPLETE", `the TDX collateral lacks: ${missing.join(", ")}`, {
      kind: "input",
      hint: `Fetch the missing parts from Intel's PCS (or a PCCS mirror): ${tdxCollateralSources(missing)}.`,
      details: { missing },
    });
  }

  let rootCrl: Crl | undefined;
  if (collateral.rootCaCrl !== undefined) {
    rootCrl = parseCrl(collateral.rootCaCrl);
    verifyCrl(rootCrl, root, now, "Intel root CA CRL");
    if (rootCrl.revoked.has(serialHex(verified.pckIntermediate.serialNumber))) {
      throw new EvidenceError("TDX_PCK_REVOKED", "the PCK CA certificate is revoked", {
        hint: "The platform's certificates were revoked by Intel.",
      });
    }
  }
  if (collateral.pckCrl !== undefined) {
    const crl = parseCrl(collateral.pckCrl);
    verifyCrl(crl, verified.pckIntermediate, now, "PCK CRL");
    if (crl.revoked.has(serialHex(verified.pck.serialNumber))) {
      throw new EvidenceError(
        "TDX_PCK_REVOKED",
        `the PCK certificate (serial ${verified.pck.serialNumber.toLowerCase()}) is revoked`,
        {
          hint: "The platform's certificates were revoked by Intel.",
        },
      );
    }
  }
  const tcbInfo = verifySignedCollateral(
    collateral.tcbInfo,
    collateral.tcbInfoIssuerChain,
    root,
    rootCrl,
    now,
    "TCB info",
  );
  const qeIdentity = verifySignedCollateral(
    collateral.qeIdentity as SignedCollateral,
    collateral.qeIdentityIssuerChain ?? collateral.tcbInfoIssuerChain,
    root,
    rootCrl,
    now,
    "QE identity",
  );

  const evaluation = evaluateTdxTcb(verified, tcbInfo);
  const qeStatus = evaluateQe(verified.quote, qeIdentity);
  // Intel's QVL reports the lower of the two documents' numbers as the collateral's.
  const tcbEvaluationDataNumber = Math.min(
    num(tcbInfo.tcbEvaluationDataNumber, "tcbEvaluationDataNumber"),
    num(qeIdentity.tcbEvaluationDataNumber, "QE identity tcbEvaluationDataNumber"),
  );
  if (
    options.minTcbEvaluationDataNumber !== undefined &&
    tcbEvaluationDataNumber < options.minTcbEvaluationDataNumber
  ) {
    throw new AttestationPolicyError(
      "TDX_TCB_EVALUATION_TOO_OLD",
      `the collateral has TCB evaluation data number ${tcbEvaluationDataNumber}, below the required ${options.minTcbEvaluationDataNumber}`,
      { hint: "Fetch current TCB info and QE identity from Intel's PCS." },
    );
  }
  const result: TdxTcbEvaluation = {
    ...evaluation,
    status: converge(evaluation.status, qeStatus),
    qeStatus,
    revocationChecked: collateral.pckCrl !== undefined && collateral.rootCaCrl !== undefined,
    tcbEvaluationDataNumber,
  };
  const accepted = options.acceptedStatuses ?? ["UpToDate"];
  if (!accepted.includes(result.status)) {
    throw new AttestationPolicyError(
      "TDX_TCB_STATUS_NOT_ACCEPTED",
      `the platform's TCB status is ${result.status} (accepted: ${accepted.join(", ")})`,
      {
        hint: "Update the platform's firmware, or accept this status explicitly.",
        details: {
          status: result.status,
          platformStatus: result.platformStatus,
          moduleStatus: result.moduleStatus,
          currentStatus: result.currentStatus,
          qeStatus,
          advisoryIds: result.advisoryIds,
        },
      },
    );
  }
  return result;
}
