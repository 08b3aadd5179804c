import { isHex } from "@contrast/core";
import { type Manifest, PLATFORMS, SIM_COORDINATOR_POLICY_HASH, type TeeType } from "@contrast/manifest";
import { EMBEDDED_RELEASE, type Release } from "../release.js";
import { cliError } from "./errors.js";

/**
 * The Coordinator policy hashes this build expects by default, per TEE of the manifest's reference
 * values (upstream embeds one value, or a platform map, at release build time). The simulated TEE
 * has the hash of its fixed label. A release build adds, per TEE, the hash of every platform's
 * coordinator-<platform>.yml of its embedded release (the manifest names the TEE, not which of its
 * platforms runs the Coordinator). A development build has none for hardware; the user passes
 * --coordinator-policy-hash (docs/operator-guide.md).
 */
export function defaultCoordinatorPolicyHashes(
  release: Release | undefined = EMBEDDED_RELEASE,
): Readonly<Record<TeeType, readonly string[]>> {
  const table: Record<TeeType, string[]> = { sim: [SIM_COORDINATOR_POLICY_HASH], snp: [], tdx: [] };
  for (const [id, entry] of Object.entries(release?.platforms ?? {})) {
    const tee = PLATFORMS.find((p) => p.id === id)?.tee;
    if (tee !== undefined && !table[tee].includes(entry.coordinatorPolicyHash))
      table[tee].push(entry.coordinatorPolicyHash);
  }
  return table;
}

export const DEFAULT_COORDINATOR_POLICY_HASHES = defaultCoordinatorPolicyHashes();

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
    const known = DEFAULT_COORDINATOR_POLICY_HASHES[tee];
    if (known.length === 0) missing.push(tee);
    for (const hash of known) hashes.add(hash);
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
