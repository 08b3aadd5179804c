import { randomBytes } from "node:crypto";
import { constants, type FileHandle, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ContrastError } from "@contrast/core";
import { WorkloadError } from "./errors.js";
import { CREDENTIAL_MODES, type CredentialFile } from "./layout.js";

/**
 * The file operations writing credentials needs, injected so that the library touches no file
 * system of its own (tests pass a recording double; the initializer passes nodeCredentialFs).
 * `stage` writes the bytes to a new temporary file next to `path` and makes them durable;
 * `commit` renames it over `path` (atomic on POSIX) and makes the rename durable.
 */
export interface CredentialFileSystem {
  mkdir(path: string, mode: number): Promise<void>;
  stage(path: string, contents: Uint8Array, mode: number): Promise<StagedFile>;
}

export interface StagedFile {
  commit(): Promise<void>;
  /** Removes the temporary file; harmless after commit or a failed stage. */
  discard(): Promise<void>;
}

async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await handle.sync();
  } catch {
    // Some file systems (and platforms) cannot fsync a directory; the rename itself is atomic.
  } finally {
    await handle?.close();
  }
}

/**
 * Node's file system: a temporary file `.<name>.<random>.tmp` in the same directory (so the
 * rename never crosses file systems), created exclusively with the final mode, written, fsynced,
 * then renamed over the final name and the directory fsynced. Modes are set with chmod after
 * creating, so the process umask cannot widen or narrow them.
 */
export const nodeCredentialFs: CredentialFileSystem = {
  async mkdir(path, mode) {
    await mkdir(path, { recursive: true, mode });
    // mkdir's mode is filtered by the umask, and an existing directory keeps its mode.
    const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
  },
  async stage(path, contents, mode) {
    const tmp = join(dirname(path), `.${path.split("/").pop()}.${randomBytes(6).toString("hex")}.tmp`);
    const handle = await open(tmp, "wx", 0o600);
    let committed = false;
    const discard = async () => {
      if (!committed) await unlink(tmp).catch(() => {});
    };
    try {
      await handle.writeFile(contents);
      await handle.chmod(mode);
      await handle.sync();
    } catch (e) {
      await handle.close().catch(() => {});
      await discard();
      throw e;
    }
    await handle.close();
    return {
      async commit() {
        await rename(tmp, path);
        committed = true;
        await syncDir(dirname(path));
      },
      discard,
    };
  },
};

/**
 * Writes the credential files under `root`: the directories (0755), then every file staged
 * before any is renamed into place, so a failure while staging leaves no new file (the
 * temporaries are removed) and a reader never sees a file half-written. The `marker` (upstream's
 * `/done`, absolute or relative to `root`) is written last, only after every file is in place.
 */
export async function writeCredentials(
  fs: CredentialFileSystem,
  root: string,
  files: readonly CredentialFile[],
  options: { readonly marker?: string | undefined } = {},
): Promise<string[]> {
  const written: string[] = [];
  const fail = (what: string, cause: unknown) => {
    const err = ContrastError.from(cause);
    return new WorkloadError("INITIALIZER_WRITE_FAILED", `${what}: ${err.message}`, { cause });
  };
  const dirs = [...new Set(files.map((f) => dirname(f.path)))].filter((d) => d !== ".");
  for (const dir of dirs) {
    try {
      await fs.mkdir(join(root, dir), CREDENTIAL_MODES.dir);
    } catch (e) {
      throw fail(`creating ${join(root, dir)}`, e);
    }
  }
  const staged: StagedFile[] = [];
  try {
    for (const file of files) {
      const path = join(root, file.path);
      try {
        staged.push(await fs.stage(path, file.contents, file.mode));
      } catch (e) {
        throw fail(`writing ${path}`, e);
      }
    }
    for (const [i, s] of staged.entries()) {
      const path = join(root, (files[i] as CredentialFile).path);
      try {
        await s.commit();
      } catch (e) {
        throw fail(`renaming into ${path}`, e);
      }
      written.push(path);
    }
  } catch (e) {
    await Promise.all(staged.map((s) => s.discard()));
    throw e;
  }
  if (options.marker !== undefined && options.marker !== "") {
    const path = options.marker.startsWith("/") ? options.marker : join(root, options.marker);
    try {
      const s = await fs.stage(path, new Uint8Array(0), 0o644);
      await s.commit();
    } catch (e) {
      throw fail(`writing the marker ${path}`, e);
    }
    written.push(path);
  }
  return written;
}
