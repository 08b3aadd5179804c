import { MANIFEST_MAX_BYTES, type ManifestIssue, parseManifest } from "@contrast/manifest";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { readBounded } from "../files.js";

export interface ManifestValidateOptions {
  readonly strict?: boolean;
}

const MANIFEST_FILE = "manifest.json";

/**
 * Prints every finding with its code and hint. A negative verdict (exit 2) when there are errors
 * (or, with --strict, any finding at all); expected-missing values and warnings are reported but
 * pass. A manifest that cannot be read at all is an error (exit 1).
 */
export async function manifestValidate(
  ctx: Context,
  file: string | undefined,
  opts: ManifestValidateOptions,
): Promise<Outcome> {
  const path = resolvePath(ctx, file, MANIFEST_FILE);
  ctx.log.debug("reading manifest", { path });
  const bytes = await readBounded(path, MANIFEST_MAX_BYTES, "manifest");
  const result = parseManifest(bytes, { source: path });
  const count = (s: ManifestIssue["severity"]) => result.issues.filter((i) => i.severity === s).length;
  const summary = { errors: count("error"), warnings: count("warning"), expectedMissing: count("expected-missing") };
  const ok = summary.errors === 0 && (!opts.strict || result.issues.length === 0);
  const { out } = ctx;
  const outcome = {
    ok,
    fields: { file: path, hash: result.hash, canonical: result.canonical, summary, issues: result.issues },
  };
  if (out.json) return outcome;

  const label = file ?? (ctx.workspaceDir === undefined ? MANIFEST_FILE : path);
  for (const issue of result.issues) {
    const tag =
      issue.severity === "error"
        ? out.style("red", "error")
        : issue.severity === "warning"
          ? out.style("yellow", "warning")
          : out.style("cyan", "missing");
    out.info(`${tag} ${issue.code} ${out.style("bold", issue.path)}: ${issue.message}`);
    out.info(`  ${out.style("dim", `hint: ${issue.hint}`)}`);
  }
  if (summary.expectedMissing > 0) {
    out.warn(
      `${summary.expectedMissing} reference value${summary.expectedMissing === 1 ? "" : "s"} must be filled in for your platform before the manifest is set`,
    );
  }
  if (result.manifest !== undefined && !result.canonical && summary.errors === 0) {
    out.info(
      out.style(
        "dim",
        "note: the file is not in canonical form; the Coordinator hashes the file as it is, so this is harmless.",
      ),
    );
  }
  const counts = `${plural(summary.errors, "error")}, ${plural(summary.warnings, "warning")}, ${summary.expectedMissing} expected-missing`;
  if (ok) out.success(`${label} is valid (${counts}; sha256 ${result.hash})`);
  else out.problem(`${label} is invalid (${counts})`);
  return outcome;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
