import { ImageError } from "./errors.js";
import { headerLinkName, isGnu, isUstar, parseNumeric, parseOctal, type TarMember } from "./tar.js";

/** Which tarfs writer the platform's snapshotter uses, as it changes layer root hashes. */
export type TarfsFlavour = "kata" | "microsoft";

/**
 * The tarfs index that Kata's tardev snapshotter appends to every decompressed layer before
 * dm-verity protects it (crate `tarindex` in kata-containers `src/tardev-snapshotter`, with the
 * on-disk structures of `tarfs-defs`). genpolicy hashes exactly "tar ‖ index", so to reproduce
 * its root hashes we build the same bytes. Layout, all integers little-endian:
 *
 *   [tar archive, as decompressed]             contents_size bytes
 *   [inode table]   32 bytes per inode, in breadth-first order:
 *                   mode u16, flags u8 (1 = opaque dir), mtime bits 32..35 u8, uid u32, gid u32,
 *                   mtime bits 0..31 u32, size u64, offset u64 (data offset in the tar, dirent
 *                   table offset for directories, major<<32|minor for devices)
 *   [dirent tables] 32 bytes per entry: ino u64, name offset u64, name length u64, type u8,
 *                   7 zero bytes; one table per directory, entries in byte order of their names
 *   [names]         the entry names, concatenated, in the same order
 *   [zeros]         up to A + 4096 - 512, where A is the end offset rounded up to 4096
 *   [super block]   inode table offset u64 (= contents_size), inode count u64
 *   [zeros]         up to A + 4096
 *
 * Two quirks of the crate are part of the format because they change the hashed bytes: the end
 * offset that A is computed from counts the names twice, and directories visited twice in the
 * breadth-first walks (a hard link to the root) get their tables written twice.
 *
 * Flavours. Kata's tarindex (kata-containers/tardev-snapshotter 06183a5, the revision genpolicy
 * 3.13/3.14 builds) leaves out a symlink whose target does not fit the header's 100-byte field
 * (a GNU long link or a PAX `linkpath` that differs from the field). Microsoft's fork (every tag
 * from 3.2.0.azl1 on, the AKS runtime of Contrast v1.5) keeps it: it collects such targets in
 * archive order, writes them all between the dirent tables and the names, and points each
 * surviving long symlink's inode, in breadth-first order, at the next `size` bytes from there;
 * the names then start after the surviving long targets, and the end offset counts every
 * collected target once more. When a long symlink was replaced or whited out later, the two
 * orders disagree and inodes point at the wrong bytes, as in the fork.
 */

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

const INODE_SIZE = 32;
const DIRENT_SIZE = 32;
const ALIGNMENT = 4096;
const OPAQUE_FLAG = 1;
/** Breadth-first visits beyond this mean hard links formed a cycle; the crate would not stop. */
const MAX_VISITS = 50_000_000;

interface Node {
  offset: bigint;
  size: bigint;
  children: Map<string, Node>;
  mode: number;
  ino: number;
  emitted: boolean;
  opaque: boolean;
  mtime: bigint;
  owner: number;
  group: number;
}

function newNode(): Node {
  return {
    offset: 0n,
    size: 0n,
    children: new Map(),
    mode: 0,
    ino: 0,
    emitted: false,
    opaque: false,
    mtime: 0n,
    owner: 0,
    group: 0,
  };
}

// Names are byte strings; latin1 maps bytes 1:1 onto UTF-16 code units, so JavaScript's string
// order equals the byte order of Rust's BTreeMap<Vec<u8>, _>.
const key = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

/** `clean_path`: split on '/', drop "" and ".", ".." pops; undefined when it leaves the root. */
export function cleanPath(path: Uint8Array): string[] | undefined {
  const out: string[] = [];
  for (const part of key(path).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

function child(node: Node, name: string): Node {
  let c = node.children.get(name);
  if (c === undefined) {
    c = newNode();
    node.children.set(name, c);
  }
  return c;
}

function sortedChildren(node: Node): [string, Node][] {
  return [...node.children.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Collects the tree while the tar streams by, then writes the index. */
export class TarfsIndexBuilder {
  private root: Node = { ...newNode(), mode: S_IFDIR | 0o555 };
  /** Microsoft flavour: long symlink targets in archive order. */
  private readonly longTargets: Uint8Array[] = [];

  constructor(readonly flavour: TarfsFlavour = "kata") {}

  /** Feeds one tar member (in archive order). */
  add(m: TarMember): void {
    const h = m.header;
    const permissions = parseOctal(h.subarray(100, 108));
    if (permissions === undefined) return;
    let mode = Number(permissions & 0xffffn) & 0x1ff;
    let size = 0n;
    let offset = 0n;
    switch (m.typeflag) {
      case 0x30: // '0'
      case 0x00:
        mode |= S_IFREG;
        size = BigInt(m.size);
        offset = BigInt(m.dataOffset);
        break;
      case 0x35: // '5'
        mode |= S_IFDIR;
        break;
      case 0x36: // '6'
        mode |= S_IFIFO;
        break;
      case 0x33: // '3'
      case 0x34: {
        // '4'
        mode |= m.typeflag === 0x33 ? S_IFCHR : S_IFBLK;
        const dev = deviceNumbers(h);
        if (dev === undefined) return;
        offset = dev.minor | (dev.major << 32n);
        break;
      }
      case 0x32: {
        // '2': the link target is read in place from the header when it fits there.
        mode |= S_IFLNK;
        const name = m.linkName;
        if (name === undefined) return;
        const inHeader = headerLinkName(h) ?? new Uint8Array(0);
        size = BigInt(name.length);
        if (Buffer.compare(Buffer.from(inHeader), Buffer.from(name)) !== 0) {
          if (this.flavour === "kata") return;
          // Offset 0 marks the target as one of the appended ones (a header is never at 0 - 157).
          this.longTargets.push(name);
          offset = 0n;
        } else {
          offset = BigInt(m.headerOffset + 157);
        }
        break;
      }
      case 0x31: // '1'
        if (m.linkName !== undefined) this.hardLink(m.path, m.linkName);
        return;
      default:
        return;
    }
    const uid = m.uid ?? parseNumeric(h.subarray(108, 116)) ?? 0n;
    const gid = m.gid ?? parseNumeric(h.subarray(116, 124)) ?? 0n;
    this.place(m.path, {
      mode,
      size,
      offset,
      mtime: parseNumeric(h.subarray(136, 148)) ?? 0n,
      owner: Number(uid & 0xffff_ffffn),
      group: Number(gid & 0xffff_ffffn),
    });
  }

  private walk(parts: readonly string[]): Node {
    let n = this.root;
    for (const p of parts) n = child(n, p);
    return n;
  }

  private place(
    name: Uint8Array,
    e: { mode: number; size: bigint; offset: bigint; mtime: bigint; owner: number; group: number },
  ): void {
    const path = cleanPath(name);
    if (path === undefined) return;
    const last = path[path.length - 1];
    if (last !== undefined) {
      if (last === ".wh..wh..opq") {
        this.walk(path.slice(0, -1)).opaque = true;
        return;
      }
      if (last.startsWith(".wh.")) {
        // A whiteout becomes a 0/0 character device, which overlayfs reads as "deleted".
        const n = this.walk([...path.slice(0, -1), last.slice(4)]);
        n.children = new Map();
        n.mode = (n.mode & ~S_IFMT & 0xffff) | S_IFCHR;
        n.size = 0n;
        n.offset = 0n;
        return;
      }
    }
    const n = this.walk(path);
    // A later member replaces an earlier one at the same path, children and all.
    Object.assign(n, { ...newNode(), ...e });
  }

  private hardLink(name: Uint8Array, target: Uint8Array): void {
    const targetPath = cleanPath(target);
    if (targetPath === undefined) return;
    const existing = this.walk(targetPath);
    if ((existing.mode & S_IFMT) !== S_IFREG) return;
    const path = cleanPath(name);
    if (path === undefined) return;
    const last = path[path.length - 1];
    if (last === undefined) {
      this.root = existing;
      return;
    }
    this.walk(path.slice(0, -1)).children.set(last, existing);
  }

  private bfs(visit: (n: Node) => void): void {
    const queue: Node[] = [this.root];
    let visits = 0;
    for (let head = 0; head < queue.length; head++) {
      const n = queue[head] as Node;
      if (++visits > MAX_VISITS) {
        throw new ImageError("LAYER_TAR_INVALID", "the layer's hard links form a cycle", {
          hint: "The image layer is malformed; genpolicy would not finish on it either.",
        });
      }
      visit(n);
      for (const [, c] of sortedChildren(n)) queue.push(c);
      // Drop visited entries now and then so a wide tree does not keep the whole queue alive.
      if (head > 65536) {
        queue.splice(0, head + 1);
        head = -1;
      }
    }
  }

  /**
   * The bytes to append after a tar archive of `contentsSize` bytes. Call once, after the last
   * member.
   */
  finish(contentsSize: number): Uint8Array[] {
    let inoCount = 0;
    this.bfs((n) => {
      if (n.ino === 0) n.ino = ++inoCount;
    });
    const base = BigInt(contentsSize);
    let direntOffset = base + BigInt(INODE_SIZE * inoCount);
    this.bfs((n) => {
      if ((n.mode & S_IFMT) !== S_IFDIR) return;
      n.offset = direntOffset;
      n.size = BigInt(DIRENT_SIZE * n.children.size);
      direntOffset += n.size;
    });
    const stringTableOffset = direntOffset;
    let symlinkOffset = stringTableOffset;

    const out: Uint8Array[] = [];
    const inodes: Buffer[] = [];
    this.bfs((n) => {
      if (n.emitted) return;
      n.emitted = true;
      let inodeOffset = n.offset;
      if ((n.mode & S_IFMT) === S_IFLNK && n.offset === 0n) {
        inodeOffset = symlinkOffset;
        symlinkOffset += n.size;
      }
      const b = Buffer.alloc(INODE_SIZE);
      b.writeUInt16LE(n.mode & 0xffff, 0);
      b.writeUInt8(n.opaque ? OPAQUE_FLAG : 0, 2);
      b.writeUInt8(Number((n.mtime >> 32n) & 0xfn), 3);
      b.writeUInt32LE(n.owner >>> 0, 4);
      b.writeUInt32LE(n.group >>> 0, 8);
      b.writeUInt32LE(Number(n.mtime & 0xffff_ffffn), 12);
      b.writeBigUInt64LE(n.size & 0xffff_ffff_ffff_ffffn, 16);
      b.writeBigUInt64LE(inodeOffset & 0xffff_ffff_ffff_ffffn, 24);
      inodes.push(b);
    });
    out.push(Buffer.concat(inodes));

    let nameOffset = symlinkOffset;
    const dirents: Buffer[] = [];
    const names: Buffer[] = [];
    this.bfs((n) => {
      if ((n.mode & S_IFMT) !== S_IFDIR) return;
      for (const [name, c] of sortedChildren(n)) {
        const nameBytes = Buffer.from(name, "latin1");
        const d = Buffer.alloc(DIRENT_SIZE);
        d.writeBigUInt64LE(BigInt(c.ino), 0);
        d.writeBigUInt64LE(nameOffset, 8);
        d.writeBigUInt64LE(BigInt(nameBytes.length), 16);
        d.writeUInt8(direntType(c.mode), 24);
        dirents.push(d);
        names.push(nameBytes);
        nameOffset += BigInt(nameBytes.length);
      }
    });
    const longTargets = Buffer.concat(this.longTargets);
    out.push(Buffer.concat(dirents), longTargets, Buffer.concat(names));
    const namesLength = Number(nameOffset - symlinkOffset);
    const written = Number(stringTableOffset) - contentsSize + longTargets.length + namesLength;
    // The crate adds the name lengths (and the fork the long targets) to its end offset a second
    // time while writing them.
    const endOffset = Number(nameOffset) + longTargets.length + namesLength;
    const aligned = Math.ceil(endOffset / ALIGNMENT) * ALIGNMENT;
    const tail = Buffer.alloc(aligned + ALIGNMENT - contentsSize - written);
    const sbAt = aligned + ALIGNMENT - 512 - contentsSize - written;
    tail.writeBigUInt64LE(BigInt(contentsSize), sbAt);
    tail.writeBigUInt64LE(BigInt(inoCount), sbAt + 8);
    out.push(tail);
    return out;
  }
}

function deviceNumbers(h: Uint8Array): { major: bigint; minor: bigint } | undefined {
  // Only ustar and GNU headers carry device numbers; both keep them at the same place.
  if (!isUstar(h) && !isGnu(h)) return undefined;
  const major = parseOctal(h.subarray(329, 337));
  const minor = parseOctal(h.subarray(337, 345));
  if (major === undefined || minor === undefined) return undefined;
  return { major: major & 0xffff_ffffn, minor: minor & 0xffff_ffffn };
}

function direntType(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFSOCK:
      return 12;
    case S_IFLNK:
      return 10;
    case S_IFREG:
      return 8;
    case S_IFBLK:
      return 6;
    case S_IFDIR:
      return 4;
    case S_IFCHR:
      return 2;
    case S_IFIFO:
      return 1;
    default:
      return 0;
  }
}
