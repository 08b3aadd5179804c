/**
 * How bad a finding is. `expected-missing` marks values that a user must fill in for their own
 * hardware (bare-metal TCB versions, the TDX module's MRSEAM): the manifest is incomplete, not
 * wrong, and commands such as `generate` continue with a notice.
 */
export type IssueSeverity = "error" | "expected-missing" | "warning";

export type ManifestIssueCode =
  | "MANIFEST_JSON_INVALID"
  | "MANIFEST_WRONG_TYPE"
  | "MANIFEST_UNKNOWN_FIELD"
  | "MANIFEST_NUMBER_OUT_OF_RANGE"
  | "MANIFEST_HEX_INVALID"
  | "MANIFEST_HEX_WRONG_LENGTH"
  | "MANIFEST_HEX_NOT_LOWERCASE"
  | "MANIFEST_ARRAY_WRONG_LENGTH"
  | "MANIFEST_VALUE_REQUIRED"
  | "MANIFEST_VALUE_EXPECTED_MISSING"
  | "MANIFEST_ROLE_INVALID"
  | "MANIFEST_PRODUCT_NAME_UNKNOWN"
  | "MANIFEST_GUEST_POLICY_INSECURE"
  | "MANIFEST_GUEST_POLICY_UNUSUAL"
  | "MANIFEST_TD_ATTRIBUTES_INSECURE"
  | "MANIFEST_TD_ATTRIBUTES_UNUSUAL"
  | "MANIFEST_REFERENCE_VALUES_EMPTY"
  | "MANIFEST_SAN_INVALID"
  | "MANIFEST_SEEDSHARE_KEY_INVALID"
  | "MANIFEST_SIMULATED_TEE"
  | "MANIFEST_SIMULATED_MIXED_WITH_HARDWARE";

export interface ManifestIssue {
  readonly code: ManifestIssueCode;
  readonly severity: IssueSeverity;
  /** JSON path of the offending value, e.g. `ReferenceValues.snp[0].MinimumTCB.TEEVersion`. */
  readonly path: string;
  readonly message: string;
  readonly hint: string;
}

export function hasErrors(issues: readonly ManifestIssue[]): boolean {
  return issues.some((i) => i.severity === "error");
}

/** `path: message`, the form upstream prints and users grep for. */
export function formatIssue(issue: ManifestIssue): string {
  return `${issue.path}: ${issue.message}`;
}
