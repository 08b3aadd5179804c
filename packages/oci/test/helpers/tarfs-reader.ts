/** A reader of the tarfs format written from its description, as the tardev snapshotter reads it. */
export function readTarfs(bytes: Uint8Array) {
  const b = Buffer.from(bytes);
  const sb = b.length - 512;
  const inodeTable = Number(b.readBigUInt64LE(sb));
  const inodeCount = Number(b.readBigUInt64LE(sb + 8));
  const inode = (ino: number) => {
    const o = inodeTable + 32 * (ino - 1);
    return {
      mode: b.readUInt16LE(o),
      flags: b.readUInt8(o + 2),
      mtime: b.readUInt8(o + 3) * 2 ** 32 + b.readUInt32LE(o + 12),
      uid: b.readUInt32LE(o + 4),
      gid: b.readUInt32LE(o + 8),
      size: Number(b.readBigUInt64LE(o + 16)),
      offset: b.readBigUInt64LE(o + 24),
    };
  };
  const list = (ino: number) => {
    const d = inode(ino);
    const out = new Map<string, { ino: number; type: number }>();
    for (let o = Number(d.offset); o < Number(d.offset) + d.size; o += 32) {
      const nameOff = Number(b.readBigUInt64LE(o + 8));
      const nameLen = Number(b.readBigUInt64LE(o + 16));
      out.set(b.subarray(nameOff, nameOff + nameLen).toString("latin1"), {
        ino: Number(b.readBigUInt64LE(o)),
        type: b.readUInt8(o + 24),
      });
    }
    return out;
  };
  const lookup = (path: string) => {
    let ino = 1;
    for (const part of path.split("/").filter(Boolean)) {
      const e = list(ino).get(part);
      if (e === undefined) return undefined;
      ino = e.ino;
    }
    return { ino, ...inode(ino) };
  };
  const read = (path: string) => {
    const n = lookup(path);
    if (n === undefined) return undefined;
    return b.subarray(Number(n.offset), Number(n.offset) + n.size).toString("latin1");
  };
  return { inodeCount, inode, list, lookup, read, size: b.length };
}
