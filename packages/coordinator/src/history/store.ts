/**
 * The key-value port under the Coordinator's history. Keys have the form `<kind>/<name>` with
 * `[A-Za-z0-9-]` on both sides (upstream's grammar), for example `manifests/<sha256 hex>` or
 * `transitions/latest`. Backends: the filesystem (default), ConfigMaps, memory (tests).
 *
 * Every backend must be safe for concurrent use by several processes that share it (two
 * Coordinators on one volume, or on one namespace's ConfigMaps): `compareAndSwap` is the only
 * synchronisation the history relies on, so it must be atomic across all of them.
 */
export interface HistoryStore {
  /** The value, or undefined when the key does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * The same read, synchronously, for backends where one costs less than an asynchronous one: a
   * small local file is read in ~15 µs of CPU where the thread pool's round trip costs ~0.1 ms.
   * The Coordinator's staleness check reads `transitions/latest` this way when it is offered,
   * once per turn of the event loop (backends that need the network leave it out).
   */
  getSync?(key: string): Uint8Array | undefined;
  /** Writes a value; after it resolves the value survives a crash of the process or the machine. */
  set(key: string, value: Uint8Array): Promise<void>;
  /**
   * Replaces the value of `key` with `next` only if its current value equals `expected`
   * (`undefined`: only if the key does not exist). Resolves true when it wrote, false when the
   * current value differed (a concurrent writer won). Durable like `set`.
   */
  compareAndSwap(key: string, expected: Uint8Array | undefined, next: Uint8Array): Promise<boolean>;
}

const KEY = /^[A-Za-z0-9-]+\/[A-Za-z0-9-]+$/;

/** True for keys of the store's grammar; backends reject others before touching storage. */
export function isValidKey(key: string): boolean {
  return KEY.test(key);
}
