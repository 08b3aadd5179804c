import { ContrastError } from "@contrast/core";
import { formatIssue, type ManifestIssue } from "./issues.js";

/** A manifest that cannot be used. `issues` lists every problem, not only the first. */
export class ManifestError extends ContrastError<"MANIFEST_INVALID"> {
  readonly issues: readonly ManifestIssue[];

  constructor(issues: readonly ManifestIssue[], source?: string) {
    const errors = issues.filter((i) => i.severity === "error");
    const first = errors[0];
    super(
      "MANIFEST_INVALID",
      `${source === undefined ? "manifest" : source} is invalid: ${errors.length} error${errors.length === 1 ? "" : "s"}` +
        (first ? `; first: ${formatIssue(first)}` : ""),
      {
        hint: "Run `contrast manifest validate` to list every problem with a hint.",
        details: { issues },
      },
    );
    this.issues = issues;
  }
}
