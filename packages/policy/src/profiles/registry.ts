import { DEFAULT_RULES } from "../default-rules.js";
import { PolicyError } from "../errors.js";
import { DEFAULT_SETTINGS } from "../settings/defaults.js";
import { applyJsonPatch } from "../settings/json-patch.js";
import { validateSettings } from "../settings/load.js";
import { CONTRAST_KATA_PROFILES, KATA_PROFILE } from "./kata.js";
import { AKS_PROFILE } from "./microsoft.js";
import { SIM_PROFILE } from "./sim.js";
import type { PolicyProfile, ProfileDefinition } from "./types.js";

const DEFINITIONS: readonly ProfileDefinition[] = [AKS_PROFILE, ...CONTRAST_KATA_PROFILES, SIM_PROFILE, KATA_PROFILE];

/**
 * The platform `contrast policy generate` uses when none is given. Upstream's `generate` has no
 * default (`--reference-values` is required); ours picks the bare-metal SEV-SNP runtime, the
 * platform every newer Contrast release still ships, and says so in its output.
 */
export const DEFAULT_POLICY_PLATFORM = "metal-qemu-snp";

function build(def: ProfileDefinition): PolicyProfile {
  const settings = validateSettings(
    applyJsonPatch(DEFAULT_SETTINGS, def.settingsPatch, `profile ${def.id}`),
    `profile ${def.id} settings`,
  );
  return Object.freeze({
    id: def.id,
    name: def.name,
    flavour: def.flavour,
    description: def.description,
    upstream: def.upstream,
    facts: def.facts,
    settings,
    rules: DEFAULT_RULES,
    runtime: { ociVersion: settings.kata_config.oci_version, ...def.runtime },
    annotation: def.annotation,
    tarfs: def.tarfs,
  });
}

let built: readonly PolicyProfile[] | undefined;

/**
 * Every profile: the eight platforms of Contrast v1.5, the simulated TEE, and stock Kata. Built
 * on first use, as applying the patches costs a deep copy of the settings each.
 */
export function policyProfiles(): readonly PolicyProfile[] {
  built ??= Object.freeze(DEFINITIONS.map(build));
  return built;
}

/** A profile by platform id or canonical name, case-insensitively (as `--reference-values`). */
export function policyProfile(platform: string = DEFAULT_POLICY_PLATFORM): PolicyProfile {
  const wanted = platform.trim().toLowerCase();
  const found = policyProfiles().find((p) => p.id === wanted || p.name.toLowerCase() === wanted);
  if (found !== undefined) return found;
  throw new PolicyError("POLICY_PLATFORM_UNKNOWN", `no policy profile for platform ${JSON.stringify(platform)}`, {
    hint: `Known platforms: ${policyProfiles()
      .map((p) => p.id)
      .join(", ")}.`,
    details: { platform },
  });
}
