import { bytesEqual } from "@contrast/core";
import { CoordinatorError } from "../errors.js";
import { type HistoryStore, isValidKey } from "./store.js";

/** A HistoryStore in memory: for tests and for `--state-dir` less experiments. Nothing survives the process. */
export class MemoryStore implements HistoryStore {
  readonly #data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getSync(key);
  }

  getSync(key: string): Uint8Array | undefined {
    checkKey(key);
    const v = this.#data.get(key);
    return v === undefined ? undefined : v.slice();
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    this.#data.set(key, value.slice());
  }

  async compareAndSwap(key: string, expected: Uint8Array | undefined, next: Uint8Array): Promise<boolean> {
    checkKey(key);
    const current = this.#data.get(key);
    if (current === undefined ? expected !== undefined : expected === undefined || !bytesEqual(current, expected)) {
      return false;
    }
    this.#data.set(key, next.slice());
    return true;
  }

  /** The keys present, sorted: for tests that inspect what was written. */
  keys(): string[] {
    return [...this.#data.keys()].sort();
  }
}

export function checkKey(key: string): void {
  if (!isValidKey(key)) {
    throw new CoordinatorError("HISTORY_KEY_INVALID", `invalid history key ${JSON.stringify(key)}`, {
      hint: "History keys are <kind>/<name> with letters, digits and dashes.",
    });
  }
}
