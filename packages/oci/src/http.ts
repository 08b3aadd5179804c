/**
 * The slice of WHATWG `fetch` the registry client uses. Node's global `fetch` fits it; tests
 * and the CLI may pass anything with the same shape. The library never creates a fetcher itself.
 */
export interface HttpRequestInit {
  method: "GET" | "HEAD";
  headers: Record<string, string>;
  redirect?: "follow";
  signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  /** A web ReadableStream or any async iterable of byte chunks; null for empty bodies. */
  readonly body: unknown;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type Fetcher = (url: string, init: HttpRequestInit) => Promise<HttpResponse>;

/** Iterates a response body chunk by chunk, whatever stream flavour the fetcher returns. */
export async function* bodyChunks(body: unknown): AsyncGenerator<Uint8Array> {
  if (body === null || body === undefined) return;
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function") {
    for await (const chunk of body as AsyncIterable<Uint8Array>) yield chunk;
    return;
  }
  const reader = (body as { getReader?: () => ReadableStreamLikeReader }).getReader?.();
  if (reader === undefined) throw new TypeError("response body is not a stream");
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value !== undefined) yield value;
    }
  } finally {
    reader.releaseLock?.();
  }
}

interface ReadableStreamLikeReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  releaseLock?(): void;
}

/** Reads a body completely, refusing more than `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of bodyChunks(res.body)) {
    total += chunk.length;
    if (total > limit) {
      await discardBody(res);
      return undefined;
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** Releases a response whose body we do not want, so its connection can be reused. */
export async function discardBody(res: HttpResponse): Promise<void> {
  const body = res.body as { cancel?: () => Promise<void> } | null | undefined;
  try {
    if (body && typeof body.cancel === "function") await body.cancel();
  } catch {
    // Nothing to do: the body is gone either way.
  }
}
