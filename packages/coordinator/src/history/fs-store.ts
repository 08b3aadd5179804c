import { randomUUID } from "node:crypto";
import { constants, readFileSync } from "node:fs";
import { type FileHandle, link, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { bytesEqual, type Clock, type Logger, noopLogger } from "@contrast/core";
import { CoordinatorError } from "../errors.js";
import { checkKey } from "./memory-store.js";
import type { HistoryStore } from "./store.js";

export interface FileSystemStoreOptions {
  /** The Coordinator's state directory; entries live under `<stateDir>/history/<kind>/<name>` as upstream's. */
  readonly stateDir: string;
  /** Ages of lock and temporary files are measured against it (and the file's mtime). */
  readonly clock: Clock;
  /**
   * A lock file older than this is taken to be abandoned and broken, even when its holder's pid
   * looks alive (another host or PID namespace, a reused pid). Default 30 s; a write under the lock
   * takes milliseconds.
   */
  readonly staleLockMs?: number;
  /** How long a write waits for a lock held by a live process before HISTORY_STORE_LOCKED. Default 60 s. */
  readonly lockTimeoutMs?: number;
  readonly log?: Logger;
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const DEFAULT_STALE_LOCK_MS = 30_000;
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

/** What the lock file holds: enough for another process to tell whether its holder is gone. */
interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly since: string;
}

/** The identity of one lock file as observed: a new file at the same path differs in one of these. */
interface LockSighting {
  readonly content: string;
  readonly ino: bigint;
  /** Rename keeps it (it changes ctime), a re-created file gets a new one. */
  readonly mtimeNs: bigint;
  readonly mtimeMs: number;
}

interface HeldLock {
  readonly path: string;
  readonly content: string;
}

const isErrno = (err: unknown, code: string): boolean =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The default HistoryStore: one file per key under `<stateDir>/history`, in upstream's layout.
 *
 * Unlike upstream's (which writes in place under an in-process mutex), every write here is
 * crash-atomic (temporary file in the same directory, fsync, rename, fsync of the directory), and
 * writes to a key are serialised ACROSS PROCESSES by a lock file created with O_CREAT|O_EXCL next
 * to the entry, so two Coordinators sharing one volume get an atomic compareAndSwap. A lock left by
 * a killed holder is broken when its pid is dead on this host, or when it is older than
 * `staleLockMs` (docs/coordinator-storage.md has the full argument and its limits).
 */
export class FileSystemStore implements HistoryStore {
  /** `<stateDir>/history`. */
  readonly directory: string;
  readonly #clock: Clock;
  readonly #staleLockMs: number;
  readonly #lockTimeoutMs: number;
  readonly #log: Logger;
  readonly #host = hostname();
  /** Writes to one key from this process queue here first, so they do not poll each other's lock file. */
  readonly #local = new Map<string, Promise<unknown>>();

  private constructor(options: FileSystemStoreOptions) {
    this.directory = join(options.stateDir, "history");
    this.#clock = options.clock;
    this.#staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.#log = options.log ?? noopLogger;
  }

  /** Creates `<stateDir>/history` (mode 0700) if needed and removes leftovers of crashed writers. */
  static async open(options: FileSystemStoreOptions): Promise<FileSystemStore> {
    const store = new FileSystemStore(options);
    await ioStep("creating the history directory", store.directory, async () => {
      const created = await mkdir(store.directory, { recursive: true, mode: DIR_MODE });
      if (created !== undefined) await syncDir(options.stateDir);
    });
    await store.removeLeftovers();
    return store;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const path = this.#path(key);
    return ioStep("reading", path, async () => {
      try {
        return new Uint8Array(await readFile(path));
      } catch (err) {
        if (isErrno(err, "ENOENT")) return undefined;
        throw err;
      }
    });
  }

  /**
   * A blocking read: entries are a few bytes to a few KiB on a local volume and are replaced by
   * rename, so a read sees one whole version and never waits on a writer's lock.
   */
  getSync(key: string): Uint8Array | undefined {
    const path = this.#path(key);
    try {
      return new Uint8Array(readFileSync(path));
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw ioError("reading", path, err);
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const path = this.#path(key);
    await this.#locked(key, async (held) => {
      await this.#writeAtomic(path, value, held);
    });
  }

  async compareAndSwap(key: string, expected: Uint8Array | undefined, next: Uint8Array): Promise<boolean> {
    const path = this.#path(key);
    return this.#locked(key, async (held) => {
      const current = await this.get(key);
      const same =
        current === undefined ? expected === undefined : expected !== undefined && bytesEqual(current, expected);
      if (!same) return false;
      await this.#writeAtomic(path, next, held);
      return true;
    });
  }

  /**
   * Removes temporary files and moved-away lock files that crashed writers left behind. Only those
   * older than the stale-lock age: a younger one may belong to a live writer in another process.
   * Entries are never touched; readers never see leftovers since keys cannot start with a dot.
   */
  async removeLeftovers(): Promise<number> {
    let removed = 0;
    const now = this.#clock.now().getTime();
    const kinds = await readdir(this.directory, { withFileTypes: true }).catch(() => []);
    for (const kind of kinds) {
      if (!kind.isDirectory()) continue;
      const dir = join(this.directory, kind.name);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!name.startsWith(".") || name.endsWith(".lock")) continue;
        const file = join(dir, name);
        const st = await stat(file).catch(() => undefined);
        if (st === undefined || now - st.mtimeMs <= this.#staleLockMs) continue;
        await unlink(file).then(
          () => removed++,
          () => {},
        );
      }
    }
    if (removed > 0) this.#log.info("removed leftover files of crashed history writers", { removed });
    return removed;
  }

  #path(key: string): string {
    checkKey(key);
    const [kind, name] = key.split("/") as [string, string];
    return join(this.directory, kind, name);
  }

  async #locked<T>(key: string, body: (held: HeldLock) => Promise<T>): Promise<T> {
    const previous = this.#local.get(key) ?? Promise.resolve();
    const run = previous.then(async () => {
      const path = this.#path(key);
      const dir = join(path, "..");
      await ioStep("creating", dir, async () => {
        const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
        if (created !== undefined) await syncDir(this.directory);
      });
      const held = await this.#acquire(`${dir}/.${key.split("/")[1]}.lock`, key);
      try {
        return await body(held);
      } finally {
        await this.#release(held);
      }
    });
    const settled = run.catch(() => {});
    this.#local.set(key, settled);
    void settled.then(() => {
      if (this.#local.get(key) === settled) this.#local.delete(key);
    });
    return run;
  }

  async #acquire(path: string, key: string): Promise<HeldLock> {
    const record: LockRecord = {
      pid: process.pid,
      host: this.#host,
      token: randomUUID(),
      since: this.#clock.now().toISOString(),
    };
    const content = `${JSON.stringify(record)}\n`;
    const deadline = this.#clock.now().getTime() + this.#lockTimeoutMs;
    let wait = 1;
    for (;;) {
      try {
        const fh = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, FILE_MODE);
        try {
          await fh.writeFile(content);
        } catch (err) {
          // A lock we cannot fill in (disk full) would hold everyone off until it ages out.
          await unlink(path).catch(() => {});
          throw err;
        } finally {
          await fh.close();
        }
        return { path, content };
      } catch (err) {
        if (!isErrno(err, "EEXIST")) throw ioError("creating the lock file", path, err);
      }
      const seen = await sightLock(path);
      if (seen !== undefined && this.#isAbandoned(seen)) {
        await this.#breakLock(path, seen, key);
        continue;
      }
      if (this.#clock.now().getTime() >= deadline) {
        throw new CoordinatorError("HISTORY_STORE_LOCKED", `history entry ${key} stayed locked by another writer`, {
          details: { lock: path, holder: seen?.content.trim() },
        });
      }
      // Jittered backoff: contenders in several processes must not retry in lock step.
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  #isAbandoned(seen: LockSighting): boolean {
    if (this.#clock.now().getTime() - seen.mtimeMs > this.#staleLockMs) return true;
    const record = parseLockRecord(seen.content);
    // A pid means something only on the host (PID namespace) that wrote it.
    if (record === undefined || record.host !== this.#host) return false;
    return !pidAlive(record.pid);
  }

  /**
   * Removes an abandoned lock without ever removing a newer one: the file is first renamed to a
   * name only this attempt uses, and then compared with the one judged abandoned. If another
   * breaker got there first and a new holder already re-created the lock, it is put back (link
   * does not replace, so a lock taken meanwhile is not overwritten).
   */
  async #breakLock(path: string, seen: LockSighting, key: string): Promise<void> {
    const moved = `${path}.broken-${randomUUID()}`;
    try {
      await rename(path, moved);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return;
      throw ioError("breaking the lock file", path, err);
    }
    const got = await sightLock(moved);
    if (got !== undefined && (got.ino !== seen.ino || got.mtimeNs !== seen.mtimeNs || got.content !== seen.content)) {
      await link(moved, path).catch(() => {});
    } else {
      this.#log.warn("broke an abandoned history lock", { key, holder: seen.content.trim() });
    }
    await unlink(moved).catch(() => {});
  }

  async #release(held: HeldLock): Promise<void> {
    const current = await readFile(held.path, "utf8").catch(() => undefined);
    if (current === held.content) {
      await unlink(held.path).catch(() => {});
    } else {
      this.#log.warn("history lock was broken while held (the write took longer than the stale-lock age)", {
        lock: held.path,
      });
    }
  }

  async #writeAtomic(path: string, value: Uint8Array, held: HeldLock): Promise<void> {
    const dir = join(path, "..");
    const tmp = join(dir, `.${path.slice(dir.length + 1)}.${process.pid}-${randomUUID()}.tmp`);
    await ioStep("writing", path, async () => {
      let fh: FileHandle | undefined;
      try {
        fh = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, FILE_MODE);
        await fh.writeFile(value);
        await fh.sync();
        await fh.close();
        fh = undefined;
        // Narrows the window in which a writer whose lock was broken as stale could still commit.
        if ((await readFile(held.path, "utf8").catch(() => undefined)) !== held.content) {
          throw new CoordinatorError("HISTORY_STORE_LOCKED", `lost the lock on ${path} before committing`, {
            hint: "The write took longer than the stale-lock age; retry, and look at the volume's latency.",
          });
        }
        await rename(tmp, path);
      } catch (err) {
        await fh?.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw err;
      }
      await syncDir(dir);
    });
  }
}

async function sightLock(path: string): Promise<LockSighting | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, "r");
    const st = await fh.stat({ bigint: true });
    const content = await fh.readFile("utf8");
    return { content, ino: st.ino, mtimeNs: st.mtimeNs, mtimeMs: Number(st.mtimeMs) };
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw ioError("reading the lock file", path, err);
  } finally {
    await fh?.close().catch(() => {});
  }
}

function parseLockRecord(content: string): LockRecord | undefined {
  try {
    const v = JSON.parse(content) as Partial<LockRecord>;
    if (typeof v.pid === "number" && Number.isInteger(v.pid) && v.pid > 0 && typeof v.host === "string") {
      return v as LockRecord;
    }
  } catch {
    // A holder killed between creating and writing the file leaves it empty: judged by age alone.
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return !isErrno(err, "ESRCH");
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function ioStep<T>(what: string, path: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CoordinatorError) throw err;
    throw ioError(what, path, err);
  }
}

function ioError(what: string, path: string, err: unknown): CoordinatorError {
  const code = (err as { code?: unknown }).code;
  return new CoordinatorError(
    "HISTORY_STORE_IO",
    `${what} ${path} failed${typeof code === "string" ? ` (${code})` : ""}`,
    {
      cause: err,
      details: { path },
    },
  );
}
