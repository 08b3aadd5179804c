import type { AttestationErrorCode } from "./error-codes.js";
import { AttestationPolicyError } from "./errors.js";

/** One field that differs from the expectations. */
export interface Mismatch<C extends string = string> {
  code: C;
  field: string;
  expected: string;
  actual: string;
}

/**
 * The manifest's rule for reference values: evidence is accepted if it matches any entry.
 * Returns the index of the first matching entry; otherwise throws a AttestationPolicyError that lists, per
 * entry, every field with its expected and actual value.
 */
export function acceptAny<E, C extends AttestationErrorCode>(
  entries: readonly E[],
  mismatches: (entry: E) => Mismatch<C>[],
  what: { evidence: string; tee: string },
): number {
  if (entries.length === 0) {
    throw new AttestationPolicyError(
      "ATTESTATION_NO_REFERENCE_VALUES",
      `no ${what.tee} reference values to validate against`,
      {
        hint: `The manifest has no ${what.tee.toLowerCase()} reference values for this platform.`,
      },
    );
  }
  const perEntry = entries.map(mismatches);
  const match = perEntry.findIndex((m) => m.length === 0);
  if (match >= 0) return match;
  const summary = (m: Mismatch<C>) => `${m.field}: expected ${m.expected}, got ${m.actual}`;
  const hint = `The ${what.evidence} is genuine but not what the manifest expects; check the reference values and the platform.`;
  if (entries.length === 1) {
    const all = perEntry[0] as Mismatch<C>[];
    throw new AttestationPolicyError(
      (all[0] as Mismatch<C>).code,
      `the ${what.evidence} does not match the reference values: ${all.map(summary).join("; ")}`,
      {
        hint,
        details: { mismatches: all },
      },
    );
  }
  throw new AttestationPolicyError(
    "ATTESTATION_NO_MATCHING_REFERENCE_VALUES",
    `the ${what.evidence} matches none of ${entries.length} reference value entries: ${perEntry.map((m, i) => `[${i}] ${m.map(summary).join("; ")}`).join(" | ")}`,
    { hint, details: { entries: perEntry.map((m, index) => ({ index, mismatches: m })) } },
  );
}
