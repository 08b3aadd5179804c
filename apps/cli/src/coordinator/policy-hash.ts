import { isHex } from "@contrast/core";
import { type Manifest, SIM_COORDINATOR_POLICY_HASH, type TeeType } from "@contrast/manifest";
import { cliError } from "./errors.js";

/**
 * The Coordinator policy hash a release expects by default, per TEE of the manifest's reference
 * values: upstream embeds one value (or a platform map) at release build time. No release of this
 * implementation has a Coordinator image yet, so only the simulated TEE has a value, the hash of
 * its fixed label; on hardware the user passes --coordinator-policy-hash. A release fills in this
 * one table (docs/operator-guide.md).
 */
export const DEFAULT_COORDINATOR_POLICY_HASHES: Readonly<Record<TeeType, string | undefined>> = {
  sim: SIM_COORDINATOR_POLICY_HASH,
  snp: undefined,
  tdx: undefined,
};

export interface ExpectedPolicyHashes {
  /** Lower-case hex; the Coordinator's HOST_DATA (TDX: the first 32 bytes of MRCONFIGID) must be one. */
  readonly hashes: readonly string[];
  /** Where they came from, for the progress line and --output json. */
  readonly source: "flag" | "default";
}

/**
 * What the Coordinator's evidence must carry as its policy hash. An explicit
 * --coordinator-policy-hash is the only one accepted. Otherwise the release's default for each TEE
 * the manifest has reference values for, and (as newer upstream takes it from the manifest) the
 * manifest's own policies with Role "coordinator": the manifest is what the user trusts.
 * Never empty: older upstream builds skipped the check when no hash was known; that would accept
 * any Coordinator with genuine hardware, so it is an error here.
 */
export function expectedCoordinatorPolicyHashes(manifest: Manifest, flag: string | undefined): ExpectedPolicyHashes {
  if (flag !== undefined) {
    const hex = flag.trim().toLowerCase();
    if (hex.length !== 64 || !isHex(hex)) {
      throw cliError(
        "CLI_COORDINATOR_POLICY_HASH_INVALID",
        `--coordinator-policy-hash ${JSON.stringify(flag)} is not 32 bytes of hex`,
        { details: { value: flag } },
      );
    }
    return { hashes: [hex], source: "flag" };
  }
  const rv = manifest.ReferenceValues;
  const tees = (["snp", "tdx", "sim"] as const).filter((t) => (rv?.[t]?.length ?? 0) > 0);
  const hashes = new Set<string>();
  const missing: TeeType[] = [];
  for (const tee of tees) {
    const hash = DEFAULT_COORDINATOR_POLICY_HASHES[tee];
    if (hash === undefined) missing.push(tee);
    else hashes.add(hash);
  }
  for (const [hash, entry] of manifest.Policies ?? new Map()) {
    if (entry.Role === "coordinator") hashes.add(hash.toLowerCase());
  }
  if (hashes.size === 0) {
    throw cliError(
      "CLI_COORDINATOR_POLICY_HASH_UNKNOWN",
      tees.length === 0
        ? "the manifest has no reference values, so no Coordinator policy hash is known"
        : `no default Coordinator policy hash for ${missing.join(" and ")} (this build has none)`,
      { details: { tees: missing } },
    );
  }
  return { hashes: [...hashes], source: "default" };
}
