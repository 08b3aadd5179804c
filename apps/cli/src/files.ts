import { chmod, mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ContrastError } from "@contrast/core";

/**
 * Reads a file of at most `maxBytes`. Reading stops one byte past the limit, so a huge file or a
 * device such as /dev/zero fails fast instead of filling memory.
 */
export async function readBounded(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) {
        throw new ContrastError("FILE_TOO_LARGE", `${path}: larger than ${maxBytes} bytes, the limit for a ${what}`, {
          hint: `Check that the right file was passed; a ${what} is far smaller.`,
          details: { path, maxBytes },
        });
      }
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
    }
    return new Uint8Array(Buffer.concat(chunks, total));
  } finally {
    await handle.close();
  }
}

/**
 * Writes a file whole or not at all (temporary file, then rename) with its mode, creating the
 * directory (0755) when needed: a half-written manifest, CA or seed share file is worse than none.
 */
export async function writeFileAtomically(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temp, data, { mode });
    // The umask may have narrowed the mode; the file's mode is part of the contract.
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/**
 * Writes every file or none: all contents go to temporary files next to their targets first;
 * only when all of them are written are they renamed over the targets (each rename is atomic).
 */
export async function writeAllAtomically(files: readonly { file: string; text: string }[]): Promise<void> {
  const temps: { temp: string; file: string }[] = [];
  try {
    for (const [i, { file, text }] of files.entries()) {
      const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${i}.tmp`);
      temps.push({ temp, file });
      await writeFile(temp, text, { flag: "wx" });
    }
  } catch (e) {
    await Promise.all(temps.map(({ temp }) => rm(temp, { force: true })));
    throw e;
  }
  for (const { temp, file } of temps) await rename(temp, file);
}
