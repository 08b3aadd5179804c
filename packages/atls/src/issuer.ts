import {
  type ConfigfsTsmOptions,
  EVIDENCE_OIDS,
  encodeSnpEvidence,
  encodeTdxEvidence,
  issueTsmReport,
  parseSnpCertTable,
} from "@contrast/attestation";
import type { SimulatedAuthority } from "@contrast/attestation/testing";
import { type Clock, isContrastError } from "@contrast/core";
import { AtlsError } from "./errors.js";

export type EvidencePlatform = "snp" | "tdx" | "sim";

/**
 * Produces the attestation evidence document for given report data: what goes into the aTLS
 * certificate's extension under `oid`.
 */
export interface EvidenceIssuer {
  readonly platform: EvidencePlatform;
  /** The certificate extension OID the document is carried under. */
  readonly oid: string;
  issue(reportData: Uint8Array): Promise<Uint8Array>;
}

export interface SimIssuerOptions {
  /** 48-byte launch measurement the simulated "VM" reports. */
  readonly measurement: Uint8Array;
  /** 32-byte HOST_DATA, in Contrast the policy hash of the pod. */
  readonly hostData: Uint8Array;
  /** When given, each document carries a CRL from the simulated ARK, as Contrast's SNP issuer does. */
  readonly clock?: Clock;
}

/**
 * The simulated TEE's issuer: SEV-SNP reports signed by the simulated chain, in the SNP evidence
 * document with that chain (VCEK, ASK, ARK), under the SNP OID, because the document IS SNP
 * evidence; what makes it trusted or not is only whether the verifier's ReferenceValues.sim
 * names its ARK. It proves nothing about confidentiality.
 */
export function simIssuer(authority: SimulatedAuthority, options: SimIssuerOptions): EvidenceIssuer {
  const { measurement, hostData, clock } = options;
  return {
    platform: "sim",
    oid: EVIDENCE_OIDS.snp,
    issue: async (reportData) => {
      const report = authority.report({ reportData, measurement, hostData });
      return encodeSnpEvidence({
        report,
        vcek: authority.vcek,
        ask: new Uint8Array(authority.roots.ask.raw),
        ark: new Uint8Array(authority.roots.ark.raw),
        ...(clock ? { crl: authority.crl({ now: clock.now() }) } : {}),
        product: { name: "Genoa", machineStepping: 0 },
      });
    },
  };
}

const GUIDS = {
  vcek: "63da758d-e664-4564-adc5-f4b93be8accd",
  vlek: "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
  ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782",
  ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae",
} as const;

const PROVIDERS = { snp: "sev_guest", tdx: "tdx_guest" } as const;

/**
 * The hardware issuer through Linux's configfs-tsm (file system injected through `tsm.fs`):
 * SNP reports with the certificates the host supplied, or TDX quotes, each in Contrast's
 * evidence document. The platform is chosen explicitly; a kernel provider of another kind is an
 * error, never a silent fallback.
 */
export function tsmIssuer(platform: "snp" | "tdx", tsm: ConfigfsTsmOptions = {}): EvidenceIssuer {
  return {
    platform,
    oid: EVIDENCE_OIDS[platform],
    issue: async (reportData) => {
      let out: Awaited<ReturnType<typeof issueTsmReport>>;
      try {
        out = await issueTsmReport(reportData, tsm);
      } catch (e) {
        if (isContrastError(e)) throw e;
        throw new AtlsError("ATLS_ISSUER_FAILED", `configfs-tsm did not produce evidence: ${String(e)}`, { cause: e });
      }
      if (out.provider !== PROVIDERS[platform]) {
        throw new AtlsError(
          "ATLS_ISSUER_FAILED",
          `configfs-tsm provider is ${JSON.stringify(out.provider)}, not ${PROVIDERS[platform]} (${platform})`,
        );
      }
      if (platform === "tdx") return encodeTdxEvidence({ quote: out.outblob });
      const certs = out.auxblob === undefined ? new Map<string, Uint8Array>() : parseSnpCertTable(out.auxblob);
      const pick = (k: keyof typeof GUIDS) => {
        const v = certs.get(GUIDS[k]);
        return v === undefined ? {} : { [k]: v };
      };
      return encodeSnpEvidence({
        report: out.outblob,
        ...pick("vcek"),
        ...pick("vlek"),
        ...pick("ask"),
        ...pick("ark"),
      });
    },
  };
}
