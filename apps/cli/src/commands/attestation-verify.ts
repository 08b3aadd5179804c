import type { Outcome } from "../command-spec.js";
import type { Context } from "../context.js";
import { type AttestationVerifyOptions, hexOption, parseNow, usage } from "./attestation/options.js";
import { snpVerify } from "./attestation/snp.js";
import { tdxVerify } from "./attestation/tdx.js";

export type { AttestationVerifyOptions } from "./attestation/options.js";

/**
 * `contrast attestation verify`: verifies captured evidence offline and prints its claims.
 * Broken evidence fails with an EvidenceError (exit 1); genuine evidence that does not match the
 * reference values fails with an AttestationPolicyError (kind policy: exit 2).
 */
export async function attestationVerify(
  ctx: Context,
  evidenceFile: string,
  opts: AttestationVerifyOptions,
): Promise<Outcome> {
  const now = parseNow(opts.now);
  const reportData = hexOption("--report-data", opts.reportData, 64);
  const hostData = hexOption("--host-data", opts.hostData, 32);
  if ((reportData !== undefined || hostData !== undefined) && opts.referenceValues === undefined) {
    throw usage(
      "--report-data and --host-data need --reference-values",
      "Pass the manifest whose reference values apply.",
    );
  }
  return opts.platform === "tdx"
    ? tdxVerify(ctx, evidenceFile, opts, now, reportData, hostData)
    : snpVerify(ctx, evidenceFile, opts, now, reportData, hostData);
}
