import type { CollateralCacheStorage, CollateralFetcher } from "@contrast/attestation";

/** Network access for the collateral store: plain HTTPS GETs, headers kept (issuer chains). */
export const httpFetcher: CollateralFetcher = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { body: new Uint8Array(await res.arrayBuffer()), headers: Object.fromEntries(res.headers.entries()) };
};

/** A cache that lives as long as the command: used when fetching without --collateral-dir. */
export function memoryStorage(): CollateralCacheStorage {
  const entries = new Map<string, Uint8Array>();
  return {
    read: async (key) => entries.get(key),
    write: async (key, data) => {
      entries.set(key, data);
    },
  };
}
