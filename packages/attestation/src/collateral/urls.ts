import { toHex } from "@contrast/core";
import type { SnpProduct, TcbParts } from "../snp/report.js";

export const AMD_KDS = "https://kdsintf.amd.com";
export const INTEL_PCS = "https://api.trustedservices.intel.com";

/** The VCEK for a chip at a TCB. Turin uses the first 8 bytes of the chip ID and adds fmcSPL. */
export function kdsVcekUrl(product: SnpProduct, chipId: Uint8Array, tcb: TcbParts): string {
  const id = toHex(product === "Turin" ? chipId.subarray(0, 8) : chipId);
  const fmc = product === "Turin" ? `fmcSPL=${tcb.fmc ?? 0}&` : "";
  return `${AMD_KDS}/vcek/v1/${product}/${id}?${fmc}blSPL=${tcb.bootloader}&teeSPL=${tcb.tee}&snpSPL=${tcb.snp}&ucodeSPL=${tcb.microcode}`;
}

/** ASK (or ASVK) then ARK, PEM. */
export function kdsCertChainUrl(product: SnpProduct, kind: "vcek" | "vlek"): string {
  return `${AMD_KDS}/${kind}/v1/${product}/cert_chain`;
}

export function kdsCrlUrl(product: SnpProduct, kind: "vcek" | "vlek"): string {
  return `${AMD_KDS}/${kind}/v1/${product}/crl`;
}

/** TDX TCB info; the issuer chain comes in the TCB-Info-Issuer-Chain header. */
export function pcsTcbInfoUrl(fmspc: string): string {
  return `${INTEL_PCS}/tdx/certification/v4/tcb?fmspc=${fmspc.toLowerCase()}`;
}

/** TD QE identity; the issuer chain comes in the SGX-Enclave-Identity-Issuer-Chain header. */
export function pcsQeIdentityUrl(): string {
  return `${INTEL_PCS}/tdx/certification/v4/qe/identity`;
}

/** PCK CRL (DER); the issuer chain comes in the SGX-PCK-CRL-Issuer-Chain header. */
export function pcsPckCrlUrl(ca: "platform" | "processor"): string {
  return `${INTEL_PCS}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`;
}

export const INTEL_ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

/** Intel's collateral endpoints for TDX, as go-tdx-guest fetches them. */
export interface IntelCollateralUrls {
  tcbInfo(fmspc: string): string;
  qeIdentity: string;
  pckCrl(ca: "platform" | "processor"): string;
  rootCaCrl: string;
}

const INTEL_CERTIFICATES = "https://certificates.trustedservices.intel.com";

/**
 * Intel's URLs; `origin` (e.g. "https://pccs.example:8081") replaces the origin of both Intel
 * hosts and keeps the paths, for a mirror that serves Intel's paths or a test double.
 */
export function intelCollateralUrls(origin?: string): IntelCollateralUrls {
  const at = (url: string) =>
    origin === undefined
      ? url
      : `${origin.replace(/\/+$/, "")}${url.slice(url.startsWith(INTEL_PCS) ? INTEL_PCS.length : INTEL_CERTIFICATES.length)}`;
  return {
    tcbInfo: (fmspc) => at(pcsTcbInfoUrl(fmspc)),
    qeIdentity: at(pcsQeIdentityUrl()),
    pckCrl: (ca) => at(pcsPckCrlUrl(ca)),
    rootCaCrl: at(INTEL_ROOT_CRL_URL),
  };
}
