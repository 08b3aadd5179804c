import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code the workload side reports: the initializer's configuration, its attempts to get
 * credentials from the Coordinator, and writing them. docs/errors.md is generated from this list.
 */
export const WORKLOAD_ERROR_CODES = [
  {
    code: "INITIALIZER_CONFIG_INVALID",
    kind: "input",
    meaning: "A flag or environment variable of the initializer has a value it cannot use.",
    hint: "Run contrast-initializer --help for the flags and the environment variables they read.",
  },
  {
    code: "INITIALIZER_COORDINATOR_HOST_REQUIRED",
    kind: "input",
    meaning: "The initializer does not know where the Coordinator is (upstream: COORDINATOR_HOST not set).",
    hint: "Set COORDINATOR_HOST (contrast generate injects it) or pass --coordinator-host.",
  },
  {
    code: "INITIALIZER_PLATFORM_UNKNOWN",
    kind: "input",
    meaning: "No platform was named and neither an SEV-SNP nor a TDX guest device is present.",
    hint: "Run in a confidential pod, or pass --platform snp, tdx or sim (sim is insecure, for tests).",
  },
  {
    code: "INITIALIZER_SIM_AUTHORITY_MISSING",
    kind: "input",
    meaning: "Platform sim: the simulated TEE's authority is not in the sim directory.",
    hint: "Start the Coordinator with the same --sim-dir first; it creates the authority the initializer signs with.",
  },
  {
    code: "INITIALIZER_SIM_POLICY_HASH_REQUIRED",
    kind: "input",
    meaning: "Platform sim: no policy hash for the simulated HOST_DATA was given.",
    hint: "Pass --sim-policy-hash <64 hex> (or CONTRAST_SIM_POLICY_HASH): the hash of the pod's policy in the manifest.",
  },
  {
    code: "INITIALIZER_RESPONSE_INVALID",
    kind: "crypto",
    meaning:
      "The Coordinator's NewMeshCert answer is unusable: a missing or malformed PEM, a leaf for another key, or a secret of the wrong size.",
    hint: "Check that COORDINATOR_HOST names the Coordinator of this deployment; the initializer keeps retrying.",
  },
  {
    code: "INITIALIZER_WRITE_FAILED",
    kind: "io",
    meaning: "A credential file could not be written; nothing partial is left behind.",
    hint: "Check that the output root (default /contrast, the contrast-secrets volume) is mounted and writable.",
  },
  {
    code: "INITIALIZER_STOPPED",
    kind: "io",
    meaning: "The initializer was stopped (SIGTERM or SIGINT) before it had its credentials; it wrote nothing.",
    hint: "Look at the log lines before it: they say why each attempt to get a certificate failed.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type WorkloadErrorCode = (typeof WORKLOAD_ERROR_CODES)[number]["code"];
