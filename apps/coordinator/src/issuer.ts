import { mkdir } from "node:fs/promises";
import { loadSimulatedAuthority, saveSimulatedAuthority, type SimulatedAuthority, createSimulatedAuthority } from "@contrast/attestation/testing";
import { type EvidenceIssuer, simIssuer, tsmIssuer } from "@contrast/atls";
import { type Clock, fromHex, type Logger } from "@contrast/core";
import { SIM_COORDINATOR_POLICY_HASH, SIM_TRUSTED_MEASUREMENT } from "@contrast/manifest";
import type { CoordinatorConfig } from "./config.js";

/**
 * The TEE's evidence issuer for the configured platform, chosen explicitly (no detection, no
 * fallback): configfs-tsm for snp and tdx; for sim, the simulated authority kept in the sim
 * directory (created there on first use), so a CLI on the same machine can name its ARK.
 */
export async function openIssuer(
  config: CoordinatorConfig,
  deps: { readonly clock: Clock; readonly log: Logger },
): Promise<EvidenceIssuer> {
  if (config.platform !== "sim") return tsmIssuer(config.platform);
  const dir = config.simDir as string;
  const authority = await openSimAuthority(dir, deps);
  deps.log.warn("platform sim: evidence comes from a simulated TEE and proves nothing", {
    simDir: dir,
    arkKeyDigest: authority.arkKeyDigest,
    policyHash: SIM_COORDINATOR_POLICY_HASH,
  });
  return simIssuer(authority, {
    measurement: fromHex(SIM_TRUSTED_MEASUREMENT),
    hostData: fromHex(SIM_COORDINATOR_POLICY_HASH),
    clock: deps.clock,
  });
}

/** Loads the simulated authority from `dir`, or creates and saves one there when there is none. */
export async function openSimAuthority(
  dir: string,
  deps: { readonly clock: Clock; readonly log: Logger },
): Promise<SimulatedAuthority> {
  const existing = await loadSimulatedAuthority({ dir, clock: deps.clock });
  if (existing !== undefined) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const created = createSimulatedAuthority({ clock: deps.clock });
  await saveSimulatedAuthority(created, { dir });
  deps.log.info("created a simulated TEE authority", { simDir: dir, arkKeyDigest: created.arkKeyDigest });
  // Another process may have saved its own at the same time; whatever is on disk now wins.
  return (await loadSimulatedAuthority({ dir, clock: deps.clock })) ?? created;
}
