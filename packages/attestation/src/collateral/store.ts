import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, ContrastError, type Logger, noopLogger, sha256Hex } from "@contrast/core";

/** What a fetch returned. Headers carry issuer chains for Intel's PCS. */
export interface FetchedDocument {
  body: Uint8Array;
  headers: Readonly<Record<string, string>>;
}

/** Injected network access: tests never touch the network. Throw on failure or non-2xx. */
export type CollateralFetcher = (url: string) => Promise<FetchedDocument>;

/** Injected storage for the cache: a directory in production, memory in tests. */
export interface CollateralCacheStorage {
  read(key: string): Promise<Uint8Array | undefined>;
  write(key: string, data: Uint8Array): Promise<void>;
}

/** A cache directory; entries are written to a temporary name and renamed, so readers never see half a file. */
export function directoryStorage(dir: string): CollateralCacheStorage {
  return {
    async read(key) {
      try {
        return new Uint8Array(await readFile(join(dir, key)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    async write(key, data) {
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.${key}.${process.pid}.tmp`);
      await writeFile(tmp, data);
      await rename(tmp, join(dir, key));
    },
  };
}

export interface CollateralStoreOptions {
  readonly clock: Clock;
  readonly storage: CollateralCacheStorage;
  /** Omit for offline mode: only what is in the storage (e.g. an offline bundle) is used. */
  readonly fetcher?: CollateralFetcher;
  readonly log?: Logger;
}

/**
 * Until when a document may be used: a CRL's nextUpdate, a TCB info's nextUpdate; `undefined`
 * for documents whose validity the verifier checks itself (certificates).
 */
export type FreshUntil = (doc: FetchedDocument) => Date | undefined;

interface Envelope {
  url: string;
  fetchedAt: string;
  freshUntil: string | null;
  headers: Record<string, string>;
  body: string; // base64
}

/**
 * Collateral from AMD's KDS and Intel's PCS through a cache that honours validity: fresh copies
 * are served from the cache; stale ones are refetched; when the vendor is unreachable a stale
 * copy is served with a warning (the verifier still checks its validity window, so an expired
 * CRL or TCB info is still refused there). Without a fetcher the store works offline.
 */
export class CollateralStore {
  private readonly clock: Clock;
  private readonly storage: CollateralCacheStorage;
  private readonly fetcher: CollateralFetcher | undefined;
  private readonly log: Logger;

  constructor(options: CollateralStoreOptions) {
    this.clock = options.clock;
    this.storage = options.storage;
    this.fetcher = options.fetcher;
    this.log = options.log ?? noopLogger;
  }

  static key(url: string): string {
    return `${sha256Hex(new TextEncoder().encode(url))}.json`;
  }

  /**
   * The document known by `url`. `from` is where to fetch it when that differs (a mirror of the
   * vendor's service): the cache stays keyed by the vendor's URL, so bundles do not depend on it.
   */
  async get(url: string, freshUntil: FreshUntil = () => undefined, from: string = url): Promise<FetchedDocument> {
    const now = this.clock.now();
    const cached = await this.read(url);
    if (cached && (cached.freshUntil === null || now <= new Date(cached.freshUntil))) return toDocument(cached);
    if (this.fetcher === undefined) {
      if (cached) {
        this.log.warn("using stale collateral from the offline bundle", { url, freshUntil: cached.freshUntil });
        return toDocument(cached);
      }
      throw new ContrastError("COLLATERAL_UNAVAILABLE", `no collateral for ${url} in the offline bundle`, {
        kind: "io",
        hint: "Add it to the bundle, or allow network access to the vendor.",
      });
    }
    let doc: FetchedDocument;
    try {
      doc = await this.fetcher(from);
    } catch (cause) {
      if (cached) {
        this.log.warn("vendor unreachable; using stale cached collateral", { url, freshUntil: cached.freshUntil });
        return toDocument(cached);
      }
      throw new ContrastError("COLLATERAL_UNAVAILABLE", `cannot fetch ${from}`, {
        kind: "io",
        cause,
        hint: "Check network access to the vendor (AMD KDS or Intel PCS), or use an offline bundle.",
      });
    }
    const until = freshUntil(doc);
    const envelope: Envelope = {
      url,
      fetchedAt: now.toISOString(),
      freshUntil: until === undefined ? null : until.toISOString(),
      headers: { ...doc.headers },
      body: Buffer.from(doc.body).toString("base64"),
    };
    await this.storage.write(CollateralStore.key(url), new TextEncoder().encode(JSON.stringify(envelope)));
    return doc;
  }

  private async read(url: string): Promise<Envelope | undefined> {
    const raw = await this.storage.read(CollateralStore.key(url));
    if (raw === undefined) return undefined;
    try {
      const e = JSON.parse(new TextDecoder().decode(raw)) as Envelope;
      if (e.url !== url || typeof e.body !== "string") throw new Error("mismatch");
      return e;
    } catch {
      // A damaged cache entry is not an error: it is refetched (or reported missing offline).
      this.log.warn("ignoring a damaged collateral cache entry", { url });
      return undefined;
    }
  }
}

function toDocument(e: Envelope): FetchedDocument {
  return { body: new Uint8Array(Buffer.from(e.body, "base64")), headers: e.headers };
}
