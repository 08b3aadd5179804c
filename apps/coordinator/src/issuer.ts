import { join } from "node:path";
import { type EvidenceIssuer, simIssuer, tsmIssuer } from "@contrast/atls";
import {
  nodeSimAuthorityFileSystem,
  openSimulatedAuthority,
  type SimulatedAuthority,
} from "@contrast/attestation/testing";
import { type Clock, fromHex, type Logger } from "@contrast/core";
import { SIM_COORDINATOR_POLICY_HASH, SIM_TRUSTED_MEASUREMENT } from "@contrast/manifest";
import type { CoordinatorConfig } from "./config.js";

/**
 * The TEE's evidence issuer for the configured platform, chosen explicitly (no detection, no
 * fallback): configfs-tsm for snp and tdx; for sim, the simulated authority kept in the sim
 * directory (created there on first use), so a CLI on the same machine can name its ARK, with the
 * configured policy hash as HOST_DATA.
 */
export async function openIssuer(
  config: CoordinatorConfig,
  deps: { readonly clock: Clock; readonly log: Logger },
): Promise<EvidenceIssuer> {
  if (config.platform !== "sim") return tsmIssuer(config.platform);
  const dir = config.simDir as string;
  const policyHash = config.simPolicyHash ?? SIM_COORDINATOR_POLICY_HASH;
  const authority = await openSimAuthority(dir, deps);
  deps.log.warn("platform sim: evidence comes from a simulated TEE and proves nothing", {
    simDir: dir,
    arkKeyDigest: authority.arkKeyDigest,
    policyHash,
  });
  return simIssuer(withCachedCrl(authority), {
    measurement: fromHex(SIM_TRUSTED_MEASUREMENT),
    hostData: fromHex(policyHash),
    clock: deps.clock,
  });
}

/** The simulated authority's file in the sim directory. */
export const SIM_AUTHORITY_FILE = "authority.json";

/**
 * Loads the simulated authority from `dir`, or creates one there when there is none. Creation is
 * create-if-absent (a temporary file hard-linked to the final name, which fails when it exists),
 * so two Coordinators starting at once on one sim directory end up with the same authority.
 */
export async function openSimAuthority(
  dir: string,
  deps: { readonly clock: Clock; readonly log: Logger },
): Promise<SimulatedAuthority> {
  const opened = await openSimulatedAuthority(join(dir, SIM_AUTHORITY_FILE), nodeSimAuthorityFileSystem, {
    clock: deps.clock,
  });
  if (opened.created)
    deps.log.info("created a simulated TEE authority", { simDir: dir, arkKeyDigest: opened.authority.arkKeyDigest });
  return opened.authority;
}

/** How long one CRL of the simulated ARK is reused; it is valid from an hour before to 7 days after it is made. */
const SIM_CRL_REUSE_MS = 3_600_000;

/**
 * The authority with its CRL made at most once an hour: every aTLS handshake's evidence carries
 * the CRL, and signing one with the 4096-bit ARK costs more than the rest of the handshake.
 */
export function withCachedCrl(authority: SimulatedAuthority): SimulatedAuthority {
  let cached: { readonly at: number; readonly crl: Uint8Array } | undefined;
  return {
    ...authority,
    crl(options) {
      if (options.revokeAsk === true) return authority.crl(options);
      const at = options.now.getTime();
      if (cached === undefined || at < cached.at || at - cached.at >= SIM_CRL_REUSE_MS) {
        cached = { at, crl: authority.crl(options) };
      }
      return cached.crl;
    },
  };
}
