import { join } from "node:path";
import { nodeSimAuthorityFileSystem, openSimulatedAuthority } from "@contrast/attestation/testing";
import { ContrastError, systemClock } from "@contrast/core";
import { type Platform, type ReferenceValues, simReferenceValues } from "@contrast/manifest";

/** The simulated authority's file in the sim directory, as the Coordinator names it. */
export const SIM_AUTHORITY_FILE = "authority.json";

/**
 * The sim directory the Coordinator uses by default: --sim-dir, $CONTRAST_SIM_DIR,
 * $XDG_STATE_HOME/contrast/sim, ~/.local/state/contrast/sim.
 */
export function simDir(explicit: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const nonEmpty = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  const dir = explicit ?? nonEmpty(env.CONTRAST_SIM_DIR);
  if (dir !== undefined) return dir;
  const home = nonEmpty(env.HOME);
  const state = nonEmpty(env.XDG_STATE_HOME) ?? (home === undefined ? undefined : join(home, ".local/state"));
  if (state === undefined) {
    throw new ContrastError("CLI_SIM_DIR_UNSET", "no --sim-dir, CONTRAST_SIM_DIR, XDG_STATE_HOME or HOME is set", {
      hint: "Pass --sim-dir with the directory the Coordinator was started with (its --sim-dir).",
    });
  }
  return join(state, "contrast/sim");
}

/**
 * The ARK key digest of the simulated TEE in `dir`. A directory without an authority gets one,
 * created exactly as the Coordinator creates it on its first start (create-if-absent, so a
 * Coordinator starting at the same time ends up with the same one): then `generate` may run before
 * the Coordinator's first start and the manifest still names the authority it will use.
 */
export async function simArkKeyDigest(dir: string): Promise<{ digest: string; created: boolean }> {
  const { authority, created } = await openSimulatedAuthority(
    join(dir, SIM_AUTHORITY_FILE),
    nodeSimAuthorityFileSystem,
    {
      clock: systemClock,
    },
  );
  return { digest: authority.arkKeyDigest, created };
}

/**
 * The reference values a new manifest starts with. Upstream embeds each release's values; there
 * is no release of our runtime yet, so a hardware platform gets one entry of its TEE with the
 * values Contrast fixes (guest policy, TD attributes) and every measured value empty, to be
 * filled in ("Please fill in the reference values", docs/workload-deployment.md). The simulated
 * TEE's values are complete: they name the local authority's ARK.
 */
export function initialReferenceValues(platform: Platform, arkKeyDigest?: string): ReferenceValues {
  if (platform.tee === "sim") {
    if (arkKeyDigest === undefined) throw new Error("the sim platform needs the authority's ARK key digest");
    return { snp: [], tdx: [], sim: [simReferenceValues(arkKeyDigest)] };
  }
  if (platform.tee === "snp") {
    return {
      snp: [
        {
          MinimumTCB: { BootloaderVersion: null, TEEVersion: null, SNPVersion: null, MicrocodeVersion: null },
          ProductName: "",
          TrustedMeasurement: "",
          GuestPolicy: {
            // ABI 0.31 on AKS's firmware, 0.0 on bare metal; SMT on: how Contrast launches its VMs.
            ABIMinor: platform.id === "aks-clh-snp" ? 31 : 0,
            ABIMajor: 0,
            SMT: true,
            MigrateMA: false,
            Debug: false,
            SingleSocket: false,
            CXLAllowed: false,
            MemAES256XTS: false,
            RAPLDis: false,
            CipherTextHidingDRAM: false,
          },
        },
      ],
      tdx: [],
      sim: [],
    };
  }
  return {
    snp: [],
    tdx: [
      {
        MrTd: "",
        Rtrms: ["", "", "", ""],
        MinimumQeSvn: null,
        MinimumPceSvn: null,
        MinimumTeeTcbSvn: "",
        MrSeam: "",
        // SEPT_VE_DISABLE only: the attributes Contrast launches its TDs with.
        TdAttributes: "0000001000000000",
        Xfam: "",
      },
    ],
    sim: [],
  };
}
