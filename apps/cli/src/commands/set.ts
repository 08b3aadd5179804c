import { ContrastError, isContrastError, utf8 } from "@contrast/core";
import {
  type SeedShareDocument,
  SIM_COORDINATOR_POLICY_HASH,
  SIM_COORDINATOR_POLICY_LABEL,
  serializeSeedShareDocument,
} from "@contrast/manifest";
import { workloadOwnerKeyDigest } from "@contrast/mesh-pki";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { cliError } from "../coordinator/errors.js";
import { evidenceHint } from "../coordinator/hints.js";
import { openSession, type SessionFlags, withCoordinator } from "../coordinator/session.js";
import { FILES, readWorkloadOwnerKey } from "../coordinator/workspace.js";
import { type WorkloadPolicy, workloadPolicies, yamlFiles } from "../coordinator/yaml-policies.js";
import { writeFileAtomically } from "../files.js";

export interface SetOptions extends SessionFlags {
  readonly workloadOwnerKey?: string;
}

/**
 * `contrast set`: checks the YAML's policies against the manifest, attests the Coordinator against
 * the manifest's reference values and sets the manifest (its exact bytes) with every policy it
 * names. Writes the Coordinator's root and mesh CA, and the seed shares on the first set.
 */
export async function set(ctx: Context, paths: readonly string[], opts: SetOptions): Promise<Outcome> {
  const { out } = ctx;
  const session = await openSession(ctx, opts);
  const { manifest } = session;

  const keyPath = resolvePath(ctx, opts.workloadOwnerKey, FILES.workloadOwnerKey);
  const ownerKey = await readWorkloadOwnerKey(keyPath);
  if (ownerKey === undefined && opts.workloadOwnerKey !== undefined) {
    // A key named explicitly must exist: a typo must not silently become a throw-away key.
    throw new ContrastError("FILE_NOT_FOUND", `${keyPath}: no such file`, {
      kind: "io",
      hint: "Pass the workload-owner.pem the manifest was generated with, or leave --workload-owner-key out for the first set.",
      details: { file: keyPath },
    });
  }
  const digests = (manifest.manifest.WorkloadOwnerKeyDigests ?? []).map((d) => d.toLowerCase());
  if (ownerKey === undefined) {
    out.warn(
      `no workload owner key at ${keyPath}: connecting with a fresh key, which only the first manifest accepts`,
      "CLI_WORKLOAD_OWNER_KEY_MISSING",
      { file: keyPath },
    );
  }
  if (digests.length === 0) {
    out.warn(
      "No workload owner keys in manifest. Further manifest updates will be rejected by the Coordinator",
      "CLI_MANIFEST_NO_OWNER_KEYS",
    );
  } else if (ownerKey !== undefined && !digests.includes(workloadOwnerKeyDigest(ownerKey))) {
    out.warn(
      "Workload owner key not found in manifest. This may lock you out from further updates",
      "CLI_WORKLOAD_OWNER_KEY_NOT_IN_MANIFEST",
      { file: keyPath, keyDigest: workloadOwnerKeyDigest(ownerKey) },
    );
  }

  const files = await yamlFiles(paths.map((p) => resolvePath(ctx, p, p)));
  if (paths.length > 0 && files.length === 0) {
    throw new ContrastError("POLICY_NO_INPUT", "no .yml/.yaml files found", {
      hint: "Pass the Kubernetes YAML files `contrast generate` annotated, or directories that contain them.",
    });
  }
  const policies = policiesToSend(await workloadPolicies(files), manifest.manifest.Policies, manifest.path);

  const res = await withCoordinator(ctx, session, ownerKey, (client, deadline) =>
    client.setManifest({ Manifest: manifest.bytes, Policies: policies }, { deadline }),
  ).catch((e: unknown) => {
    throw setHint(e, ownerKey !== undefined, session.policyHashes.source);
  });
  out.success("Manifest set successfully");

  const written: Record<string, string> = {};
  const rootCa = resolvePath(ctx, undefined, FILES.rootCa);
  const meshCa = resolvePath(ctx, undefined, FILES.meshCa);
  await writeFileAtomically(rootCa, res.RootCA, 0o644);
  await writeFileAtomically(meshCa, res.MeshCA, 0o644);
  written.rootCa = rootCa;
  written.meshCa = meshCa;
  if (res.SeedSharesDoc !== undefined) {
    const seedShares = resolvePath(ctx, undefined, FILES.seedShares);
    const doc: SeedShareDocument = {
      SeedShares: res.SeedSharesDoc.SeedShares.map((s) => ({ PublicKey: s.PublicKey, EncryptedSeed: s.EncryptedSeed })),
      salt: res.SeedSharesDoc.salt,
    };
    await writeFileAtomically(seedShares, serializeSeedShareDocument(doc), 0o600);
    written.seedShares = seedShares;
    out.success("Seed shares received");
    if (doc.SeedShares.length === 0) {
      out.warn("the manifest has no seed share owners: this deployment can never be recovered after a restart");
    }
  }
  out.info(`Wrote ${Object.values(written).join(", ")}`);
  return {
    ok: true,
    fields: {
      coordinator: session.address.target,
      manifest: manifest.path,
      manifestHash: manifest.hash,
      policies: policies.length,
      files: written,
    },
  };
}

/**
 * The policies SetManifest carries, after upstream's checks: every confidential workload's policy
 * must be in the manifest, and every manifest entry must come with its policy. The simulated
 * Coordinator's entry is the one exception: its "policy" is a fixed label (no YAML has it), so it
 * is added here. Each distinct policy is sent once.
 */
export function policiesToSend(
  workloads: readonly WorkloadPolicy[],
  entries: ReadonlyMap<string, unknown> | null,
  manifestPath: string,
): Uint8Array[] {
  const manifestHashes = new Set([...(entries?.keys() ?? [])].map((h) => h.toLowerCase()));
  const byHash = new Map<string, Uint8Array>();
  for (const w of workloads) {
    if (!manifestHashes.has(w.hash)) {
      throw cliError(
        "CLI_SET_POLICY_NOT_IN_MANIFEST",
        `policy ${w.hash} of ${w.workload} (${w.file}) not found in manifest ${manifestPath}`,
        { details: { workload: w.workload, file: w.file, policyHash: w.hash } },
      );
    }
    byHash.set(w.hash, w.bytes);
  }
  if (manifestHashes.has(SIM_COORDINATOR_POLICY_HASH) && !byHash.has(SIM_COORDINATOR_POLICY_HASH)) {
    byHash.set(SIM_COORDINATOR_POLICY_HASH, utf8(SIM_COORDINATOR_POLICY_LABEL));
  }
  const unmatched = [...manifestHashes].filter((h) => !byHash.has(h));
  if (unmatched.length > 0) {
    throw cliError(
      "CLI_SET_POLICY_COUNT_MISMATCH",
      `policy count mismatch: ${manifestPath} names ${unmatched.length} polic${unmatched.length === 1 ? "y" : "ies"} no workload in the YAML carries (${unmatched.map((h) => h.slice(0, 12)).join(", ")})`,
      { details: { unmatched, workloads: workloads.length, manifestEntries: manifestHashes.size } },
    );
  }
  return [...byHash.values()];
}

/** Upstream's hints for a refused SetManifest, and for a Coordinator with an unexpected policy. */
function setHint(e: unknown, keyLoaded: boolean, hashSource: "flag" | "default"): unknown {
  if (!isContrastError(e)) return e;
  if (e.code === "COORDINATOR_UPDATE_UNAUTHORIZED") {
    return new ContrastError(e.code, `Permission denied: ${e.message}`, {
      kind: e.kind,
      cause: e,
      hint: keyLoaded
        ? "Ensure you are using a trusted workload owner key: one whose digest is in the WorkloadOwnerKeyDigests of the manifest the Coordinator has now (`contrast verify` fetches it)."
        : "Specify a workload owner key with --workload-owner-key.",
      ...(e.details === undefined ? {} : { details: e.details }),
    });
  }
  return evidenceHint(e, hashSource);
}
