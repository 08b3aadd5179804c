import { fromUtf8 } from "@contrast/core";
import { parseSeedShareDocument } from "@contrast/manifest";
import { recoverSeed } from "@contrast/mesh-pki";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { evidenceHint } from "../coordinator/hints.js";
import { openSession, type SessionFlags, withCoordinator } from "../coordinator/session.js";
import { FILES, readSeedShareOwnerKey } from "../coordinator/workspace.js";
import { readBounded } from "../files.js";

export interface RecoverOptions extends SessionFlags {
  readonly seedshareOwnerKey?: string;
  readonly seed?: string;
  /** Accepted for compatibility with upstream's flags; recovery is authorised by the seed share owner key. */
  readonly workloadOwnerKey?: string;
  readonly force?: boolean;
}

/**
 * `contrast recover`: decrypts this owner's seed share, attests the Coordinator against the
 * manifest's reference values and sends it the seed and salt, connecting with the seed share
 * owner key as the client certificate's key (the Coordinator authorises recovery by it).
 */
export async function recover(ctx: Context, opts: RecoverOptions): Promise<Outcome> {
  const { out } = ctx;
  const session = await openSession(ctx, opts);
  const key = await readSeedShareOwnerKey(resolvePath(ctx, opts.seedshareOwnerKey, FILES.seedShareOwnerKey));
  const seedPath = resolvePath(ctx, opts.seed, FILES.seedShares);
  const doc = parseSeedShareDocument(
    fromUtf8(await readBounded(seedPath, 4 * 1024 * 1024, "seed share file")),
    seedPath,
  );
  const { seed, salt } = recoverSeed(doc, key);
  await withCoordinator(ctx, session, key, (client, deadline) =>
    client.recover({ Seed: seed, Salt: salt, Force: opts.force === true }, { deadline }),
  ).catch((e: unknown) => {
    throw evidenceHint(e, session.policyHashes.source);
  });
  out.success("Successfully recovered the Coordinator");
  out.info(
    "The mesh CA changed: restart the workloads so they get certificates from the new one, and run `contrast verify`.",
  );
  return {
    ok: true,
    fields: { coordinator: session.address.target, manifest: session.manifest.path, force: opts.force === true },
  };
}
