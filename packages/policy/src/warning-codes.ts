/** One kind of warning `generatePolicies` returns with its result (PolicyWarning.code). */
export interface WarningCodeInfo {
  readonly code: string;
  readonly meaning: string;
  readonly hint: string;
}

/**
 * Every warning code of policy generation. Two are also error codes: the same condition is an
 * error by default and a warning when the caller relaxes it (`--allow-unsupported-fields`, rules
 * in a dialect the check does not enforce). docs/errors.md lists them (tools/errors-doc).
 */
export const POLICY_WARNING_CODES = [
  {
    code: "POLICY_UNSUPPORTED_FIELD",
    meaning: "A workload uses a field the policy generator does not support; the policy ignores it.",
    hint: "Remove the field, or check that the policy still describes the pod.",
  },
  {
    code: "POLICY_IMAGE_UNPINNED",
    meaning: "An image is referenced by tag: the policy pins the digest the tag resolves to now.",
    hint: "Pass --pin-images to write the digests into the YAML, so a moved tag does not stop the pod.",
  },
  {
    code: "POLICY_REGO_DIALECT",
    meaning: "The rules use a built-in or keyword the platform's agent lacks; it denies requests that reach it.",
    hint: 'Rewrite the rule (docs/rego.md, "Dialects").',
  },
] as const satisfies readonly WarningCodeInfo[];

export type PolicyWarningCode = (typeof POLICY_WARNING_CODES)[number]["code"];
