import { existsSync } from "node:fs";
import { join } from "node:path";
import { type EvidenceIssuer, simIssuer, tsmIssuer } from "@contrast/atls";
import { loadSimulatedAuthority, nodeSimAuthorityFileSystem } from "@contrast/attestation/testing";
import { type Clock, fromHex, type Logger } from "@contrast/core";
import { SIM_TRUSTED_MEASUREMENT } from "@contrast/manifest";
import { WorkloadError } from "@contrast/workload";
import type { InitializerConfig } from "./config.js";

/** The guest devices that tell SEV-SNP and TDX guests apart (what upstream's issuer detection reads). */
export const GUEST_DEVICES = { snp: "/dev/sev-guest", tdx: "/dev/tdx_guest" } as const;

/** The platform `auto` resolves to, by the guest device present; undefined when neither is. */
export function detectPlatform(exists: (path: string) => boolean = existsSync): "snp" | "tdx" | undefined {
  if (exists(GUEST_DEVICES.snp)) return "snp";
  if (exists(GUEST_DEVICES.tdx)) return "tdx";
  return undefined;
}

/**
 * The pod's evidence issuer: configfs-tsm on SEV-SNP and TDX; on sim, the Coordinator's simulated
 * authority (read, never created: a new one would be another trust anchor than the manifest
 * names) with the configured policy hash as HOST_DATA, which a real TEE's runtime fixes.
 */
export async function openIssuer(
  config: InitializerConfig,
  deps: { readonly clock: Clock; readonly log: Logger; readonly exists?: (path: string) => boolean },
): Promise<EvidenceIssuer> {
  if (config.platform === "snp" || config.platform === "tdx") return tsmIssuer(config.platform);
  if (config.platform === "auto") {
    const platform = detectPlatform(deps.exists);
    if (platform === undefined) {
      throw new WorkloadError(
        "INITIALIZER_PLATFORM_UNKNOWN",
        `neither ${GUEST_DEVICES.snp} nor ${GUEST_DEVICES.tdx} exists: this is not a confidential VM`,
      );
    }
    deps.log.info("detected the platform", { platform });
    return tsmIssuer(platform);
  }
  const dir = config.simDir as string;
  const authority = await loadSimulatedAuthority(join(dir, "authority.json"), nodeSimAuthorityFileSystem);
  if (authority === undefined) {
    throw new WorkloadError("INITIALIZER_SIM_AUTHORITY_MISSING", `no simulated TEE authority in ${dir}`);
  }
  deps.log.warn("platform sim: evidence comes from a simulated TEE and proves nothing", {
    simDir: dir,
    arkKeyDigest: authority.arkKeyDigest,
    policyHash: config.simPolicyHash,
  });
  return simIssuer(authority, {
    measurement: fromHex(SIM_TRUSTED_MEASUREMENT),
    hostData: fromHex(config.simPolicyHash as string),
    clock: deps.clock,
  });
}
