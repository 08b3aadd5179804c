import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code the CLI itself reports (the libraries' codes are in their own registries). Some
 * predate the prefix rule and sit under another package's prefix; they are listed as whole-code
 * exceptions in tools/errors-doc, because users match on them and they do not change.
 * docs/errors.md is generated from this list.
 */
export const CLI_ERROR_CODES = [
  {
    code: "CLI_USAGE",
    kind: "input",
    meaning: "The command line is wrong: an unknown command or option, a missing argument, an invalid value.",
    hint: "Run `contrast --help` or `contrast <command> --help` for usage.",
  },
  {
    code: "CERT_CHAIN_INVALID",
    kind: "input",
    meaning: "The certificate chain file does not hold the expected certificates (ASK or ASVK, then ARK).",
    hint: "Pass the cert_chain file in AMD's KDS format, or the simulated TEE's chain.",
  },
  {
    code: "FILE_TOO_LARGE",
    kind: "input",
    meaning: "A file is larger than any file of its kind can be (or is a device such as /dev/zero).",
    hint: "Check that the right file was passed.",
  },
  {
    code: "POLICY_NO_INPUT",
    kind: "input",
    meaning: "`policy generate` found no .yml or .yaml file in the paths it was given.",
    hint: "Pass Kubernetes YAML files, or directories that contain some.",
  },
  {
    code: "POLICY_UNRECOGNISED",
    kind: "input",
    meaning:
      "`policy check` was given a policy that is neither Rego, an annotation value, initdata nor YAML with a policy.",
    hint: "Pass a .rego file, the policy or initdata annotation's value, an initdata .toml file, or a YAML file that carries one.",
  },
  {
    code: "REFERENCE_VALUES_INVALID",
    kind: "input",
    meaning: "The reference values given to `attestation verify` are invalid or have no entry for the platform.",
    hint: "Run `contrast manifest validate` on the file; expected-missing values must be filled in to verify.",
  },
  // contrast generate
  {
    code: "CLI_PATH_NOT_FOUND",
    kind: "io",
    meaning: "A file or directory named on the command line does not exist.",
    hint: "Pass existing YAML files or directories.",
  },
  {
    code: "CLI_GENERATE_NO_CONFIDENTIAL_WORKLOAD",
    kind: "input",
    meaning: "`generate` found YAML files, but none mentions the `contrast-cc` runtime class.",
    hint: "Set `runtimeClassName: contrast-cc` in the pod spec of every workload that should run confidentially.",
  },
  {
    code: "CLI_GENERATE_NAME_MISSING",
    kind: "input",
    meaning: "A confidential workload has no metadata.name; its mesh certificate is issued for its name.",
    hint: "Give every workload a metadata.name.",
  },
  {
    code: "CLI_GENERATE_ROLE_INVALID",
    kind: "input",
    meaning: 'The pod-role annotation is neither empty nor "coordinator".',
    hint: 'Remove the annotation, or set it to "coordinator" on the Coordinator\'s pod template only.',
  },
  {
    code: "CLI_GENERATE_POLICY_COLLISION",
    kind: "input",
    meaning: "Two workloads of the same name have the same policy hash (upstream's collision rule).",
    hint: "Rename one of the two workloads, or remove the duplicate resource.",
  },
  {
    code: "CLI_GENERATE_MANIFEST_INVALID",
    kind: "input",
    meaning: "The manifest `generate` would update (or write) has errors other than values to fill in.",
    hint: "Run `contrast manifest validate` for every finding and fix them, or move the file away to start anew.",
  },
  {
    code: "CLI_GENERATE_RESOURCES_INVALID",
    kind: "input",
    meaning:
      "The resources have errors `generate` cannot patch around (service-mesh annotations, volumes); all are listed.",
    hint: "Fix every listed entry (the details name the resource and the entry) and run generate again.",
  },
  {
    code: "CLI_KEY_FILE_MISSING",
    kind: "io",
    meaning: "An owner key file named with -w or --add-seedshare-owner-key does not exist.",
    hint: "Check the path; a missing key is created only when it is the only one of its kind named.",
  },
  {
    code: "CLI_SIM_DIR_UNSET",
    kind: "input",
    meaning: "`--reference-values sim` needs the simulated TEE's directory, and no default could be derived.",
    hint: "Pass --sim-dir with the Coordinator's --sim-dir.",
  },
  // contrast set / verify / recover: talking to a Coordinator.
  {
    code: "CLI_COORDINATOR_ADDRESS_INVALID",
    kind: "input",
    meaning: "The --coordinator value is not host:port.",
    hint: "Pass the Coordinator's user API as host:port, e.g. `contrast set -c 203.0.113.7:1313 resources/`.",
  },
  {
    code: "CLI_COORDINATOR_UNREACHABLE",
    kind: "io",
    meaning: "The Coordinator could not be reached (or did not finish a handshake) before the timeout.",
    hint: "Check the address and that the Coordinator pod is running (`kubectl get pods`); raise --timeout if it is still starting.",
  },
  {
    code: "CLI_COORDINATOR_POLICY_HASH_INVALID",
    kind: "input",
    meaning: "--coordinator-policy-hash is not 32 bytes of hex.",
    hint: "Pass the Coordinator's policy hash: 64 hex characters, as printed for the release's Coordinator.",
  },
  {
    code: "CLI_COORDINATOR_POLICY_HASH_UNKNOWN",
    kind: "input",
    meaning: "No Coordinator policy hash is known for the manifest's platform, and none was given.",
    hint: "Pass --coordinator-policy-hash with the hash of the Coordinator you deployed.",
  },
  {
    code: "CLI_RELEASE_INVALID",
    kind: "internal",
    meaning: "The release embedded in this build of the CLI (release.json) is malformed.",
    hint: "Render the release again with `pnpm release:render`; it writes and embeds a valid release.json.",
  },
  {
    code: "CLI_SET_POLICY_NOT_IN_MANIFEST",
    kind: "input",
    meaning: "A workload's policy in the YAML is not in the manifest's Policies.",
    hint: "Run `contrast generate` on the same files again, then `contrast set` with them.",
  },
  {
    code: "CLI_SET_POLICY_COUNT_MISMATCH",
    kind: "input",
    meaning: "The manifest names policies that no workload in the YAML carries.",
    hint: "Pass every file `contrast generate` was run on, or run `contrast generate` on these files again.",
  },
  {
    code: "CLI_VERIFY_MANIFEST_MISMATCH",
    kind: "policy",
    meaning:
      "The manifest active at the Coordinator is not the local manifest, and the local one is not in its history.",
    hint: "The Coordinator runs another deployment's manifest: check --coordinator and --manifest, and the files in verify/.",
  },
  {
    code: "CLI_VERIFY_MANIFEST_OUTDATED",
    kind: "policy",
    meaning: "The local manifest is in the Coordinator's history, but a later manifest is active.",
    hint: "Someone set a newer manifest: review the last verify/manifest.<i>.json; use it, or `contrast set` yours again.",
  },
  // contrast demo
  {
    code: "CLI_DEMO_DIR_NOT_EMPTY",
    kind: "input",
    meaning: "The demo's --dir exists, is not empty and was not made by an earlier demo run.",
    hint: "Pass --dir with a new or empty directory; the demo only empties directories it made itself.",
  },
  {
    code: "CLI_DEMO_SOURCE_NOT_FOUND",
    kind: "input",
    meaning: "The demo found no built contrast checkout: no pnpm-workspace.yaml above the CLI, or an app is not built.",
    hint: "Run `pnpm build` in the checkout (or `pnpm demo`, which builds first), or pass --source-dir with it.",
  },
  {
    code: "CLI_DEMO_TOOL_MISSING",
    kind: "input",
    meaning: "A program the demo's runtime needs (unshare, nsenter, ip, iptables) is not installed.",
    hint: "Install util-linux, iproute2 and iptables (Debian and Ubuntu: apt-get install util-linux iproute2 iptables).",
  },
  {
    code: "CLI_DEMO_USERNS_UNAVAILABLE",
    kind: "io",
    meaning: "Without root the demo needs an unprivileged user namespace, and the kernel or unshare refused one.",
    hint: "Run the demo as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also kernel.apparmor_restrict_unprivileged_userns=0).",
  },
  {
    code: "CLI_DEMO_POD_NOT_READY",
    kind: "io",
    meaning: "A pod of the demo did not reach the state the step waits for (started, initialised, ready) in time.",
    hint: "Read the pod's container logs under <dir>/cluster/pods/ (named in the details); raise --step-timeout on a slow machine.",
  },
  {
    code: "CLI_DEMO_CHECK_FAILED",
    kind: "internal",
    meaning:
      "Something the demo shows did not hold: a request through the mesh, a refusal, a blocked pod, the recovery, a certificate chain.",
    hint: "This is a bug of contrast or of the demo's runtime: report it with the message, the details and <dir>/cluster/pods/*/*.log.",
  },
  {
    code: "CLI_DEMO_INTERRUPTED",
    kind: "io",
    meaning: "The demo was stopped by a signal (Ctrl-C, SIGTERM); it removed its processes and namespaces.",
    hint: "Run `contrast demo` again; it starts over in the same --dir.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number]["code"];

/** One kind of warning the CLI gives: in text on stderr, in `--output json` under `warnings`. */
export interface WarningCodeInfo {
  readonly code: string;
  readonly meaning: string;
  readonly hint: string;
}

/**
 * The CLI's own warning codes (the libraries' warnings and findings are in their registries).
 * A script can branch on them, e.g. refuse a verification whose revocation was not checked.
 */
export const CLI_WARNING_CODES = [
  {
    code: "CLI_EVIDENCE_SIMULATED",
    meaning: "The evidence comes from the simulated TEE: it proves nothing about confidentiality or integrity.",
    hint: "Use simulated evidence for development, tests and demos only.",
  },
  {
    code: "CLI_REVOCATION_UNCHECKED",
    meaning: "Evidence was verified without a CRL: a revoked key or intermediate would not be noticed.",
    hint: "Pass the CRL (SNP: --crl or --collateral; TDX: complete collateral, or --fetch-collateral).",
  },
  {
    code: "CLI_COLLATERAL_MISSING",
    meaning: "A TDX quote was verified without collateral: its TCB status, QE identity and revocation are unchecked.",
    hint: "Pass --collateral, --collateral-dir or --fetch-collateral.",
  },
  {
    code: "CLI_POLICY_ALLOWS_FAILURES",
    meaning: "The policy sets AllowRequestsFailingPolicy: the agent lets every denied request through.",
    hint: "Remove the setting outside debugging; denials are reported as bypassed.",
  },
  // contrast generate
  {
    code: "CLI_REFERENCE_VALUES_TO_FILL",
    meaning:
      "The manifest's reference values have empty fields for the user's hardware (upstream: \"Please fill in the reference values\").",
    hint: "Fill in the listed fields (docs/workload-deployment.md); `contrast manifest validate` lists them with hints.",
  },
  {
    code: "CLI_SIM_AUTHORITY_MISMATCH",
    meaning: "The manifest trusts a simulated TEE other than the one in the sim directory a local Coordinator uses.",
    hint: "Move manifest.json away and run generate again, or pass the Coordinator's --sim-dir.",
  },
  {
    code: "CLI_GENERATE_NO_COORDINATOR",
    meaning: "No workload has the pod-role coordinator annotation: the deployment has no Coordinator.",
    hint: "Add the Coordinator's resources to the paths given to generate.",
  },
  // contrast set / verify / recover.
  {
    code: "CLI_WORKLOAD_OWNER_KEY_MISSING",
    meaning: "`contrast set` found no workload owner key file and connects with a fresh key instead.",
    hint: "Only the first manifest can be set without the key; later updates need the workload-owner.pem of the manifest.",
  },
  {
    code: "CLI_MANIFEST_NO_OWNER_KEYS",
    meaning: "The manifest lists no workload owner key: once it is set, the Coordinator refuses every update.",
    hint: "Run `contrast generate` without --disable-updates (or with -w <key>) if the deployment must be updatable.",
  },
  {
    code: "CLI_WORKLOAD_OWNER_KEY_NOT_IN_MANIFEST",
    meaning: "The workload owner key is not listed in the manifest: after this set, it can no longer update.",
    hint: "Add the key's digest with `contrast generate -w <key.pem>`, or keep another listed key safe.",
  },
] as const satisfies readonly WarningCodeInfo[];

export type CliWarningCode = (typeof CLI_WARNING_CODES)[number]["code"];
