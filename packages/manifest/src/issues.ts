import type { ManifestIssueCode } from "./issue-codes.js";

/**
 * How bad a finding is. `expected-missing` marks values that a user must fill in for their own
 * hardware (bare-metal TCB versions, the TDX module's MRSEAM): the manifest is incomplete, not
 * wrong, and commands such as `generate` continue with a notice.
 */
export type IssueSeverity = "error" | "expected-missing" | "warning";

export type { ManifestIssueCode } from "./issue-codes.js";

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
