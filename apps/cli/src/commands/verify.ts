import { join } from "node:path";
import { bytesEqual, sha256Hex, toHex } from "@contrast/core";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { cliError } from "../coordinator/errors.js";
import { evidenceHint } from "../coordinator/hints.js";
import { openSession, type SessionFlags, withCoordinator } from "../coordinator/session.js";
import { FILES } from "../coordinator/workspace.js";
import { writeFileAtomically } from "../files.js";

export type VerifyOptions = SessionFlags;

/**
 * `contrast verify`: attests the Coordinator against the manifest's reference values, writes what
 * it serves into verify/ (its CAs, every manifest of its history, every policy), then checks that
 * the active manifest is byte for byte the local one. The files are written either way, so a
 * mismatch can be inspected.
 */
export async function verify(ctx: Context, opts: VerifyOptions): Promise<Outcome> {
  const { out } = ctx;
  const session = await openSession(ctx, opts);
  const res = await withCoordinator(ctx, session, undefined, (client, deadline) =>
    client.getManifests({}, { deadline }),
  ).catch((e: unknown) => {
    throw evidenceHint(e, session.policyHashes.source);
  });
  out.success("Successfully verified Coordinator CVM based on reference values from manifest");

  const dir = resolvePath(ctx, undefined, FILES.verifyDir);
  const files = { rootCa: join(dir, FILES.rootCa), meshCa: join(dir, FILES.meshCa) };
  await writeFileAtomically(files.rootCa, res.RootCA, 0o644);
  await writeFileAtomically(files.meshCa, res.MeshCA, 0o644);
  const manifests: string[] = [];
  for (const [i, m] of res.Manifests.entries()) {
    const file = join(dir, `manifest.${i}.json`);
    await writeFileAtomically(file, m, 0o644);
    manifests.push(file);
  }
  const policies: string[] = [];
  for (const p of res.Policies) {
    const file = join(dir, `policy.${sha256Hex(p)}.rego`);
    await writeFileAtomically(file, p, 0o644);
    policies.push(file);
  }
  let latestTransition: string | undefined;
  const transitionHash = res.LatestTransition?.TransitionHash;
  if (transitionHash !== undefined && transitionHash.length > 0) {
    latestTransition = join(dir, "latest-transition");
    await writeFileAtomically(latestTransition, toHex(transitionHash), 0o644);
  }
  out.info(`Wrote the Coordinator's CAs, ${manifests.length} manifest(s) and ${policies.length} policies to ${dir}`);

  const active = res.Manifests.at(-1);
  const fields = {
    coordinator: session.address.target,
    manifest: session.manifest.path,
    manifestHash: session.manifest.hash,
    directory: dir,
    files: { ...files, manifests, policies, ...(latestTransition === undefined ? {} : { latestTransition }) },
  };
  if (active === undefined || !bytesEqual(active, session.manifest.bytes)) {
    const index = res.Manifests.findIndex((m) => bytesEqual(m, session.manifest.bytes));
    const activeHash = active === undefined ? undefined : sha256Hex(active);
    const details = { ...fields, activeManifestHash: activeHash, historyLength: res.Manifests.length };
    if (index >= 0) {
      throw cliError(
        "CLI_VERIFY_MANIFEST_OUTDATED",
        `failed to verify Coordinator manifest: ${session.manifest.path} is manifest.${index}.json of ${res.Manifests.length} in the history, not the active one`,
        { details: { ...details, indexInHistory: index } },
      );
    }
    throw cliError(
      "CLI_VERIFY_MANIFEST_MISMATCH",
      `failed to verify Coordinator manifest: the active manifest (sha256 ${activeHash ?? "none"}) is not ${session.manifest.path}, nor is any of the ${res.Manifests.length} in its history`,
      { details },
    );
  }
  out.success("Manifest active at Coordinator matches expected manifest");
  out.info("Please verify the manifest history and policies");
  return { ok: true, fields: { ...fields, historyLength: res.Manifests.length } };
}
