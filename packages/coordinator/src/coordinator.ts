import type {
  GetManifestsResponse,
  MeshRecoverResponse,
  NewAttestationNonceResponse,
  NewMeshCertResponse,
  RecoverResponse,
  SetManifestResponse,
} from "@contrast/api";
import { type Clock, type Logger, noopLogger } from "@contrast/core";
import type { RandomSource } from "@contrast/mesh-pki";
import type { Caller } from "./caller.js";
import { History } from "./history/history.js";
import type { HistoryStore } from "./history/store.js";
import { type AttestationInput, meshRecover, newAttestationNonce, newMeshCert } from "./mesh-api.js";
import { DEFAULT_NONCE_CAPACITY, DEFAULT_NONCE_TTL_MS, NonceTable } from "./nonces.js";
import {
  type PeerRecoveryOptions,
  type RecoverFromPeersOptions,
  recoverFromPeer,
  recoverFromPeers,
} from "./peer-recovery.js";
import type { PeerCoordinator, PeerSource } from "./peer-source.js";
import { type CoordinatorStatus, StateKeeper } from "./state.js";
import { getManifests, type RecoverInput, recover, type SetManifestInput, setManifest } from "./user-api.js";
import type { EvidenceVerifier } from "./verifier.js";

/** Callbacks for the Coordinator's own metrics; the app turns them into Prometheus series. */
export interface CoordinatorMetrics {
  /** `contrast_coordinator_manifest_generation`: called whenever a new state is installed. */
  readonly onGeneration?: (generation: number) => void;
  /** `contrast_meshapi_attestation_failures_total`: called with the failure's error code. */
  readonly onAttestationFailure?: (reason: string) => void;
}

export interface CoordinatorOptions {
  /** The history, or the store to keep it in (filesystem, ConfigMaps, memory). */
  readonly history: History | HistoryStore;
  readonly clock: Clock;
  /** Seeds, salts, mesh CA keys, serial numbers and nonces come from here. */
  readonly random: RandomSource;
  readonly verifyEvidence: EvidenceVerifier;
  readonly logger?: Logger;
  /** Ready peer Coordinators; without it user recovery never waits for peers. */
  readonly peers?: PeerSource;
  readonly metrics?: CoordinatorMetrics;
  /** Time to live of attestation nonces (default 60 s). */
  readonly nonceTtlMs?: number;
  /** Most live attestation nonces kept (default 10,000); more evict the oldest. */
  readonly maxNonces?: number;
}

/**
 * The Coordinator as a library: its state machine (uninitialised, running, recovery) and the
 * logic of the user API and the mesh API, with no socket in sight. Every RPC takes the `Caller`
 * the transport established (the client certificate key of the connection) and answers with the
 * generated response message or throws a ContrastError; `userApiHandlers` / `meshApiHandlers`
 * put it behind grpc-js. Clock, randomness, storage, evidence verification and peers are
 * injected.
 */
export class Coordinator {
  readonly history: History;
  readonly #keeper: StateKeeper;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #log: Logger;
  readonly #peers: PeerSource | undefined;
  readonly #nonces: NonceTable;
  readonly #verifyEvidence: EvidenceVerifier;
  readonly #onAttestationFailure: (reason: string) => void;

  private constructor(options: CoordinatorOptions) {
    this.history = options.history instanceof History ? options.history : new History(options.history);
    this.#clock = options.clock;
    this.#random = options.random;
    this.#log = options.logger ?? noopLogger;
    this.#peers = options.peers;
    this.#verifyEvidence = options.verifyEvidence;
    this.#onAttestationFailure = options.metrics?.onAttestationFailure ?? (() => {});
    this.#keeper = new StateKeeper(this.history, this.#log, options.metrics?.onGeneration ?? (() => {}));
    this.#nonces = new NonceTable({
      clock: options.clock,
      random: options.random,
      ttlMs: options.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS,
      capacity: options.maxNonces ?? DEFAULT_NONCE_CAPACITY,
    });
  }

  /**
   * A Coordinator on a history: uninitialised when the store is empty, otherwise in recovery
   * until a seed share owner or a peer recovers it (the seed is never stored).
   */
  static async open(options: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(options);
    const status = await c.status();
    options.metrics?.onGeneration?.(0);
    c.#log.info("coordinator opened", { phase: status.phase });
    return c;
  }

  /** The phase, re-reading the store (so a Coordinator whose history another writer moved reports recovery). */
  status(): Promise<CoordinatorStatus> {
    return this.#keeper.status();
  }

  /** Live attestation nonces (for tests and a gauge). */
  get pendingNonces(): number {
    return this.#nonces.size;
  }

  // User API

  setManifest(request: SetManifestInput, caller: Caller = {}): Promise<SetManifestResponse> {
    return setManifest(this.#userCtx(), request, caller);
  }

  getManifests(_caller: Caller = {}): Promise<GetManifestsResponse> {
    return getManifests(this.#userCtx());
  }

  recover(request: RecoverInput, caller: Caller = {}): Promise<RecoverResponse> {
    return recover(this.#userCtx(), request, caller);
  }

  // Mesh API

  async newAttestationNonce(caller: Caller): Promise<NewAttestationNonceResponse> {
    return newAttestationNonce(this.#meshCtx(), caller);
  }

  newMeshCert(request: AttestationInput, caller: Caller): Promise<NewMeshCertResponse> {
    return newMeshCert(this.#meshCtx(), request, caller);
  }

  meshRecover(request: AttestationInput, caller: Caller): Promise<MeshRecoverResponse> {
    return meshRecover(this.#meshCtx(), request, caller);
  }

  /** Peer recovery, the recovering side: see recoverFromPeer. */
  recoverFromPeer(options: PeerRecoveryOptions): Promise<void> {
    return recoverFromPeer(this.#recoveryCtx(), options);
  }

  /**
   * One round of automatic peer recovery over the ready peers; the app calls it periodically while
   * `status()` is in recovery. Resolves with the peer that recovered this Coordinator, if any.
   */
  recoverFromPeers(options: RecoverFromPeersOptions): Promise<PeerCoordinator | undefined> {
    return recoverFromPeers(this.#recoveryCtx(), options);
  }

  #recoveryCtx() {
    return { keeper: this.#keeper, clock: this.#clock, random: this.#random, log: this.#log };
  }

  #userCtx() {
    return { keeper: this.#keeper, clock: this.#clock, random: this.#random, log: this.#log, peers: this.#peers };
  }

  #meshCtx() {
    return {
      keeper: this.#keeper,
      clock: this.#clock,
      log: this.#log,
      nonces: this.#nonces,
      verifyEvidence: this.#verifyEvidence,
      onAttestationFailure: this.#onAttestationFailure,
    };
  }
}
