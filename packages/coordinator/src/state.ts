import { bytesEqual, type Logger, sha256Hex } from "@contrast/core";
import { loadManifest, type Manifest } from "@contrast/manifest";
import { type CoordinatorCa, encodeLatestTransition, type LatestTransition, type SeedEngine } from "@contrast/mesh-pki";
import { CoordinatorError } from "./errors.js";
import type { History } from "./history/history.js";

const LATEST_KEY = "transitions/latest";

/**
 * Everything the Coordinator knows about the current manifest generation, as one immutable
 * snapshot: an RPC works on the snapshot it started with, and an update replaces it whole.
 */
export interface CoordinatorState {
  /** Kept for peer recovery, which hands the seed to another attested Coordinator. */
  readonly seed: Uint8Array;
  readonly engine: SeedEngine;
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly ca: CoordinatorCa;
  readonly latest: LatestTransition;
  /** Number of transitions from the first manifest to this one (the first manifest is 1). */
  readonly generation: number;
}

/**
 * - `uninitialised`: the history is empty; only SetManifest works.
 * - `running`: the in-memory state is the store's latest transition.
 * - `recovery`: the store has a history but this process has no usable state: it restarted, or
 *   another writer moved `transitions/latest` past it (stale). Only Recover works.
 */
export type CoordinatorPhase = "uninitialised" | "running" | "recovery";

/** Both kinds of recovery (by a seed-share owner, from a peer) start only in recovery mode. */
export function requireRecoveryPhase(phase: CoordinatorPhase): void {
  if (phase === "running") {
    throw new CoordinatorError("COORDINATOR_ALREADY_RECOVERED", "coordinator is already recovered", {
      hint: "Nothing to do: the Coordinator is running; `contrast verify` shows its manifest.",
    });
  }
  if (phase === "uninitialised") {
    throw new CoordinatorError("COORDINATOR_NOTHING_TO_RECOVER", "no state to recover from", {
      hint: "Nothing to recover: set a manifest with `contrast set` instead.",
    });
  }
}

export interface CoordinatorStatus {
  readonly phase: CoordinatorPhase;
  /** True in recovery caused by another writer (as opposed to a restart). */
  readonly stale: boolean;
  /** The generation of the in-memory state (0 when there is none). */
  readonly generation: number;
  /** Hex SHA-256 of the current manifest when running. */
  readonly manifestHash?: string;
}

/**
 * Holds the snapshot, decides the phase from it and the store, and serialises the operations that
 * replace it. Staleness is detected by re-reading `transitions/latest` on every state-reading
 * call: a single file read (or ConfigMap GET), cheap next to any RPC's cryptography.
 *
 * A store with `getSync` (the filesystem) is read synchronously, once for all the calls that
 * arrived in one turn of the event loop: the read runs in the loop's check phase (setImmediate),
 * after every call that shares it has arrived. Otherwise concurrent calls share asynchronous
 * reads, but a call only ever shares a read that STARTED AFTER the call
 * began (see readLatest): so every call still sees the store as it was at some instant after its
 * arrival, exactly as with a read of its own, and a move of `latest` that completed before a call
 * arrived is never missed. Joining a read already in flight would break that (the read may have
 * started before another writer's CAS that completed before the call arrived); calls arriving
 * during a read therefore wait for the next one, which starts when the one in flight settles.
 * Under load this is at most one read in flight and one queued, whatever the RPC rate.
 */
export class StateKeeper {
  #state: CoordinatorState | undefined;
  #stale = false;
  #queue: Promise<unknown> = Promise.resolve();
  /** The read of `latest` in flight, and the one queued behind it for calls that came later. */
  #inflight: Promise<Uint8Array | undefined> | undefined;
  #queued: Promise<Uint8Array | undefined> | undefined;
  /** encodeLatestTransition of the installed state, made once per install rather than per call. */
  #stateLatest: Uint8Array | undefined;
  /** The synchronous read scheduled for the end of this event-loop turn, shared by the calls that came before it. */
  #batchedRead: Promise<Uint8Array | undefined> | undefined;
  /** Settles when this process's own move of `transitions/latest` has been installed (or failed). */
  #writing: Promise<void> | undefined;

  constructor(
    readonly history: History,
    private readonly log: Logger,
    private readonly onGeneration: (generation: number) => void,
  ) {}

  /**
   * `transitions/latest` as read by a store read that starts no earlier than this call: a new
   * read if none is in flight, else the read queued to start once the one in flight settles.
   */
  readLatest(): Promise<Uint8Array | undefined> {
    if (this.#inflight === undefined) return this.#startRead();
    this.#queued ??= this.#inflight.then(settled, settled).then(() => {
      this.#queued = undefined;
      return this.#startRead();
    });
    return this.#queued;
  }

  /**
   * `transitions/latest` read synchronously once the calls of this event-loop turn have arrived: a
   * read that has not started yet may be shared by every call that arrives before it starts.
   */
  #readLatestBatched(getSync: (key: string) => Uint8Array | undefined): Promise<Uint8Array | undefined> {
    this.#batchedRead ??= new Promise((resolve, reject) => {
      setImmediate(() => {
        // Cleared before the read: a call that arrives later gets a read of its own.
        this.#batchedRead = undefined;
        try {
          resolve(getSync.call(this.history.store, LATEST_KEY));
        } catch (e) {
          reject(e);
        }
      });
    });
    return this.#batchedRead;
  }

  #startRead(): Promise<Uint8Array | undefined> {
    const read = this.history.store.get(LATEST_KEY);
    this.#inflight = read;
    const done = () => {
      if (this.#inflight === read) this.#inflight = undefined;
    };
    read.then(done, done);
    return read;
  }

  /**
   * The phase now, re-reading the store; a running state whose latest moved becomes stale.
   */
  async current(): Promise<{ phase: CoordinatorPhase; state: CoordinatorState | undefined }> {
    const store = this.history.store;
    for (;;) {
      const before = this.#state;
      const stored = await (store.getSync !== undefined ? this.#readLatestBatched(store.getSync) : this.readLatest());
      const state = this.#state;
      // This process installed a state while the read ran: the read may predate that install's
      // own CAS, so it says nothing about the new state. Read again (installs are rare).
      if (state !== before) continue;
      if (state === undefined || this.#stale) {
        return { phase: stored === undefined && state === undefined ? "uninitialised" : "recovery", state };
      }
      this.#stateLatest ??= encodeLatestTransition(state.latest);
      if (stored === undefined || !bytesEqual(stored, this.#stateLatest)) {
        // This process's own SetManifest may have moved latest and not yet installed the state it
        // wrote: wait for that and look again, so a Coordinator never takes itself for stale.
        const writing = this.#writing;
        if (writing !== undefined) {
          await writing;
          continue;
        }
        this.markStale("transitions/latest moved");
      }
      return { phase: this.#stale ? "recovery" : "running", state };
    }
  }

  async status(): Promise<CoordinatorStatus> {
    const { phase, state } = await this.current();
    return {
      phase,
      stale: this.#stale,
      generation: state?.generation ?? 0,
      ...(phase === "running" && state !== undefined ? { manifestHash: sha256Hex(state.manifestBytes) } : {}),
    };
  }

  /** The running state, or the error the calling API answers with in another phase. */
  async running(errors: { recovery: () => Error; uninitialised: () => Error }): Promise<CoordinatorState> {
    const { phase, state } = await this.current();
    if (phase === "running" && state !== undefined) return state;
    throw phase === "recovery" ? errors.recovery() : errors.uninitialised();
  }

  markStale(reason: string): void {
    if (this.#state !== undefined && !this.#stale) {
      this.#stale = true;
      this.log.warn("coordinator state is stale; entering recovery mode", { reason });
    }
  }

  /** Installs a new state (after SetManifest or a recovery) and reports its generation. */
  install(state: CoordinatorState): void {
    this.#state = state;
    this.#stateLatest = undefined;
    this.#stale = false;
    this.onGeneration(state.generation);
  }

  /**
   * Runs `fn`, which moves `transitions/latest` and installs the matching state (or fails); calls
   * that see the store ahead of the installed state meanwhile wait for it instead of going stale.
   * `fn` must not call `current` itself.
   */
  async writingLatest<T>(fn: () => Promise<T>): Promise<T> {
    let done = settled;
    this.#writing = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      return await fn();
    } finally {
      this.#writing = undefined;
      done();
    }
  }

  /** Runs `fn` after every earlier exclusive operation of this process has finished. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

const settled = (): void => undefined;

/** Parses a manifest read back from the history; it was valid when set, so failure is corruption. */
export function storedManifest(bytes: Uint8Array): Manifest {
  try {
    return loadManifest(bytes).manifest;
  } catch (cause) {
    throw new CoordinatorError("HISTORY_CORRUPT", "a manifest in the history does not parse", {
      cause,
      hint: "The history store was modified or damaged outside the Coordinator.",
    });
  }
}
