import type { ImageFileSystem } from "../../src/fs.js";

/** An ImageFileSystem over a Map, for the layers cache in tests; `files` shows what was written. */
export function memoryFileSystem(): { fs: ImageFileSystem; files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  const fs: ImageFileSystem = {
    readFile: async (p) => files.get(p),
    readChunks: async function* () {},
    writeFileAtomic: async (p, d) => void files.set(p, d),
    createExclusive: async (p, d) => {
      if (files.has(p)) return false;
      files.set(p, d);
      return true;
    },
    remove: async (p) => void files.delete(p),
    ageMs: async (p) => (files.has(p) ? 0 : undefined),
  };
  return { fs, files };
}
