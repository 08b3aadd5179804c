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
] as const satisfies readonly WarningCodeInfo[];

export type CliWarningCode = (typeof CLI_WARNING_CODES)[number]["code"];
