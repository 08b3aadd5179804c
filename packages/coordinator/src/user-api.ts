import { create } from "@bufbuild/protobuf";
import {
  type GetManifestsResponse,
  GetManifestsResponseSchema,
  LatestTransitionSchema,
  type RecoverResponse,
  RecoverResponseSchema,
  type SetManifestResponse,
  SetManifestResponseSchema,
} from "@contrast/api";
import { bytesEqual, type Clock, fromHex, isContrastError, type Logger, sha256, toHex, utf8 } from "@contrast/core";
import { loadManifest, type Manifest } from "@contrast/manifest";
import {
  CoordinatorCa,
  createSeedShareDocument,
  generateSeed,
  type RandomSource,
  SeedEngine,
  verifyLatestTransition,
  ZERO_TRANSITION_HASH,
} from "@contrast/mesh-pki";
import { authorizationDigest, type Caller, requireClientKey } from "./caller.js";
import { CoordinatorError } from "./errors.js";
import type { PeerSource } from "./peer-source.js";
import { type CoordinatorState, requireRecoveryPhase, type StateKeeper, storedManifest } from "./state.js";

export interface UserApiContext {
  readonly keeper: StateKeeper;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: Logger;
  readonly peers?: PeerSource | undefined;
}

export interface SetManifestInput {
  readonly Manifest: Uint8Array;
  readonly Policies: readonly Uint8Array[];
}

export interface RecoverInput {
  readonly Seed: Uint8Array;
  readonly Salt: Uint8Array;
  readonly Force?: boolean;
}

export const inRecovery = (): CoordinatorError =>
  new CoordinatorError("COORDINATOR_IN_RECOVERY", "coordinator is in recovery mode", {
    hint: "Run `contrast recover -c <host:port>` with your seedshare-owner.pem and seed-shares.json, or wait for a ready peer Coordinator to recover it.",
  });

const noManifest = (): CoordinatorError =>
  new CoordinatorError("COORDINATOR_NO_MANIFEST", "no manifest configured", {
    hint: "Set a manifest first: `contrast set -c <host:port> <resources>`.",
  });

/**
 * SetManifest: the first call creates the seed (and the seed shares for SeedshareOwnerPubKeys);
 * later calls must come from a workload owner key of the current manifest and keep the seed share
 * owners. The new transition is written by compare-and-swap on `transitions/latest`, so two
 * Coordinators on one store can never fork the history: the loser gets HISTORY_CONCURRENT_UPDATE
 * and goes into recovery.
 */
export function setManifest(
  ctx: UserApiContext,
  request: SetManifestInput,
  caller: Caller,
): Promise<SetManifestResponse> {
  return ctx.keeper.exclusive(async () => {
    const { phase, state: old } = await ctx.keeper.current();
    if (phase === "recovery") throw inRecovery();
    const manifest = loadManifest(request.Manifest, { source: "SetManifestRequest.Manifest" }).manifest;

    let seed: Uint8Array;
    let engine: SeedEngine;
    let seedShares: ReturnType<typeof createSeedShareDocument> | undefined;
    if (old !== undefined) {
      authorizeUpdate(old.manifest, caller);
      if (!sameList(old.manifest.SeedshareOwnerPubKeys, manifest.SeedshareOwnerPubKeys)) {
        throw new CoordinatorError(
          "COORDINATOR_SEEDSHARE_OWNERS_CHANGED",
          "changes to seedshare owners are not allowed",
          {
            hint: "Keep SeedshareOwnerPubKeys exactly as in the current manifest (same keys, same order), then run `contrast set` again.",
          },
        );
      }
      seed = old.seed;
      engine = old.engine;
    } else {
      const secret = generateSeed(ctx.random);
      seedShares = createSeedShareDocument(secret, manifest.SeedshareOwnerPubKeys ?? []);
      seed = secret.seed;
      engine = SeedEngine.fromSeed(secret.seed, secret.salt);
    }

    const provided = new Map(request.Policies.map((p) => [toHex(sha256(p)), p]));
    for (const hash of manifest.Policies?.keys() ?? []) {
      const policy = provided.get(hash.toLowerCase());
      if (policy === undefined) {
        throw new CoordinatorError("COORDINATOR_POLICY_MISSING", `no policy provided for hash "${hash}"`, {
          hint: "Pass `contrast set` every YAML file the manifest was generated from: it sends the policies the manifest names.",
          details: { policyHash: hash },
        });
      }
      await ctx.keeper.history.putPolicy(policy);
    }
    const manifestHash = await ctx.keeper.history.putManifest(request.Manifest);
    const transition = {
      manifestHash,
      previousTransitionHash: old?.latest.transitionHash ?? ZERO_TRANSITION_HASH,
    };
    const state = await ctx.keeper.writingLatest(async () => {
      let latest: CoordinatorState["latest"];
      try {
        latest = await ctx.keeper.history.setLatest(old?.latest, transition, engine.transactionSigningKey.privateKey);
      } catch (e) {
        if (isContrastError(e, "HISTORY_CONCURRENT_UPDATE"))
          ctx.keeper.markStale("another writer set a manifest first");
        throw e;
      }
      const installed: CoordinatorState = {
        seed,
        engine,
        manifest,
        manifestBytes: new Uint8Array(request.Manifest),
        ca: CoordinatorCa.create(engine, { clock: ctx.clock, random: ctx.random }),
        latest,
        generation: (old?.generation ?? 0) + 1,
      };
      ctx.keeper.install(installed);
      return installed;
    });
    const ca = state.ca;
    ctx.log.info("manifest set", { generation: state.generation, manifestHash: toHex(manifestHash) });
    return create(SetManifestResponseSchema, {
      RootCA: utf8(ca.rootCaPem),
      MeshCA: utf8(ca.meshCaPem),
      ...(seedShares === undefined ? {} : { SeedSharesDoc: seedShares }),
    });
  });
}

/** GetManifests: every manifest of the history (oldest first), their policies, the CAs and the signed latest. */
export async function getManifests(ctx: UserApiContext): Promise<GetManifestsResponse> {
  const state = await ctx.keeper.running({ recovery: inRecovery, uninitialised: noManifest });
  const chain = await ctx.keeper.history.chain(state.latest.transitionHash);
  const policies = new Map<string, Uint8Array>();
  for (const entry of chain) {
    const manifest = bytesEqual(entry.manifest, state.manifestBytes) ? state.manifest : storedManifest(entry.manifest);
    for (const hash of manifest.Policies?.keys() ?? []) {
      const key = hash.toLowerCase();
      if (!policies.has(key)) policies.set(key, await ctx.keeper.history.getPolicy(fromHex(key, 32)));
    }
  }
  return create(GetManifestsResponseSchema, {
    Manifests: chain.map((e) => e.manifest),
    Policies: [...policies.values()],
    RootCA: utf8(state.ca.rootCaPem),
    MeshCA: utf8(state.ca.meshCaPem),
    LatestTransition: create(LatestTransitionSchema, {
      TransitionHash: state.latest.transitionHash,
      Signature: state.latest.signature,
    }),
  });
}

/**
 * User recovery (the newer upstream order): only in recovery; unless `Force`, refused while ready
 * peers exist; the caller must be a seed share owner of the latest manifest; the seed and salt
 * must sign the latest transition. Builds a new mesh CA key, as upstream does.
 */
export function recover(ctx: UserApiContext, request: RecoverInput, caller: Caller): Promise<RecoverResponse> {
  return ctx.keeper.exclusive(async () => {
    const { phase } = await ctx.keeper.current();
    requireRecoveryPhase(phase);
    if (request.Force === true) {
      ctx.log.warn("skipping the peer check because user recovery was forced");
    } else {
      await refuseWithReadyPeers(ctx.peers);
    }

    const history = ctx.keeper.history;
    const latest = await history.readLatestUnverified();
    if (latest === undefined) {
      throw new CoordinatorError("COORDINATOR_NOTHING_TO_RECOVER", "no state to recover from", {
        hint: "Nothing to recover: set a manifest with `contrast set` instead.",
      });
    }
    const transition = await history.getTransition(latest.transitionHash);
    const manifestBytes = await history.getManifest(transition.manifestHash);
    const manifest = storedManifest(manifestBytes);
    authorizeRecovery(manifest, caller);

    const engine = SeedEngine.fromSeed(request.Seed, request.Salt);
    if (!verifyLatestTransition(latest, engine.transactionSigningKey.publicKey)) {
      throw new CoordinatorError(
        "COORDINATOR_RECOVERY_SEED_WRONG",
        "recovery failed: the seed does not sign the latest transition",
        {
          hint: "Run `contrast recover --seed <file>` with the seed-shares.json `contrast set` wrote when this deployment's first manifest was set.",
        },
      );
    }
    const state = await buildState(ctx, { seed: request.Seed, engine, manifest, manifestBytes, latest });
    ctx.keeper.install(state);
    ctx.log.info("recovered by a seed share owner", { generation: state.generation });
    return create(RecoverResponseSchema, {});
  });
}

/** A state for the history's latest transition; `meshCaKey` keeps a peer's mesh CA, else a new one is made. */
export async function buildState(
  ctx: Pick<UserApiContext, "keeper" | "clock" | "random">,
  parts: Omit<CoordinatorState, "ca" | "generation"> & { meshCaKey?: import("node:crypto").KeyObject },
): Promise<CoordinatorState> {
  const chain = await ctx.keeper.history.chain(parts.latest.transitionHash);
  const ca = CoordinatorCa.create(parts.engine, {
    clock: ctx.clock,
    random: ctx.random,
    ...(parts.meshCaKey === undefined ? {} : { meshCaKey: parts.meshCaKey }),
  });
  return {
    seed: new Uint8Array(parts.seed),
    engine: parts.engine,
    manifest: parts.manifest,
    manifestBytes: parts.manifestBytes,
    ca,
    latest: parts.latest,
    generation: chain.length,
  };
}

async function refuseWithReadyPeers(peers: PeerSource | undefined): Promise<void> {
  if (peers === undefined) return;
  let ready: readonly unknown[];
  try {
    ready = await peers.listPeers();
  } catch (cause) {
    throw new CoordinatorError("COORDINATOR_PEER_LISTING_FAILED", "listing peers failed", {
      cause,
      hint: "Check the Coordinator's access to the Kubernetes API, or run `contrast recover --force`.",
    });
  }
  if (ready.length > 0) {
    throw new CoordinatorError(
      "COORDINATOR_PEERS_AVAILABLE",
      `rejecting user recovery because ${ready.length} recovered peers are available`,
      {
        hint: "Wait for peer recovery, or run `contrast recover --force` to recover with the seed anyway (this replaces the mesh CA key).",
        details: { peers: ready.length },
      },
    );
  }
}

function authorizeUpdate(current: Manifest, caller: Caller): void {
  const digests = current.WorkloadOwnerKeyDigests ?? [];
  if (digests.length === 0) {
    throw new CoordinatorError("COORDINATOR_UPDATE_DISABLED", "validating peer: setting manifest is disabled", {
      hint: "The current manifest lists no workload owner key, so it cannot be replaced.",
    });
  }
  const digest = toHex(authorizationDigest(requireClientKey(caller)));
  if (!digests.some((d) => d.toLowerCase() === digest)) {
    throw new CoordinatorError("COORDINATOR_UPDATE_UNAUTHORIZED", "validating peer: peer not authorized", {
      hint: "Run `contrast set --workload-owner-key <file>` with a key whose digest is in the current manifest's WorkloadOwnerKeyDigests (`contrast verify` fetches that manifest).",
      details: { keyDigest: digest },
    });
  }
}

function authorizeRecovery(manifest: Manifest, caller: Caller): void {
  const owners = manifest.SeedshareOwnerPubKeys ?? [];
  const digest = authorizationDigest(requireClientKey(caller));
  const match = owners.some((hex) => {
    try {
      return bytesEqual(sha256(fromHex(hex)), digest);
    } catch {
      return false;
    }
  });
  if (!match) {
    throw new CoordinatorError(
      "COORDINATOR_RECOVERY_UNAUTHORIZED",
      owners.length === 0
        ? "peer not authorized to recover existing state: the manifest has no seed share owners"
        : "peer not authorized to recover existing state: not a seed share owner",
      {
        hint: "Run `contrast recover --seedshare-owner-key <file>` with the key whose public key is in the manifest's SeedshareOwnerPubKeys.",
      },
    );
  }
}

function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
