import type { JsonPatchOperation } from "../settings/json-patch.js";
import { GUEST_PULL_FACTS, GUEST_PULL_SETTINGS_PATCH } from "./guest-pull.js";
import type { ProfileDefinition, ProfileFact } from "./types.js";

/**
 * Stock Kata Containers as its genpolicy ships: the base every other profile patches. Kept as a
 * profile of its own so that Kata's conformance tables and Kata's own rules.rego keep working
 * with our policy data.
 */
export const KATA_PROFILE: ProfileDefinition = {
  id: "kata",
  name: "Kata",
  flavour: "kata",
  description: "stock Kata Containers (genpolicy-settings.json of Kata main, 2026), no Contrast patches",
  upstream: { contrast: "none", kata: "main (2026)", genpolicy: "kata-containers/kata-containers main (2026)" },
  facts: [],
  settingsPatch: [],
  annotation: "agent-policy",
  tarfs: "kata",
};

/**
 * Contrast v1.5's runtime on the QEMU platforms (bare metal, K3s, RKE2): Kata with Contrast's
 * patches and production settings. Its differences from stock Kata are facts below.
 */
export const CONTRAST_KATA_FACTS: readonly ProfileFact[] = [...GUEST_PULL_FACTS];

/** The settings differences of CONTRAST_KATA_FACTS, as JSON-Patch operations. */
export const CONTRAST_KATA_SETTINGS_PATCH: readonly JsonPatchOperation[] = [...GUEST_PULL_SETTINGS_PATCH];

/** The same differences plus those of the GPU variants. */
export const CONTRAST_KATA_GPU_FACTS: readonly ProfileFact[] = [];
export const CONTRAST_KATA_GPU_SETTINGS_PATCH: readonly JsonPatchOperation[] = [];

/** The Contrast release and Kata tag the QEMU profiles model. */
export const CONTRAST_KATA_UPSTREAM = {
  contrast: "v1.5 (to be pinned)",
  kata: "3.13.0 or 3.14.0 (to be pinned)",
  genpolicy: "Kata genpolicy with Contrast's patches (to be pinned)",
} as const;

const qemu = (id: string, name: string, tee: "SEV-SNP" | "TDX", gpu: boolean): ProfileDefinition => ({
  id,
  name,
  flavour: "contrast-kata",
  description: `Contrast v1.5 runtime on ${name} (QEMU, ${tee}${gpu ? ", GPU" : ""}): Kata with Contrast's patches`,
  upstream: CONTRAST_KATA_UPSTREAM,
  facts: gpu ? [...CONTRAST_KATA_FACTS, ...CONTRAST_KATA_GPU_FACTS] : CONTRAST_KATA_FACTS,
  settingsPatch: gpu
    ? [...CONTRAST_KATA_SETTINGS_PATCH, ...CONTRAST_KATA_GPU_SETTINGS_PATCH]
    : CONTRAST_KATA_SETTINGS_PATCH,
  annotation: "agent-policy",
  tarfs: "kata",
});

/** The QEMU platforms of Contrast v1.5, in the order of @contrast/manifest's platform list. */
export const CONTRAST_KATA_PROFILES: readonly ProfileDefinition[] = [
  qemu("k3s-qemu-tdx", "K3s-QEMU-TDX", "TDX", false),
  qemu("k3s-qemu-snp", "K3s-QEMU-SNP", "SEV-SNP", false),
  qemu("k3s-qemu-snp-gpu", "K3s-QEMU-SNP-GPU", "SEV-SNP", true),
  qemu("rke2-qemu-tdx", "RKE2-QEMU-TDX", "TDX", false),
  qemu("metal-qemu-snp", "Metal-QEMU-SNP", "SEV-SNP", false),
  qemu("metal-qemu-tdx", "Metal-QEMU-TDX", "TDX", false),
  qemu("metal-qemu-snp-gpu", "Metal-QEMU-SNP-GPU", "SEV-SNP", true),
];
