import { bytesEqual, type JsonObject, type JsonValue, toHex } from "@contrast/core";
import { AttestationPolicyError, EvidenceError } from "../errors.js";
import { arr, collateralError, hexField, num, obj, status } from "./collateral-fields.js";
import { type PckExtension, parsePckExtension } from "./pck.js";
import type { TdxQuote } from "./quote.js";
import { converge, type TcbStatus, worse } from "./tcb-status.js";
import type { VerifiedTdxQuote } from "./verify.js";

export interface TdxTcbEvaluation {
  /** Intel's final status (QVL semantics): platform TDX level, converged with module and QE. */
  status: TcbStatus;
  /** Index into tcbInfo.tcbLevels of the TDX level. */
  tcbLevel: number;
  platformStatus: TcbStatus;
  moduleStatus: TcbStatus | undefined;
  /** TD 1.5 quotes: the status of TEE_TCB_SVN_2 (the module now running); already in `status`. */
  currentStatus: TcbStatus | undefined;
  qeStatus: TcbStatus;
  /** Whether the PCK CRL and root CA CRL were checked (always, unless `revocation: "if-present"`). */
  revocationChecked: boolean;
  advisoryIds: string[];
  tcbEvaluationDataNumber: number;
  pck: PckExtension;
}

function svns(v: JsonValue | undefined, what: string): number[] {
  return arr(v, what).map((c) => num(obj(c, what).svn, `${what} svn`));
}

/**
 * Intel's TCB level evaluation for a TDX quote (QVL TcbLevelCheck / TdxModuleCheck), returning
 * the platform level, the TDX module's status and their convergence.
 */
export function evaluateTdxTcb(
  verified: VerifiedTdxQuote,
  tcbInfo: JsonObject,
): Omit<TdxTcbEvaluation, "qeStatus" | "tcbEvaluationDataNumber" | "revocationChecked"> {
  const { quote } = verified;
  const body = quote.body;
  const pck = parsePckExtension(verified.pck);
  if (tcbInfo.id !== "TDX" || tcbInfo.version !== 3) throw collateralError("TCB info must be TDX version 3");
  if (typeof tcbInfo.fmspc !== "string" || tcbInfo.fmspc.toLowerCase() !== pck.fmspc) {
    throw new EvidenceError(
      "TDX_FMSPC_MISMATCH",
      `TCB info is for FMSPC ${String(tcbInfo.fmspc)}, the PCK certificate says ${pck.fmspc}`,
      {
        hint: "Fetch the TCB info for the platform's FMSPC.",
      },
    );
  }
  if (typeof tcbInfo.pceId !== "string" || tcbInfo.pceId.toLowerCase() !== pck.pceId) {
    throw new EvidenceError(
      "TDX_PCEID_MISMATCH",
      `TCB info is for PCE-ID ${String(tcbInfo.pceId)}, the PCK certificate says ${pck.pceId}`,
      {
        hint: "Fetch the TCB info for this platform.",
      },
    );
  }
  const module = tcbInfo.tdxModule === undefined ? undefined : obj(tcbInfo.tdxModule, "tdxModule");
  if (module) {
    const mask = hexField(module.attributesMask, 8, "tdxModule.attributesMask");
    const attrs = hexField(module.attributes, 8, "tdxModule.attributes");
    if (
      !bytesEqual(hexField(module.mrsigner, 48, "tdxModule.mrsigner"), body.mrSignerSeam) ||
      !bytesEqual(
        body.seamAttributes.map((b, i) => b & (mask[i] as number)),
        attrs,
      )
    ) {
      throw new EvidenceError(
        "TDX_MODULE_MISMATCH",
        "MRSIGNERSEAM or SEAMATTRIBUTES do not match Intel's TDX module identity",
        {
          hint: "The TDX module is not one Intel published.",
        },
      );
    }
  }

  const launch = evaluateTeeTcbSvn(tcbInfo, pck, body, body.teeTcbSvn);
  if (body.teeTcbSvn2 === undefined) return { ...launch, currentStatus: undefined, pck };
  // TD 1.5 (Intel QVL 4.1.2.5.1.20): TEE_TCB_SVN_2 is the TDX module running now, after
  // TD-preserving updates; Intel evaluates it too. The worse of the two statuses counts (Intel
  // reports "relaunch advised" where only the launch-time module is outdated: not UpToDate).
  const current = evaluateTeeTcbSvn(tcbInfo, pck, body, body.teeTcbSvn2);
  return { ...launch, status: worse(launch.status, current.status), currentStatus: current.status, pck };
}

type SvnEvaluation = Pick<TdxTcbEvaluation, "status" | "tcbLevel" | "platformStatus" | "moduleStatus" | "advisoryIds">;

/** Intel's TDX TCB level and module identity evaluation of one TEE_TCB_SVN. */
function evaluateTeeTcbSvn(
  tcbInfo: JsonObject,
  pck: PckExtension,
  body: TdxQuote["body"],
  tee: Uint8Array,
): SvnEvaluation {
  const moduleVersion = tee[1] as number;
  const levels = arr(tcbInfo.tcbLevels, "tcbLevels").map((raw, index) => {
    const level = obj(raw, "tcb level");
    const tcb = obj(level.tcb, "tcb");
    return {
      index,
      sgx: svns(tcb.sgxtcbcomponents, "sgxtcbcomponents"),
      pcesvn: num(tcb.pcesvn, "pcesvn"),
      tdx: svns(tcb.tdxtcbcomponents, "tdxtcbcomponents"),
      status: status(level.tcbStatus),
      advisoryIds: Array.isArray(level.advisoryIDs) ? level.advisoryIDs.map(String) : [],
    };
  });
  const sgxOk = (l: (typeof levels)[number]) =>
    l.sgx.length === 16 && l.sgx.every((s, i) => (pck.tcbComponents[i] as number) >= s) && pck.pceSvn >= l.pcesvn;
  // With a module version, its two SVNs are judged by the module identity instead.
  const tdxOk = (l: (typeof levels)[number]) =>
    l.tdx.length === 16 && l.tdx.every((s, i) => (moduleVersion > 0 && i < 2) || (tee[i] as number) >= s);
  const first = levels.findIndex(sgxOk);
  const match = first < 0 ? undefined : levels.slice(first).find((l) => sgxOk(l) && tdxOk(l));
  if (match === undefined) {
    throw new AttestationPolicyError(
      "TDX_TCB_NOT_SUPPORTED",
      "the platform's TCB matches no level of Intel's TCB info",
      {
        hint: "The platform's firmware or microcode is older than anything Intel lists; update it.",
        details: { fmspc: pck.fmspc, pceSvn: pck.pceSvn, sgxComponents: pck.tcbComponents, teeTcbSvn: toHex(tee) },
      },
    );
  }

  let moduleStatus: TcbStatus | undefined;
  if (moduleVersion > 0) {
    const wanted = `TDX_${moduleVersion.toString(16).padStart(2, "0").toUpperCase()}`;
    const identity = (Array.isArray(tcbInfo.tdxModuleIdentities) ? tcbInfo.tdxModuleIdentities : [])
      .map((x) => obj(x, "tdxModuleIdentity"))
      .find((x) => typeof x.id === "string" && x.id.toUpperCase() === wanted);
    if (identity === undefined) {
      throw new EvidenceError("TDX_MODULE_MISMATCH", `Intel's TCB info has no identity for TDX module ${wanted}`, {
        hint: "The TDX module version is not one Intel published for this platform.",
      });
    }
    const mask = hexField(identity.attributesMask, 8, "module attributesMask");
    if (
      !bytesEqual(hexField(identity.mrsigner, 48, "module mrsigner"), body.mrSignerSeam) ||
      !bytesEqual(
        body.seamAttributes.map((b, i) => b & (mask[i] as number)),
        hexField(identity.attributes, 8, "module attributes"),
      )
    ) {
      throw new EvidenceError("TDX_MODULE_MISMATCH", `the TDX module does not match Intel's identity ${wanted}`, {
        hint: "The TDX module is not Intel's.",
      });
    }
    for (const raw of arr(identity.tcbLevels, "module tcbLevels")) {
      const l = obj(raw, "module tcb level");
      if (num(obj(l.tcb, "module tcb").isvsvn, "isvsvn") <= (tee[0] as number)) {
        moduleStatus = status(l.tcbStatus);
        break;
      }
    }
    if (moduleStatus === undefined) {
      throw new AttestationPolicyError(
        "TDX_TCB_NOT_SUPPORTED",
        `TDX module SVN ${tee[0]} is below every level of ${wanted}`,
        {
          hint: "Update the TDX module.",
        },
      );
    }
  }
  return {
    status: converge(match.status, moduleStatus),
    tcbLevel: match.index,
    platformStatus: match.status,
    moduleStatus,
    advisoryIds: match.advisoryIds,
  };
}
