import type { Outcome } from "../command-spec.js";
import { type CompletionShell, completionScript } from "../completion.js";
import type { Context } from "../context.js";
import { GLOBAL_FLAGS, GROUPS } from "../global-flags.js";
import { SPECS } from "../specs.js";

/** Prints the script on stdout (text), or as the document's `script` field (json). */
export async function completion(ctx: Context, shell: string): Promise<Outcome> {
  const script = completionScript(shell as CompletionShell, {
    groups: GROUPS,
    specs: SPECS,
    globalFlags: GLOBAL_FLAGS,
  });
  ctx.out.raw(script);
  return { ok: true, fields: { shell, script } };
}
