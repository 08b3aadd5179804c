import {
  CONTRAST_KATA_FACTS,
  CONTRAST_KATA_RUNTIME,
  CONTRAST_KATA_SETTINGS_PATCH,
  CONTRAST_KATA_UPSTREAM,
} from "./kata.js";
import type { ProfileDefinition } from "./types.js";

/**
 * The simulated TEE's local runtime (`contrast demo`). It presents pods to the agent decision
 * the way Contrast's QEMU runtime does, so that a policy that works in the demo is one that the
 * bare-metal platforms accept too; only the evidence is simulated.
 */
export const SIM_PROFILE: ProfileDefinition = {
  id: "sim",
  name: "Sim-INSECURE",
  flavour: "sim",
  description: "simulated TEE (contrast demo): presents pods as Contrast's QEMU runtime does; evidence is simulated",
  upstream: CONTRAST_KATA_UPSTREAM,
  facts: CONTRAST_KATA_FACTS,
  settingsPatch: CONTRAST_KATA_SETTINGS_PATCH,
  runtime: CONTRAST_KATA_RUNTIME,
  annotation: "agent-policy",
  tarfs: "kata",
};
