import type { FlagSpec } from "../command-spec.js";

/** The flags set, verify and recover share, as upstream names them. */
export const COORDINATOR_FLAG: FlagSpec = {
  flags: "-c, --coordinator <host:port>",
  description: "the Coordinator's user API, e.g. 203.0.113.7:1313 (required)",
  doc: "**required**: the Coordinator's user API as `host:port` (the LoadBalancer IP and port 1313); IPv6 in brackets",
};

export const MANIFEST_FLAG: FlagSpec = {
  flags: "-m, --manifest <file>",
  description: "the manifest",
  default: "manifest.json",
  workspaceFile: true,
};

export const COORDINATOR_POLICY_HASH_FLAG: FlagSpec = {
  flags: "--coordinator-policy-hash <hex>",
  description:
    "the policy hash the Coordinator's evidence must carry (HOST_DATA); default: this build's for the platform",
  doc: "the policy hash (64 hex characters) the Coordinator's evidence must carry as HOST_DATA (TDX: MRCONFIGID); default: this build's value for the manifest's TEE (`sim`: `SIM_COORDINATOR_POLICY_HASH`; hardware: none yet, so required) and the manifest's `Role: coordinator` policies",
};

export const timeoutFlag = (seconds: number, upstream: string): FlagSpec => ({
  flags: "--timeout <seconds>",
  description: "how long to retry while the Coordinator is unreachable",
  doc: `how long to keep trying every second while the Coordinator cannot be reached (${upstream})`,
  default: String(seconds),
});
