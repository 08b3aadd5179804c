import { EvidenceCache, type VerifyEvidenceOptions, verifyEvidence } from "@contrast/atls";
import { type CollateralCacheStorage, CollateralStore, kdsCrlUrl } from "@contrast/attestation";
import type { EvidenceVerifier } from "@contrast/coordinator";
import type { Clock, Logger } from "@contrast/core";

export interface VerifierOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Network access for AMD's CRLs; the program passes fetch. Absent: hardware SNP evidence must carry its CRL. */
  readonly fetcher?:
    | ((url: string) => Promise<{ body: Uint8Array; headers: Readonly<Record<string, string>> }>)
    | undefined;
}

/**
 * The Coordinator's evidence verifier: @contrast/atls's verifyEvidence (the same function the CLI
 * and the aTLS client use), with AMD's CRL fetched from the KDS and cached in memory while fresh
 * for hardware SNP evidence that does not carry one. Simulated evidence carries the simulated
 * ARK's CRL; TDX evidence is judged with the collateral its document carries.
 */
export function evidenceVerifier(options: VerifierOptions): EvidenceVerifier {
  const memory = new Map<string, Uint8Array>();
  const storage: CollateralCacheStorage = {
    read: async (k) => memory.get(k),
    write: async (k, v) => {
      memory.set(k, v);
    },
  };
  const collateral = new CollateralStore({
    clock: options.clock,
    storage,
    log: options.log,
    ...(options.fetcher === undefined ? {} : { fetcher: options.fetcher }),
  });
  // Workloads of one deployment share a few chains: verify each once, check revocation every time.
  const cache = new EvidenceCache();
  const snpCrl: VerifyEvidenceOptions["snpCrl"] = async (product, kind) =>
    (await collateral.get(kdsCrlUrl(product, kind))).body;
  return (request) =>
    verifyEvidence({
      oid: request.oid,
      evidence: request.evidence,
      reportData: request.reportData,
      referenceValues: request.referenceValues,
      allowedHostData: request.allowedHostData,
      now: request.now,
      snpCrl,
      cache,
    });
}

/** fetch as a collateral fetcher: the body of a 2xx answer, else an error naming the status. */
export async function httpFetcher(url: string): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return { body: new Uint8Array(await res.arrayBuffer()), headers };
}
