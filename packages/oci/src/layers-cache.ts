import { type Logger, noopLogger } from "@contrast/core";
import { ImageError } from "./errors.js";
import { fromGenpolicyEtcValue, type LayerEtcFile, toGenpolicyEtcValue } from "./etc-files.js";
import type { ImageFileSystem } from "./fs.js";
import { defaultSleep, type Sleep } from "./retry.js";
import type { TarfsFlavour } from "./tarindex.js";

/** One layer as the cache knows it, content-addressed by its diff ID and tarfs flavour. */
export interface CachedLayer {
  readonly diffId: string;
  /** Which tarfs writer the verity hash is for; `kata` when absent. */
  readonly tarfs?: TarfsFlavour;
  readonly verityHash: string;
  readonly passwd: LayerEtcFile;
  readonly group: LayerEtcFile;
}

/**
 * genpolicy's `layers-cache.json` record (`ImageLayer` in registry.rs, persisted by
 * layers_cache.rs): a JSON array of these objects, written pretty-printed. serde requires all
 * four fields to be strings; "" means "no such file in the layer", "WHITEOUT" "deleted here".
 * Fields we do not know (later genpolicy versions add some) are kept when we rewrite the file.
 *
 * Our one addition, `tarfs: "microsoft"`, marks a hash made for the Microsoft fork's tarfs
 * (AKS); a record without it is Kata's, as every genpolicy writes it. The two flavours hash a
 * layer with a long symlink differently, so a record is found only under its own flavour. Kata
 * records are written first: genpolicy takes the first record with the diff ID it looks for.
 */
interface GenpolicyRecord {
  diff_id: string;
  verity_hash: string;
  passwd: string;
  group: string;
  tarfs?: unknown;
  [extra: string]: unknown;
}

const flavourOf = (r: GenpolicyRecord): TarfsFlavour | undefined =>
  r.tarfs === undefined ? "kata" : r.tarfs === "microsoft" ? "microsoft" : undefined;

/** The cache key: records of other flavours (or unknown ones) never answer for each other. */
const keyOf = (diffId: string, tarfs: TarfsFlavour | undefined): string => `${tarfs ?? "unknown"} ${diffId}`;
const recordKey = (r: GenpolicyRecord): string => keyOf(r.diff_id, flavourOf(r));

export interface LayersCacheOptions {
  readonly path: string;
  readonly fs: ImageFileSystem;
  readonly logger?: Logger;
  readonly sleep?: Sleep;
  /** A lock older than this is taken to be left by a crashed process and broken. */
  readonly staleLockMs?: number;
  /** Give up waiting for the lock after this long. */
  readonly lockTimeoutMs?: number;
}

const isRecord = (v: unknown): v is GenpolicyRecord =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as GenpolicyRecord).diff_id === "string" &&
  typeof (v as GenpolicyRecord).verity_hash === "string" &&
  typeof (v as GenpolicyRecord).passwd === "string" &&
  typeof (v as GenpolicyRecord).group === "string";

/**
 * The layer cache, compatible with genpolicy's `--layers-cache-file-path` file and safe for
 * concurrent runs: writers take a lock file (`<path>.lock`, created exclusively), re-read the
 * file, merge their new entries in, write a temporary file and rename it over the cache. Readers
 * never see a half-written file and no writer drops another's entries. An unreadable or
 * incompatible file is reported once and rebuilt.
 */
export class LayersCache {
  private readonly entries = new Map<string, GenpolicyRecord>();
  private readonly added = new Map<string, GenpolicyRecord>();
  private readonly logger: Logger;
  private readonly sleep: Sleep;
  private loaded = false;

  constructor(private readonly options: LayersCacheOptions) {
    this.logger = options.logger ?? noopLogger;
    this.sleep = options.sleep ?? defaultSleep;
  }

  get path(): string {
    return this.options.path;
  }

  /** Reads the file (again). Missing is fine; unreadable is a warning, not an error. */
  async load(): Promise<void> {
    const records = await this.read();
    for (const r of records) if (!this.entries.has(recordKey(r))) this.entries.set(recordKey(r), r);
    this.loaded = true;
  }

  private async read(): Promise<GenpolicyRecord[]> {
    const bytes = await this.options.fs.readFile(this.options.path);
    if (bytes === undefined) return [];
    const text = Buffer.from(bytes).toString("utf8");
    if (text.trim() === "") return [];
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (!Array.isArray(doc) || !doc.every(isRecord)) {
      this.logger.warn("layer cache is unreadable or of another format; it will be rebuilt", {
        path: this.options.path,
      });
      return [];
    }
    return doc;
  }

  /** A cached layer; entries without a verity hash (written by genpolicy without tardev) miss. */
  get(diffId: string, tarfs: TarfsFlavour = "kata"): CachedLayer | undefined {
    const key = keyOf(diffId, tarfs);
    const r = this.added.get(key) ?? this.entries.get(key);
    if (r === undefined || r.verity_hash === "") return undefined;
    return {
      diffId: r.diff_id,
      ...(tarfs === "kata" ? {} : { tarfs }),
      verityHash: r.verity_hash,
      passwd: fromGenpolicyEtcValue(r.passwd),
      group: fromGenpolicyEtcValue(r.group),
    };
  }

  put(layer: CachedLayer): void {
    const tarfs = layer.tarfs ?? "kata";
    const key = keyOf(layer.diffId, tarfs);
    const { tarfs: _old, ...known } = this.entries.get(key) ?? ({} as Partial<GenpolicyRecord>);
    const record: GenpolicyRecord = {
      ...known,
      diff_id: layer.diffId,
      verity_hash: layer.verityHash,
      passwd: toGenpolicyEtcValue(layer.passwd),
      group: toGenpolicyEtcValue(layer.group),
      ...(tarfs === "kata" ? {} : { tarfs }),
    };
    this.added.set(key, record);
    this.entries.set(key, record);
  }

  /** Number of entries known in memory. */
  get size(): number {
    return this.entries.size;
  }

  /** Writes entries added since the last persist, merged with what is on disk now. */
  async persist(): Promise<void> {
    if (this.added.size === 0) return;
    if (!this.loaded) await this.load();
    await this.withLock(async () => {
      const onDisk = await this.read();
      const merged = new Map<string, GenpolicyRecord>();
      for (const r of onDisk) if (!merged.has(recordKey(r))) merged.set(recordKey(r), r);
      for (const [id, r] of this.added) merged.set(id, { ...merged.get(id), ...r });
      const all = [...merged.values()];
      const ordered = [...all.filter((r) => r.tarfs === undefined), ...all.filter((r) => r.tarfs !== undefined)];
      const text = `${JSON.stringify(ordered, null, 2)}\n`;
      await this.options.fs.writeFileAtomic(this.options.path, Buffer.from(text, "utf8"));
      for (const [id, r] of merged) this.entries.set(id, r);
      this.added.clear();
    });
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.options.path}.lock`;
    const stale = this.options.staleLockMs ?? 60_000;
    const timeout = this.options.lockTimeoutMs ?? 5 * 60_000;
    let waited = 0;
    let delay = 5;
    while (!(await this.options.fs.createExclusive(lock, Buffer.from(`${process.pid}\n`)))) {
      const age = await this.options.fs.ageMs(lock);
      if (age !== undefined && age > stale) {
        this.logger.warn("breaking a stale layer-cache lock", { lock, ageMs: age });
        await this.options.fs.remove(lock);
        continue;
      }
      if (waited >= timeout) {
        throw new ImageError("LAYERS_CACHE_LOCKED", `the layer cache ${this.options.path} stays locked`, {
          kind: "io",
          hint: `Another contrast process holds ${lock}; wait for it, or remove the file if no such process runs.`,
        });
      }
      await this.sleep(delay);
      waited += delay;
      delay = Math.min(delay * 2, 200);
    }
    try {
      return await fn();
    } finally {
      await this.options.fs.remove(lock);
    }
  }
}
