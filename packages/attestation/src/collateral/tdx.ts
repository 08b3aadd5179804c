import { type JsonObject, parseJson } from "@contrast/core";
import { parseCrl } from "@contrast/x509";
import { EvidenceError } from "../errors.js";
import { parsePcsResponse, type TdxCollateral } from "../tdx/collateral-documents.js";
import { intelDate } from "../tdx/collateral-fields.js";
import { parsePckExtension } from "../tdx/pck.js";
import type { VerifiedTdxQuote } from "../tdx/verify.js";
import type { CollateralStore, FetchedDocument } from "./store.js";
import { type IntelCollateralUrls, intelCollateralUrls } from "./urls.js";

/** Intel PCS response headers that carry each document's issuer chain (URL-encoded PEM). */
export const PCS_ISSUER_CHAIN_HEADERS = {
  tcbInfo: "TCB-Info-Issuer-Chain",
  qeIdentity: "SGX-Enclave-Identity-Issuer-Chain",
  pckCrl: "SGX-PCK-CRL-Issuer-Chain",
} as const;

function invalid(message: string, cause?: unknown): EvidenceError {
  return new EvidenceError("TDX_COLLATERAL_INVALID", message, {
    kind: "input",
    cause,
    hint: "The collateral server did not answer as Intel's PCS does; check --pcs-url, or remove the cached copy.",
  });
}

function header(doc: FetchedDocument, name: string, url: string): string {
  const key = Object.keys(doc.headers).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : doc.headers[key];
  if (value === undefined || value === "") throw invalid(`${url} came without the ${name} header`);
  try {
    return decodeURIComponent(value);
  } catch (cause) {
    throw invalid(`the ${name} header of ${url} is not URL-encoded PEM`, cause);
  }
}

const text = (doc: FetchedDocument) => Buffer.from(doc.body).toString("utf8");

/** A signed JSON document stays fresh until its nextUpdate. */
function jsonNextUpdate(key: "tcbInfo" | "enclaveIdentity") {
  return (doc: FetchedDocument): Date => {
    const outer = parseJson(text(doc), { maxBytes: 1024 * 1024 }) as JsonObject;
    const inner = outer[key];
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) throw invalid(`not a PCS ${key} response`);
    return intelDate(inner.nextUpdate, `${key} nextUpdate`);
  };
}

const crlNextUpdate = (doc: FetchedDocument) => parseCrl(doc.body).nextUpdate;

/**
 * Gets everything verifyTdxCollateral needs for a quote through the store: TCB info for the PCK's
 * FMSPC, the TD QE identity, the CRL of the PCK's CA and Intel's root CA CRL. Documents are cached
 * until their nextUpdate; nothing here is trusted yet (verifyTdxCollateral checks it all).
 */
export async function fetchTdxCollateral(
  store: CollateralStore,
  verified: VerifiedTdxQuote,
  options: { origin?: string } = {},
): Promise<TdxCollateral> {
  const { fmspc } = parsePckExtension(verified.pck);
  const ca = /CN=Intel SGX PCK Processor CA(\n|$)/.test(verified.pckIntermediate.subject) ? "processor" : "platform";
  // Cached under Intel's URLs, fetched from the origin's.
  const intel = intelCollateralUrls();
  const from: IntelCollateralUrls = intelCollateralUrls(options.origin);
  const tcbUrl = intel.tcbInfo(fmspc);
  const tcb = await store.get(tcbUrl, jsonNextUpdate("tcbInfo"), from.tcbInfo(fmspc));
  const qe = await store.get(intel.qeIdentity, jsonNextUpdate("enclaveIdentity"), from.qeIdentity);
  const pckCrl = await store.get(intel.pckCrl(ca), crlNextUpdate, from.pckCrl(ca));
  const rootCrl = await store.get(intel.rootCaCrl, crlNextUpdate, from.rootCaCrl);
  // The PCK CRL's issuer chain header is not needed: the CRL is checked against the PCK CA of the
  // quote's own chain, as go-tdx-guest does.
  return {
    tcbInfo: parsePcsResponse(text(tcb), "tcbInfo"),
    tcbInfoIssuerChain: header(tcb, PCS_ISSUER_CHAIN_HEADERS.tcbInfo, tcbUrl),
    qeIdentity: parsePcsResponse(text(qe), "enclaveIdentity"),
    qeIdentityIssuerChain: header(qe, PCS_ISSUER_CHAIN_HEADERS.qeIdentity, intel.qeIdentity),
    pckCrl: pckCrl.body,
    rootCaCrl: rootCrl.body,
  };
}
