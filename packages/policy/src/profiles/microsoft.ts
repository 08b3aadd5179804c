import type { JsonPatchOperation } from "../settings/json-patch.js";
import type { ProfileDefinition, ProfileFact } from "./types.js";

/** AKS-CLH-SNP's differences from stock Kata: Microsoft's genpolicy fork and Contrast's patches. */
export const AKS_FACTS: readonly ProfileFact[] = [];

export const AKS_SETTINGS_PATCH: readonly JsonPatchOperation[] = [];

/**
 * Contrast v1.5 on AKS (Cloud Hypervisor, SEV-SNP): layers through the tardev snapshotter,
 * policies from Microsoft's genpolicy fork.
 */
export const AKS_PROFILE: ProfileDefinition = {
  id: "aks-clh-snp",
  name: "AKS-CLH-SNP",
  flavour: "microsoft",
  description:
    "Contrast v1.5 runtime on AKS (Cloud Hypervisor, SEV-SNP): Microsoft's Kata fork with Contrast's patches",
  upstream: {
    contrast: "v1.5 (to be pinned)",
    kata: "microsoft/kata-containers (to be pinned)",
    genpolicy: "Microsoft's genpolicy fork (to be pinned)",
  },
  facts: AKS_FACTS,
  settingsPatch: AKS_SETTINGS_PATCH,
  annotation: "agent-policy",
  tarfs: "microsoft",
};
