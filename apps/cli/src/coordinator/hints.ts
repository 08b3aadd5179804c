import { ContrastError, isContrastError } from "@contrast/core";

/**
 * A Coordinator whose evidence is genuine but carries another policy hash (HOST_DATA / MRCONFIGID)
 * runs another Coordinator version or configuration; upstream appends this hint to such errors.
 */
export function evidenceHint(e: unknown, hashSource: "flag" | "default"): unknown {
  if (!isContrastError(e) || e.code !== "ATLS_HOST_DATA_NOT_ALLOWED") return e;
  return new ContrastError(e.code, `the Coordinator's ${e.message}`, {
    kind: e.kind,
    cause: e,
    hint:
      hashSource === "flag"
        ? "The Coordinator did not match the expectations: check --coordinator-policy-hash against the Coordinator you deployed."
        : "The Coordinator did not match the expectations: is its version this CLI's? Pass --coordinator-policy-hash for another Coordinator.",
    ...(e.details === undefined ? {} : { details: e.details }),
  });
}
