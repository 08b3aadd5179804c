import { createReadStream } from "node:fs";
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { NodeInstallError } from "./errors.js";

/**
 * The node's file system as the installer sees it. Paths are absolute host paths
 * ("/etc/containerd/config.toml"); an implementation maps them below the host mount.
 */
export interface HostFs {
  /** The file's bytes, or undefined when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** The file's bytes as a stream of chunks, or undefined when it does not exist. */
  readStream(path: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** The permission bits, or undefined when nothing is there. */
  mode(path: string): Promise<number | undefined>;
  mkdirp(path: string): Promise<void>;
  /** Creates or truncates the file with `mode`, writes the data, and flushes it to disk. */
  write(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, mode: number): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; nothing when it does not exist. */
  remove(path: string): Promise<void>;
}

/** Fetches a URL's bytes as a stream; throws NODE_INSTALL_FETCH_FAILED. */
export type Fetcher = (url: string) => Promise<AsyncIterable<Uint8Array>>;

/** A HostFs over node:fs with the host's / at `root` (the installer's HOST_MOUNT). */
export function hostFsAt(root: string): HostFs {
  const at = (path: string) => {
    if (!path.startsWith("/") || path.split("/").includes("..")) {
      throw new TypeError(`host path ${JSON.stringify(path)} is not absolute and normalised`);
    }
    return join(root, path);
  };
  const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT";
  return {
    async read(path) {
      try {
        return new Uint8Array(await readFile(at(path)));
      } catch (e) {
        if (missing(e)) return undefined;
        throw e;
      }
    },
    async readStream(path) {
      try {
        await stat(at(path));
      } catch (e) {
        if (missing(e)) return undefined;
        throw e;
      }
      return createReadStream(at(path));
    },
    async mode(path) {
      try {
        return (await stat(at(path))).mode & 0o7777;
      } catch (e) {
        if (missing(e)) return undefined;
        throw e;
      }
    },
    async mkdirp(path) {
      await mkdir(at(path), { recursive: true, mode: 0o755 });
    },
    async write(path, data, mode) {
      const handle = await open(at(path), "w", mode);
      try {
        if (data instanceof Uint8Array) await handle.write(data);
        else for await (const chunk of data) await handle.write(chunk);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // open() applies the umask; the mode must be exactly what was asked for.
      await chmod(at(path), mode);
    },
    async chmod(path, mode) {
      await chmod(at(path), mode);
    },
    async rename(from, to) {
      await rename(at(from), at(to));
    },
    async remove(path) {
      await rm(at(path), { force: true });
    },
  };
}

export interface FetcherOptions {
  readonly fetch?: typeof fetch;
  /** Abort when no bytes (or no response) arrived for this long: a stalled download must not hang the node's installer. */
  readonly stallTimeoutMs?: number;
}

/**
 * The fetcher the installer uses: file:// from the installer's own file system (the payload
 * baked into an image or mounted), http(s):// with the global fetch. Status other than 200 fails.
 */
export function nodeFetcher(options: FetcherOptions = {}): Fetcher {
  const fetchImpl = options.fetch ?? fetch;
  const stallMs = options.stallTimeoutMs ?? 60_000;
  return async (url) => {
    const failed = (why: string, cause?: unknown) =>
      new NodeInstallError("NODE_INSTALL_FETCH_FAILED", `cannot fetch ${url}: ${why}`, { cause });
    if (url.startsWith("file://")) {
      const path = decodeURIComponent(new URL(url).pathname);
      try {
        await stat(path);
      } catch (e) {
        throw failed((e as NodeJS.ErrnoException).code ?? "unreadable", e);
      }
      return createReadStream(path);
    }
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new Error(`no data for ${stallMs} ms`)), stallMs);
    };
    arm();
    let response: Response;
    try {
      response = await fetchImpl(url, { redirect: "follow", signal: abort.signal });
    } catch (e) {
      clearTimeout(timer);
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
      throw failed(`${e instanceof Error ? e.message : String(e)}${cause}`, e);
    }
    if (response.status !== 200 || response.body === null) {
      clearTimeout(timer);
      await response.body?.cancel();
      throw failed(`HTTP status ${response.status}`);
    }
    const body = response.body as unknown as AsyncIterable<Uint8Array>;
    return (async function* () {
      try {
        for await (const chunk of body) {
          arm();
          yield chunk;
        }
      } catch (e) {
        throw failed(abort.signal.aborted ? String(abort.signal.reason?.message ?? "aborted") : String(e), e);
      } finally {
        clearTimeout(timer);
      }
    })();
  };
}

export function dirOf(path: string): string {
  return dirname(path);
}
