import { EvidenceBinding, type MeshRecoverResponse, type NewAttestationNonceResponse } from "@contrast/api";
import { reportData } from "@contrast/atls";
import { bytesEqual, type Clock, ContrastError, type Logger } from "@contrast/core";
import { parseEcPrivateKey, type RandomSource, SeedEngine, verifyLatestTransition } from "@contrast/mesh-pki";
import { CoordinatorError } from "./errors.js";
import type { PeerCoordinator, PeerSource } from "./peer-source.js";
import { requireRecoveryPhase, type StateKeeper, storedManifest } from "./state.js";
import { buildState } from "./user-api.js";

/**
 * The mesh API of a ready peer, as the recovering Coordinator calls it. A
 * `ServiceClient<typeof MeshAPI>` over aTLS client credentials fits; those credentials verify the
 * peer's evidence against the manifest (the Coordinator policy) before any request is sent.
 */
export interface PeerMeshClient {
  newAttestationNonce(request: Record<string, never>): Promise<NewAttestationNonceResponse>;
  recover(request: {
    AttestationNonce: Uint8Array;
    Evidence: Uint8Array;
    EvidenceOID: string;
    EvidenceBinding?: EvidenceBinding;
  }): Promise<MeshRecoverResponse>;
  /**
   * The TLS exporter channel binding of the connection the next call goes on (connecting first
   * if need be): @contrast/atls's AtlsChannelCredentials.channelBinding after the client's
   * waitForReady. With it, recovery takes one call (the evidence binds the connection); without,
   * it asks for a nonce first.
   */
  channelBinding?(): Promise<Uint8Array>;
}

/** Makes this Coordinator's evidence; @contrast/atls's EvidenceIssuer fits. */
export interface RecoveryEvidenceIssuer {
  readonly oid: string;
  issue(reportData: Uint8Array): Promise<Uint8Array>;
}

export interface PeerRecoveryOptions {
  readonly client: PeerMeshClient;
  /** PKIX SPKI DER of the key of the TLS client certificate `client` connects with. */
  readonly clientPublicKeyDer: Uint8Array;
  readonly issuer: RecoveryEvidenceIssuer;
}

export interface PeerRecoveryContext {
  readonly keeper: StateKeeper;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: Logger;
}

/**
 * Recovers from a ready peer: attest to it with a nonce it issued, receive the seed, salt, mesh
 * CA key and latest manifest, and adopt them only if the seed signs this store's latest
 * transition and the manifest is the one it names. Keeps the peer's mesh CA key, so certificates
 * the peer issued stay valid (user recovery cannot do that).
 */
export function recoverFromPeer(ctx: PeerRecoveryContext, options: PeerRecoveryOptions): Promise<void> {
  return ctx.keeper.exclusive(async () => {
    const { phase } = await ctx.keeper.current();
    requireRecoveryPhase(phase);
    const answer = await attestedRecover(options);

    const invalid = (message: string, cause?: unknown) =>
      new CoordinatorError("COORDINATOR_PEER_RECOVERY_INVALID", message, {
        hint: "The peer serves another deployment or another history; check which Coordinators share the store.",
        ...(cause === undefined ? {} : { cause }),
      });
    let engine: SeedEngine;
    try {
      engine = SeedEngine.fromSeed(answer.Seed, answer.Salt);
    } catch (cause) {
      throw invalid("the peer sent an unusable seed or salt", cause);
    }
    const history = ctx.keeper.history;
    const latest = await history.readLatestUnverified();
    if (latest === undefined) throw invalid("the history store has no latest transition");
    if (!verifyLatestTransition(latest, engine.transactionSigningKey.publicKey)) {
      throw invalid("the peer's seed does not sign this store's latest transition");
    }
    const transition = await history.getTransition(latest.transitionHash);
    const manifestBytes = await history.getManifest(transition.manifestHash);
    if (!bytesEqual(manifestBytes, answer.LatestManifest)) {
      // Same seed, so the same deployment: a manifest was set between the peer's answer and our
      // read of the store. Transient; the caller's recovery loop asks again.
      throw new CoordinatorError(
        "COORDINATOR_PEER_STATE_MOVED",
        "the peer's latest manifest is not the one this store's latest transition names",
        { hint: "Transient: recovery is retried with the peer's current state." },
      );
    }
    let meshCaKey: ReturnType<typeof parseEcPrivateKey>;
    try {
      meshCaKey = parseEcPrivateKey(answer.MeshCAKey, "mesh CA key");
    } catch (cause) {
      throw invalid("the peer sent an unusable mesh CA key", cause);
    }
    const state = await buildState(ctx, {
      seed: answer.Seed,
      engine,
      manifest: storedManifest(manifestBytes),
      manifestBytes,
      latest,
      meshCaKey,
    });
    ctx.keeper.install(state);
    ctx.log.info("recovered from a peer Coordinator", { generation: state.generation });
  });
}

/** The Recover call, its evidence bound to the connection's TLS exporter or else to a nonce. */
async function attestedRecover(options: PeerRecoveryOptions): Promise<MeshRecoverResponse> {
  const { client, issuer, clientPublicKeyDer } = options;
  if (client.channelBinding !== undefined) {
    const binding = await client.channelBinding();
    const evidence = await issuer.issue(reportData(clientPublicKeyDer, binding));
    return client.recover({
      AttestationNonce: new Uint8Array(0),
      Evidence: evidence,
      EvidenceOID: issuer.oid,
      EvidenceBinding: EvidenceBinding.TLS_EXPORTER,
    });
  }
  const { Nonce } = await client.newAttestationNonce({});
  const evidence = await issuer.issue(reportData(clientPublicKeyDer, Nonce));
  return client.recover({
    AttestationNonce: Nonce,
    Evidence: evidence,
    EvidenceOID: issuer.oid,
    EvidenceBinding: EvidenceBinding.NONCE,
  });
}

export interface RecoverFromPeersOptions {
  readonly peers: PeerSource;
  /** A mesh API client for one peer (aTLS client credentials verifying it as a Coordinator). */
  readonly connect: (peer: PeerCoordinator) => PeerMeshClient & { close(): void };
  readonly clientPublicKeyDer: Uint8Array;
  readonly issuer: RecoveryEvidenceIssuer;
}

/**
 * One round of automatic peer recovery, as upstream's recovery loop runs it: try the ready peers
 * in turn until one recovers this Coordinator. Resolves with that peer, or undefined when there
 * is none or every one failed (each failure is logged; the caller tries again later).
 */
export async function recoverFromPeers(
  ctx: PeerRecoveryContext,
  options: RecoverFromPeersOptions,
): Promise<PeerCoordinator | undefined> {
  let peers: readonly PeerCoordinator[];
  try {
    peers = await options.peers.listPeers();
  } catch (e) {
    ctx.log.warn("listing peers for recovery failed", { error: ContrastError.from(e).message });
    return undefined;
  }
  for (const peer of peers) {
    const client = options.connect(peer);
    try {
      await recoverFromPeer(ctx, { client, clientPublicKeyDer: options.clientPublicKeyDer, issuer: options.issuer });
      return peer;
    } catch (e) {
      const err = ContrastError.from(e);
      // Recovered meanwhile (by a user or another round): done, not a failure.
      if (err.code === "COORDINATOR_ALREADY_RECOVERED") return undefined;
      ctx.log.warn("peer recovery failed", { peer: peer.name, code: err.code, error: err.message });
    } finally {
      client.close();
    }
  }
  return undefined;
}
