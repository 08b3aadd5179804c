import { open } from "node:fs/promises";
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
