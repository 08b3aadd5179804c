import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";

/**
 * The file access the image side needs, injected so that the library itself never touches the
 * disk: the CLI passes `nodeFileSystem`, tests may pass a double.
 */
export interface ImageFileSystem {
  /** File contents, or undefined when the file does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** Streams a file in chunks. */
  readChunks(path: string): AsyncIterable<Uint8Array>;
  /** Writes `data` to a fresh temporary file next to `path`, then renames it over `path`. */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  /** Creates `path` only if it does not exist; false when it does. */
  createExclusive(path: string, data: Uint8Array): Promise<boolean>;
  remove(path: string): Promise<void>;
  /** Milliseconds since the file was last modified, or undefined when it does not exist. */
  ageMs(path: string): Promise<number | undefined>;
}

const isErrno = (err: unknown, code: string): boolean =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;

/** The real file system (node:fs). */
export const nodeFileSystem: ImageFileSystem = {
  async readFile(path) {
    try {
      return await readFile(path);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
  },
  async *readChunks(path) {
    yield* createReadStream(path, { highWaterMark: 1 << 20 });
  },
  async writeFileAtomic(path, data) {
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const fh = await open(tmp, "wx", 0o644);
      try {
        await fh.writeFile(data);
        // Durable before it becomes visible: a crash must not leave a truncated cache behind.
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  },
  async createExclusive(path, data) {
    try {
      await writeFile(path, data, { flag: "wx" });
      return true;
    } catch (err) {
      if (isErrno(err, "EEXIST")) return false;
      throw err;
    }
  },
  async remove(path) {
    try {
      await unlink(path);
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
    }
  },
  async ageMs(path) {
    try {
      return Date.now() - (await stat(path)).mtimeMs;
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
  },
};
