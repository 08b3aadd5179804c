import type { AtlsVerifyOptions } from "@contrast/atls";
import { CollateralStore, kdsCrlUrl } from "@contrast/attestation";
import { type Clock, ContrastError, type Logger } from "@contrast/core";
import type { Manifest, ManifestIssue } from "@contrast/manifest";

export interface CoordinatorVerifyInput {
  readonly manifest: Manifest;
  /** The manifest's findings; expected-missing reference values make verification impossible. */
  readonly issues: readonly ManifestIssue[];
  readonly manifestPath: string;
  readonly policyHashes: readonly string[];
  readonly clock: Clock;
  readonly log: Logger;
  /** AMD KDS access for hardware SNP CRLs (the program passes fetch; tests may leave it out). */
  readonly fetcher?: (url: string) => Promise<{ body: Uint8Array; headers: Readonly<Record<string, string>> }>;
}

/**
 * How the CLI judges a Coordinator, as upstream builds its validators from the manifest: one per
 * SNP, TDX (and, here, simulated) reference-values entry, each expecting the Coordinator's policy
 * hash as HOST_DATA (TDX: MRCONFIGID = hash ‖ 16 zero bytes, which verifyEvidence compares by its
 * first 32 bytes). AMD's CRLs are fetched from the KDS while this process runs.
 */
export function coordinatorVerifyOptions(input: CoordinatorVerifyInput): AtlsVerifyOptions {
  const missing = input.issues.filter((i) => i.severity === "expected-missing" && i.path.startsWith("ReferenceValues"));
  if (missing.length > 0) {
    throw new ContrastError(
      "REFERENCE_VALUES_INVALID",
      `${input.manifestPath}: ${missing.length} reference value${missing.length === 1 ? "" : "s"} still to be filled in (${missing[0]?.path}${missing.length > 1 ? ", …" : ""})`,
      {
        hint: "Fill in the values for your hardware (`contrast manifest validate` lists them), then run the command again.",
        details: { paths: missing.map((m) => m.path) },
      },
    );
  }
  const rv = input.manifest.ReferenceValues;
  const memory = new Map<string, Uint8Array>();
  const collateral = new CollateralStore({
    clock: input.clock,
    log: input.log,
    storage: {
      read: async (k) => memory.get(k),
      write: async (k, v) => {
        memory.set(k, v);
      },
    },
    ...(input.fetcher === undefined ? {} : { fetcher: input.fetcher }),
  });
  return {
    referenceValues: { snp: rv?.snp ?? [], tdx: rv?.tdx ?? [], sim: rv?.sim ?? [] },
    allowedHostData: input.policyHashes,
    clock: input.clock,
    snpCrl: async (product, kind) => (await collateral.get(kdsCrlUrl(product, kind))).body,
  };
}
