import { ContrastError } from "@contrast/core";
import { emptyGuestPolicy, type SimReferenceValues } from "./types.js";

export type PlatformId =
  | "aks-clh-snp"
  | "k3s-qemu-tdx"
  | "k3s-qemu-snp"
  | "k3s-qemu-snp-gpu"
  | "rke2-qemu-tdx"
  | "metal-qemu-snp"
  | "metal-qemu-tdx"
  | "metal-qemu-snp-gpu"
  | "sim";

export type TeeType = "snp" | "tdx" | "sim";

export interface Platform {
  /** The `--reference-values` value and the handler infix, lower case. */
  readonly id: PlatformId;
  /** Canonical spelling, as in the `contrast.edgeless.systems/platform` annotation. */
  readonly name: string;
  readonly tee: TeeType;
  readonly hypervisor: "cloud-hypervisor" | "qemu" | "none";
  readonly gpu: boolean;
  /** Which genpolicy flavour upstream uses; ours reproduces its output. */
  readonly genpolicy: "microsoft" | "kata";
  /** RuntimeClass `overhead.podFixed.memory` in MiB. */
  readonly podOverheadMiB: number;
  /** True only for the simulated TEE. Every consumer that trusts it must say so. */
  readonly simulated: boolean;
}

const hw = (
  id: Exclude<PlatformId, "sim">,
  name: string,
  tee: "snp" | "tdx",
  hypervisor: "cloud-hypervisor" | "qemu",
  gpu: boolean,
  genpolicy: "microsoft" | "kata",
  podOverheadMiB: number,
): Platform => ({ id, name, tee, hypervisor, gpu, genpolicy, podOverheadMiB, simulated: false });

/** The eight platforms of Contrast v1.5, then the simulated TEE. */
export const PLATFORMS: readonly Platform[] = Object.freeze([
  hw("aks-clh-snp", "AKS-CLH-SNP", "snp", "cloud-hypervisor", false, "microsoft", 256),
  hw("k3s-qemu-tdx", "K3s-QEMU-TDX", "tdx", "qemu", false, "kata", 512),
  hw("k3s-qemu-snp", "K3s-QEMU-SNP", "snp", "qemu", false, "kata", 512),
  hw("k3s-qemu-snp-gpu", "K3s-QEMU-SNP-GPU", "snp", "qemu", true, "kata", 1024),
  hw("rke2-qemu-tdx", "RKE2-QEMU-TDX", "tdx", "qemu", false, "kata", 512),
  hw("metal-qemu-snp", "Metal-QEMU-SNP", "snp", "qemu", false, "kata", 512),
  hw("metal-qemu-tdx", "Metal-QEMU-TDX", "tdx", "qemu", false, "kata", 512),
  hw("metal-qemu-snp-gpu", "Metal-QEMU-SNP-GPU", "snp", "qemu", true, "kata", 1024),
  {
    id: "sim",
    name: "Sim-INSECURE",
    tee: "sim",
    hypervisor: "none",
    gpu: false,
    genpolicy: "kata",
    podOverheadMiB: 0,
    simulated: true,
  },
]);

/** Looks a platform up by id or canonical name, case-insensitively, as `--reference-values` does. */
export function parsePlatform(value: string): Platform {
  const wanted = value.trim().toLowerCase();
  const found = PLATFORMS.find((p) => p.id === wanted || p.name.toLowerCase() === wanted);
  if (found) return found;
  const suggestion = closest(
    wanted,
    PLATFORMS.map((p) => p.id),
  );
  throw new ContrastError("PLATFORM_UNKNOWN", `unknown platform ${JSON.stringify(value)}`, {
    hint:
      (suggestion === undefined ? "" : `Did you mean "${suggestion}"? `) +
      `Supported platforms: ${PLATFORMS.map((p) => p.id).join(", ")}.`,
    details: { platform: value },
  });
}

function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(input.length / 4));
  for (const c of candidates) {
    const d = editDistance(input, c);
    if (d <= bestDistance) {
      best = c;
      bestDistance = d - 1;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The label whose SHA-384 is the simulated TEE's launch measurement. */
export const SIM_MEASUREMENT_LABEL = "contrast simulated TEE: launch measurement v1";

/**
 * The launch measurement that the simulated TEE reports: SHA-384 of SIM_MEASUREMENT_LABEL (a
 * test checks the literal). It comes from a fixed label rather than from a guest image, because
 * there is no guest image: the simulator attests a process.
 */
export const SIM_TRUSTED_MEASUREMENT =
  "82f3858aa4e024b12efa6607526f2d604c74ab55129bf958fd2a7f6fdcecc7d989bb64627fd7cab2f32529fea14038b3";

/** The label whose SHA-256 is the simulated Coordinator's policy hash. */
export const SIM_COORDINATOR_POLICY_LABEL = "contrast simulated TEE: coordinator policy v1";

/**
 * The policy hash a Coordinator on the simulated TEE reports as HOST_DATA: SHA-256 of
 * SIM_COORDINATOR_POLICY_LABEL (a test checks the literal). A real Coordinator's HOST_DATA is the
 * hash of its pod's policy; a simulated one runs no pod, so a fixed label stands in, and a client
 * verifying it (the CLI's `--coordinator-policy-hash`) names this value.
 */
export const SIM_COORDINATOR_POLICY_HASH = "79437e1e6a3473e721650caa22358c9364e48c4dde511b1917b41e09c7d092ed";

/**
 * Reference values that accept the simulated TEE whose ARK has the given key digest (SHA-256 of
 * the ARK's PKIX public key). They live under `ReferenceValues.sim`, never under `snp`.
 */
export function simReferenceValues(arkKeyDigest: string): SimReferenceValues {
  return {
    ArkKeyDigest: arkKeyDigest,
    MinimumTCB: { BootloaderVersion: 0, TEEVersion: 0, SNPVersion: 0, MicrocodeVersion: 0 },
    ProductName: "Genoa",
    TrustedMeasurement: SIM_TRUSTED_MEASUREMENT,
    GuestPolicy: { ...emptyGuestPolicy(), SMT: true },
  };
}
