import { fromHex, type JsonObject, type JsonValue, parseJson } from "@contrast/core";
import { collateralError } from "./collateral-fields.js";

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
