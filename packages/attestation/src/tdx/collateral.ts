import { verify as cryptoVerify, X509Certificate } from "node:crypto";
import {
  bytesEqual,
  decodePem,
  fromHex,
  isHex,
  type JsonObject,
  type JsonValue,
  parseJson,
  toHex,
  utf8,
} from "@contrast/core";
import { AttestationPolicyError, EvidenceError } from "../errors.js";
import { type Crl, parseCrl, serialHex, verifyCrl } from "../x509.js";
import { INTEL_SGX_ROOT_CA } from "./intel-root.js";
import { type PckExtension, parsePckExtension } from "./pck.js";
import type { TdxQuote } from "./quote.js";
import type { VerifiedTdxQuote } from "./verify.js";

/** A document Intel's PCS signs: the raw inner JSON text and its hex r ‖ s signature. */
export interface SignedCollateral {
  /** The exact bytes that were signed: the JSON value of "tcbInfo" or "enclaveIdentity". */
  body: string;
  signature: string;
}

/** What verification of a TDX quote's TCB needs beyond the quote. */
export interface TdxCollateral {
  tcbInfo: SignedCollateral;
  /** PEM: "Intel SGX TCB Signing", then the root (the TCB-Info-Issuer-Chain header). */
  tcbInfoIssuerChain: string;
  /** Required by verifyTdxCollateral; optional here so that incomplete documents can be named. */
  qeIdentity?: SignedCollateral;
  qeIdentityIssuerChain?: string;
  /** DER CRL of the PCK Platform/Processor CA. */
  pckCrl?: Uint8Array;
  /** DER CRL of the Intel SGX Root CA. */
  rootCaCrl?: Uint8Array;
}

function collateralError(
  message: string,
  hint = "Fetch current collateral from Intel's PCS.",
  cause?: unknown,
): EvidenceError {
  return new EvidenceError("TDX_COLLATERAL_INVALID", message, { kind: "input", hint, cause });
}

/**
 * Splits a PCS response `{"tcbInfo":{…},"signature":"…"}` (or "enclaveIdentity") into the exact
 * signed text and the signature. The text is taken verbatim: re-serialising JSON would change
 * the bytes the signature covers.
 */
export function parsePcsResponse(text: string, key: "tcbInfo" | "enclaveIdentity"): SignedCollateral {
  const trimmed = text.trim();
  const prefix = `{"${key}":`;
  const m = /,"signature":"([0-9a-fA-F]+)"}$/.exec(trimmed);
  if (!trimmed.startsWith(prefix) || !m) {
    throw collateralError(`not a PCS ${key} response`, `Pass the response body exactly as Intel's PCS served it.`);
  }
  const doc = parseJson(trimmed, { maxBytes: 1024 * 1024 }) as JsonObject; // strict: no duplicate keys
  if (doc.signature !== m[1]) throw collateralError(`malformed PCS ${key} response`);
  return { body: trimmed.slice(prefix.length, trimmed.length - m[0].length), signature: m[1] as string };
}

/** The collateral format of Phala's dcap-qvl (also what its PCCS tooling writes). */
export function collateralFromDcapQvl(json: string): TdxCollateral {
  const c = parseJson(json, { maxBytes: 4 * 1024 * 1024 }) as Record<string, JsonValue>;
  const str = (k: string) => {
    const v = c[k];
    if (typeof v !== "string") throw collateralError(`collateral field ${k} is missing`);
    return v;
  };
  return {
    tcbInfo: { body: str("tcb_info"), signature: str("tcb_info_signature") },
    tcbInfoIssuerChain: str("tcb_info_issuer_chain"),
    qeIdentity: { body: str("qe_identity"), signature: str("qe_identity_signature") },
    qeIdentityIssuerChain: str("qe_identity_issuer_chain"),
    pckCrl: fromHex(str("pck_crl")),
    rootCaCrl: fromHex(str("root_ca_crl")),
  };
}

export type TcbStatus =
  | "UpToDate"
  | "SWHardeningNeeded"
  | "ConfigurationNeeded"
  | "ConfigurationAndSWHardeningNeeded"
  | "OutOfDate"
  | "OutOfDateConfigurationNeeded"
  | "Revoked";

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

/** Every TCB status Intel defines, best first. */
export const TCB_STATUSES: readonly TcbStatus[] = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "Revoked",
];

function verifySigned(
  doc: SignedCollateral,
  chainPem: string,
  root: X509Certificate,
  rootCrl: Crl | undefined,
  now: Date,
  what: string,
): JsonObject {
  let certs: X509Certificate[];
  try {
    certs = decodePem(chainPem)
      .filter((b) => b.type === "CERTIFICATE")
      .map((b) => new X509Certificate(b.der));
  } catch (cause) {
    throw collateralError(`${what}: the issuer chain cannot be read`, undefined, cause);
  }
  const [signer, sentRoot] = certs;
  if (!signer || !sentRoot || certs.length !== 2 || !Buffer.from(sentRoot.raw).equals(Buffer.from(root.raw))) {
    throw collateralError(`${what}: the issuer chain must be the TCB signing certificate and the pinned Intel root`);
  }
  if (
    !/CN=Intel SGX TCB Signing(\n|$)/.test(signer.subject) ||
    !signer.checkIssued(root) ||
    !signer.verify(root.publicKey)
  ) {
    throw new EvidenceError(
      "TDX_COLLATERAL_SIGNATURE_INVALID",
      `${what}: the signing certificate is not Intel's TCB Signing certificate`,
      {
        hint: "Fetch the collateral from Intel's PCS.",
      },
    );
  }
  // As go-tdx-guest: the TCB Signing certificate is issued by the root, so the root CA CRL
  // is what would revoke it.
  if (rootCrl?.revoked.has(serialHex(signer.serialNumber))) {
    throw new EvidenceError("TDX_COLLATERAL_SIGNER_REVOKED", `${what}: the TCB Signing certificate is revoked`, {
      hint: "Intel revoked the certificate that signed this collateral; fetch current collateral from Intel's PCS.",
    });
  }
  for (const c of [signer, root]) {
    if (now < new Date(c.validFrom) || now > new Date(c.validTo)) {
      throw new EvidenceError(
        "TDX_COLLATERAL_NOT_VALID_AT_TIME",
        `${what}: ${c.subject.split("\n").pop()} is not valid at ${now.toISOString()}`,
        {
          hint: "The TCB Signing certificate was renewed in 2025; use the issuer chain served with the document.",
        },
      );
    }
  }
  if (
    !isHex(doc.signature, 64) ||
    !cryptoVerify(
      "sha256",
      utf8(doc.body),
      { key: signer.publicKey, dsaEncoding: "ieee-p1363" },
      fromHex(doc.signature),
    )
  ) {
    throw new EvidenceError("TDX_COLLATERAL_SIGNATURE_INVALID", `${what} is not signed by Intel's TCB Signing key`, {
      hint: "The collateral was altered; fetch it again from Intel's PCS.",
    });
  }
  const body = parseJson(doc.body, { maxBytes: 1024 * 1024 }) as JsonObject;
  const issue = intelDate(body.issueDate, `${what} issueDate`);
  const next = intelDate(body.nextUpdate, `${what} nextUpdate`);
  if (now < issue || now > next) {
    throw new EvidenceError(
      "TDX_COLLATERAL_NOT_VALID_AT_TIME",
      `${what} is valid from ${issue.toISOString()} to ${next.toISOString()}, not at ${now.toISOString()}`,
      {
        hint: "Fetch current collateral from Intel's PCS.",
        details: { issueDate: issue.toISOString(), nextUpdate: next.toISOString() },
      },
    );
  }
  return body;
}

/**
 * Intel's PCS writes UTC times as YYYY-MM-DDThh:mm:ssZ. Anything else is refused rather than
 * guessed at: `Date` would accept other forms and roll 2024-02-30 over into March.
 */
export function intelDate(v: JsonValue | undefined, what: string): Date {
  const m = typeof v === "string" ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(v) : null;
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    // Date.UTC rolls over (February 30th becomes March 1st); the round trip catches that.
    if (date.toISOString() === `${m[0].slice(0, 19)}.000Z`) return date;
  }
  throw collateralError(`${what} ${JSON.stringify(v)} is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ`);
}

const num = (v: JsonValue | undefined, what: string): number => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    throw collateralError(`${what} must be a non-negative integer`);
  return v;
};
const arr = (v: JsonValue | undefined, what: string): JsonValue[] => {
  if (!Array.isArray(v)) throw collateralError(`${what} must be an array`);
  return v;
};
const obj = (v: JsonValue | undefined, what: string): JsonObject => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw collateralError(`${what} must be an object`);
  return v;
};
const status = (v: JsonValue | undefined): TcbStatus => {
  if (typeof v !== "string" || !(TCB_STATUSES as readonly string[]).includes(v))
    throw collateralError(`unknown TCB status ${JSON.stringify(v)}`);
  return v as TcbStatus;
};
const hexField = (v: JsonValue | undefined, bytes: number, what: string): Uint8Array => {
  if (typeof v !== "string" || !isHex(v, bytes)) throw collateralError(`${what} must be ${bytes} bytes of hex`);
  return fromHex(v);
};

/** The later of two statuses in Intel's list (best first). */
function worse(a: TcbStatus, b: TcbStatus): TcbStatus {
  return TCB_STATUSES.indexOf(a) >= TCB_STATUSES.indexOf(b) ? a : b;
}

/** Applies a lower component's status to the platform's, as Intel's QVL converges them. */
function converge(level: TcbStatus, other: TcbStatus | undefined): TcbStatus {
  if (other === "Revoked") return "Revoked";
  if (other === "OutOfDate" || other === "OutOfDateConfigurationNeeded") {
    if (level === "UpToDate" || level === "SWHardeningNeeded") return "OutOfDate";
    if (level === "ConfigurationNeeded" || level === "ConfigurationAndSWHardeningNeeded")
      return "OutOfDateConfigurationNeeded";
  }
  return level;
}

/** The QE identity check: masked MISCSELECT and ATTRIBUTES, MRSIGNER, ISVPRODID, QE TCB status. */
function evaluateQe(quote: TdxQuote, id: JsonObject): TcbStatus {
  const qe = quote.qeReport;
  // Not a policy question: a QE that is not Intel's could have signed anything.
  const mismatch = (field: string, expected: string, actual: string) =>
    new EvidenceError(
      "TDX_QE_IDENTITY_MISMATCH",
      `QE report ${field} ${actual} does not match Intel's QE identity (${expected})`,
      {
        hint: "The quote was not produced by Intel's TD quoting enclave.",
        details: { field, expected, actual },
      },
    );
  if (id.id !== "TD_QE" || id.version !== 2) throw collateralError("QE identity must be TD_QE version 2");
  if (arr(id.tcbLevels, "QE tcbLevels").length === 0) throw collateralError("QE identity has no TCB levels");
  const miscMask = new DataView(hexField(id.miscselectMask, 4, "miscselectMask").buffer).getUint32(0, true);
  const misc = new DataView(hexField(id.miscselect, 4, "miscselect").buffer).getUint32(0, true);
  if ((qe.miscSelect & miscMask) >>> 0 !== misc)
    throw mismatch("MISCSELECT", misc.toString(16), qe.miscSelect.toString(16));
  const attrMask = hexField(id.attributesMask, 16, "attributesMask");
  const attrs = hexField(id.attributes, 16, "attributes");
  const masked = qe.attributes.map((b, i) => b & (attrMask[i] as number));
  if (!bytesEqual(masked, attrs)) throw mismatch("ATTRIBUTES", toHex(attrs), toHex(masked));
  const mrsigner = hexField(id.mrsigner, 32, "mrsigner");
  if (!bytesEqual(mrsigner, qe.mrSigner)) throw mismatch("MRSIGNER", toHex(mrsigner), toHex(qe.mrSigner));
  if (num(id.isvprodid, "isvprodid") !== qe.isvProdId)
    throw mismatch("ISVPRODID", String(id.isvprodid), String(qe.isvProdId));
  for (const raw of arr(id.tcbLevels, "QE tcbLevels")) {
    const level = obj(raw, "QE tcb level");
    if (num(obj(level.tcb, "QE tcb").isvsvn, "isvsvn") <= qe.isvSvn) return status(level.tcbStatus);
  }
  throw new AttestationPolicyError(
    "TDX_TCB_NOT_SUPPORTED",
    `QE ISVSVN ${qe.isvSvn} is below every level of Intel's QE identity`,
    {
      hint: "The quoting enclave is too old; update the platform's DCAP software.",
    },
  );
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

/** The parts of Intel's collateral that a verification needs and that are absent. */
export function missingTdxCollateral(c: TdxCollateral | undefined, revocation = true): string[] {
  if (c === undefined) return ["TCB info", "QE identity", ...(revocation ? ["PCK CRL", "root CA CRL"] : [])];
  const out: string[] = [];
  if (c.qeIdentity === undefined) out.push("QE identity");
  if (revocation && c.pckCrl === undefined) out.push("PCK CRL");
  if (revocation && c.rootCaCrl === undefined) out.push("root CA CRL");
  return out;
}

/** Where each part comes from (Intel's PCS), for hints. */
const COLLATERAL_URLS: Readonly<Record<string, string>> = {
  "TCB info": "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=<FMSPC>",
  "QE identity": "https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity",
  "PCK CRL": "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=<platform|processor>&encoding=der",
  "root CA CRL": "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der",
};

/** "part: URL; …" for the given parts (default: all four). */
export function tdxCollateralSources(parts: readonly string[] = Object.keys(COLLATERAL_URLS)): string {
  return parts.map((p) => `${p}: ${COLLATERAL_URLS[p]}`).join("; ");
}

/**
 * Checks a verified quote against Intel's collateral: signatures and freshness of TCB info and QE
 * identity (both required), the PCK CRL and root CA CRL (required unless `revocation` is
 * "if-present"): PCK, PCK CA and TCB Signing certificate not revoked; FMSPC/PCE-ID; the QE
 * identity; the TCB level (for TD 1.5 quotes, of TEE_TCB_SVN and TEE_TCB_SVN_2). Returns the
 * evaluation; throws a AttestationPolicyError if the status is not accepted.
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
  const tcbInfo = verifySigned(collateral.tcbInfo, collateral.tcbInfoIssuerChain, root, rootCrl, now, "TCB info");
  const qeIdentity = verifySigned(
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
