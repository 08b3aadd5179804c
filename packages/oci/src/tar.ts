import { ImageError } from "./errors.js";

/**
 * A push parser for tar archives that reads them the way Rust's `tar` crate does, because
 * genpolicy's tarindex and its /etc/passwd scan see a layer through that crate: GNU long names
 * and links, PAX `path`/`linkpath`/`size`/`uid`/`gid` with the crate's record syntax and its
 * rule that the PAX size counts only when the header size is 0, GNU sparse extension blocks
 * skipped, the archive ending at the first all-zero header block, a header checksum that must
 * match. The crate versions Kata and Microsoft pin (0.4.38 … 0.4.41) agree on all of this;
 * 0.4.38 (the tardev snapshotters' own build) does not apply PAX uid/gid, 0.4.40 and later
 * (genpolicy's build) do, and so do we.
 *
 * It is fed the decompressed layer in chunks of any size and calls back once per member with
 * the member's header fields and absolute offsets; data is kept only where asked for (metadata
 * members and files the caller wants to read), so memory does not grow with the layer.
 */

export const TAR_BLOCK = 512;
/** Largest metadata member (long name, PAX record set) or requested file we buffer. */
export const MAX_BUFFERED_MEMBER = 16 << 20;

export interface TarMember {
  /** Offset of the member's own header block. */
  readonly headerOffset: number;
  /** Offset of its data. */
  readonly dataOffset: number;
  /** Data size: the header's, or the PAX `size` when the header says 0 (see `onHeader`). */
  readonly size: number;
  /** The header block as stored, with PAX uid/gid applied as the tar crate does. */
  readonly header: Uint8Array;
  readonly typeflag: number;
  /** Path as `Entry::path_bytes`: GNU long name, else PAX `path`, else the header's. */
  readonly path: Uint8Array;
  /** Link target as `Entry::link_name_bytes`, undefined when there is none. */
  readonly linkName: Uint8Array | undefined;
  /** PAX uid/gid overriding the header's, when given. */
  readonly uid: bigint | undefined;
  readonly gid: bigint | undefined;
}

export interface TarMemberHandler {
  /** Called for every member; return true to receive its data through `onData`. */
  onMember(member: TarMember): boolean;
  /** The member's data, complete, when `onMember` asked for it. */
  onData?(member: TarMember, data: Uint8Array): void;
}

function tarError(message: string, offset: number): ImageError {
  return new ImageError("LAYER_TAR_INVALID", `layer is not a valid tar archive: ${message} (at byte ${offset})`, {
    kind: "input",
    hint: "The image layer is damaged or not a tar archive; rebuild or re-push the image.",
    details: { offset },
  });
}

/** Bytes up to the first NUL. */
export function truncateNul(field: Uint8Array): Uint8Array {
  const i = field.indexOf(0);
  return i < 0 ? field : field.subarray(0, i);
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

/** `octal_from` of the tar crate: NUL-terminated, trimmed, base 8; undefined when unparsable. */
export function parseOctal(field: Uint8Array): bigint | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(truncateNul(field));
  } catch {
    return undefined;
  }
  text = text.trim();
  if (text.startsWith("+")) text = text.slice(1);
  if (!/^[0-7]+$/.test(text)) return undefined;
  const v = BigInt(`0o${text}`);
  return v <= 0xffff_ffff_ffff_ffffn ? v : undefined;
}

/** `num_field_wrapper_from`: base-256 when the high bit is set (last 8 bytes), else octal. */
export function parseNumeric(field: Uint8Array): bigint | undefined {
  const first = field[0] ?? 0;
  if ((first & 0x80) === 0) return parseOctal(field);
  let v = 0n;
  if (field.length === 8) {
    v = BigInt(first ^ 0x80);
    for (let i = 1; i < 8; i++) v = (v << 8n) | BigInt(field[i] ?? 0);
  } else {
    for (let i = field.length - 8; i < field.length; i++) v = (v << 8n) | BigInt(field[i] ?? 0);
  }
  return v & 0xffff_ffff_ffff_ffffn;
}

export function isUstar(h: Uint8Array): boolean {
  return latin1(h.subarray(257, 263)) === "ustar\0" && latin1(h.subarray(263, 265)) === "00";
}

export function isGnu(h: Uint8Array): boolean {
  return latin1(h.subarray(257, 263)) === "ustar " && latin1(h.subarray(263, 265)) === " \0";
}

/** `Header::path_bytes`: ustar prefix + "/" + name, else the name alone. */
export function headerPath(h: Uint8Array): Uint8Array {
  const name = truncateNul(h.subarray(0, 100));
  if (isUstar(h)) {
    const prefix = truncateNul(h.subarray(345, 500));
    if (prefix.length > 0) return Buffer.concat([prefix, Buffer.from("/"), name]);
  }
  return name;
}

/** `Header::link_name_bytes`: undefined when the field starts with NUL. */
export function headerLinkName(h: Uint8Array): Uint8Array | undefined {
  if (h[157] === 0) return undefined;
  return truncateNul(h.subarray(157, 257));
}

/** One PAX record: key and value as bytes. */
export interface PaxRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * The lines of a PAX extension member as the `tar` crate (0.4.38 … 0.4.41, every version Kata's
 * and Microsoft's genpolicy and tardev snapshotter pin) iterates them (`PaxExtensions`): the data
 * is split at every `\n`, iteration ends at the first empty line (so at the final newline, but
 * also at a blank line in the middle), and each line is a record only if it reads
 * `<len> <key>=<value>` where `<len>` is a Rust `usize` (an optional `+`, ASCII digits) equal to
 * the line's length plus one and the key ends at the first `=`; otherwise it is malformed
 * (`undefined` here).
 */
export function paxLines(data: Uint8Array): (PaxRecord | undefined)[] {
  const out: (PaxRecord | undefined)[] = [];
  let start = 0;
  for (;;) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    const line = data.subarray(start, end);
    if (line.length === 0) return out;
    out.push(paxLine(line));
    if (end === data.length) return out;
    start = end + 1;
  }
}

function paxLine(line: Uint8Array): PaxRecord | undefined {
  const space = line.indexOf(0x20);
  if (space < 0) return undefined;
  const reported = parseRustUnsigned(line.subarray(0, space));
  if (reported === undefined || reported !== BigInt(line.length + 1)) return undefined;
  const kv = line.subarray(space + 1);
  const eq = kv.indexOf(0x3d);
  if (eq < 0) return undefined;
  return { key: kv.subarray(0, eq), value: kv.subarray(eq + 1) };
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Rust's `str::parse::<u64>()` (and `usize` on 64-bit): an optional `+`, then only ASCII digits. */
export function parseRustUnsigned(bytes: Uint8Array): bigint | undefined {
  const text = latin1(bytes);
  if (!/^\+?[0-9]+$/.test(text)) return undefined;
  const v = BigInt(text.startsWith("+") ? text.slice(1) : text);
  return v <= U64_MAX ? v : undefined;
}

const equalBytes = (a: Uint8Array, key: string): boolean => a.length === key.length && latin1(a) === key;

/**
 * `pax_extensions_value`: the crate's lookup of `size`, `uid` and `gid`. It is strict where the
 * path lookup is lenient: the first malformed record ends the search with no value, and so does
 * a first matching record whose value is not UTF-8 or not a `u64` (a later record with the same
 * key is never looked at).
 */
export function paxNumber(data: Uint8Array | undefined, key: string): bigint | undefined {
  if (data === undefined) return undefined;
  for (const r of paxLines(data)) {
    if (r === undefined) return undefined;
    if (!equalBytes(r.key, key)) continue;
    if (!isUtf8(r.value)) return undefined;
    return parseRustUnsigned(r.value);
  }
  return undefined;
}

/**
 * `Entry::path_bytes` / `link_name_bytes`: the first record with this key among the well-formed
 * ones (malformed records are skipped, not fatal), up to the first empty line.
 */
export function paxBytes(data: Uint8Array | undefined, key: string): Uint8Array | undefined {
  if (data === undefined) return undefined;
  for (const r of paxLines(data)) if (r !== undefined && equalBytes(r.key, key)) return r.value;
  return undefined;
}

/** Whether the crate meets a malformed record before the end of the records it reads. */
export function paxHasMalformed(data: Uint8Array): boolean {
  return paxLines(data).includes(undefined);
}

function isUtf8(b: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

const TYPE_GNU_LONGNAME = 0x4c; // 'L'
const TYPE_GNU_LONGLINK = 0x4b; // 'K'
const TYPE_PAX_LOCAL = 0x78; // 'x'
const TYPE_GNU_SPARSE = 0x53; // 'S'

type State =
  | { kind: "header" }
  | { kind: "skip"; remaining: number }
  | {
      kind: "collect";
      remaining: number;
      pad: number;
      buf: Uint8Array;
      filled: number;
      done: (data: Uint8Array) => void;
    }
  | { kind: "sparse-ext" }
  | { kind: "end" };

/** See the module comment. Call `write` with consecutive chunks and `end` after the last. */
export class TarParser {
  private offset = 0;
  private readonly headerBuf = new Uint8Array(TAR_BLOCK);
  private headerFill = 0;
  private state: State = { kind: "header" };
  private longName: Uint8Array | undefined;
  private longLink: Uint8Array | undefined;
  /** The pending PAX extension member's data; it applies to every raw header that follows. */
  private pax: Uint8Array | undefined;
  /**
   * A PAX member with malformed records, until two members later: failures there are most likely
   * its doing (its `size` was ignored), which the error then says.
   */
  private suspectPax: { offset: number; members: number } | undefined;
  private pendingMembers = 0;
  /** Padded data size of a sparse member whose extension blocks are being read. */
  private sparseRemainder = 0;

  constructor(private readonly handler: TarMemberHandler) {}

  /** True once the end-of-archive block was read. */
  get ended(): boolean {
    return this.state.kind === "end";
  }

  write(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      const s = this.state;
      switch (s.kind) {
        case "end":
          // Bytes after the end marker (the rest of the record) are not part of any member.
          this.offset += chunk.length - i;
          return;
        case "skip": {
          const n = Math.min(s.remaining, chunk.length - i);
          s.remaining -= n;
          i += n;
          this.offset += n;
          if (s.remaining === 0) this.state = { kind: "header" };
          break;
        }
        case "collect": {
          const want = s.remaining;
          const n = Math.min(want, chunk.length - i);
          s.buf.set(chunk.subarray(i, i + n), s.filled);
          s.filled += n;
          s.remaining -= n;
          i += n;
          this.offset += n;
          if (s.remaining === 0) {
            s.done(s.buf);
            this.state = s.pad > 0 ? { kind: "skip", remaining: s.pad } : { kind: "header" };
          }
          break;
        }
        case "header":
        case "sparse-ext": {
          const n = Math.min(TAR_BLOCK - this.headerFill, chunk.length - i);
          this.headerBuf.set(chunk.subarray(i, i + n), this.headerFill);
          this.headerFill += n;
          i += n;
          this.offset += n;
          if (this.headerFill === TAR_BLOCK) {
            this.headerFill = 0;
            if (s.kind === "header") this.onHeader(this.headerBuf.slice(), this.offset - TAR_BLOCK);
            else this.onSparseExtension();
          }
          break;
        }
      }
    }
  }

  /** True when the archive ended at an end-of-archive block, false when the input just stopped. */
  get terminated(): boolean {
    return this.terminatedByBlock;
  }

  private terminatedByBlock = false;

  /** Checks that the archive did not stop in the middle of a member. */
  end(): void {
    const s = this.state;
    if (s.kind === "end") return;
    if (s.kind === "header" && this.headerFill === 0) {
      // EOF where a header would start: the tar crate treats that as the end, unless extension
      // members announced a member that never came.
      if (this.pendingMembers > 0) {
        throw this.error("members found describing a future member but no future member found", this.offset);
      }
      this.state = { kind: "end" };
      return;
    }
    throw this.error("unexpected end of archive", this.offset);
  }

  /**
   * Continues an archive that ended without an end-of-archive block with more bytes, as a reader
   * of the whole file would (genpolicy's /etc/passwd walk reads the tar with the index appended).
   */
  resume(): void {
    if (this.state.kind !== "end" || this.terminatedByBlock) throw new Error("only an unterminated archive resumes");
    this.state = { kind: "header" };
  }

  private error(message: string, offset: number): ImageError {
    const suspect = this.suspectPax;
    if (suspect === undefined) return tarError(message, offset);
    return new ImageError(
      "LAYER_TAR_PAX_INVALID",
      `layer is not a valid tar archive: ${message} (at byte ${offset}), after a PAX header with malformed records (at byte ${suspect.offset})`,
      {
        kind: "input",
        hint: "A PAX record is malformed (its length prefix is wrong, or it has no '='). Kata's tar crate ignores the records from the first malformed one on, so a `size` after it does not count; genpolicy fails on this layer too. Rebuild the image with a standard tar writer.",
        details: { offset, paxOffset: suspect.offset },
      },
    );
  }

  private onHeader(h: Uint8Array, headerOffset: number): void {
    if (h.every((b) => b === 0)) {
      if (this.pendingMembers > 0) {
        throw this.error("members found describing a future member but no future member found", headerOffset);
      }
      this.state = { kind: "end" };
      this.terminatedByBlock = true;
      return;
    }
    let sum = 8 * 32;
    for (let j = 0; j < TAR_BLOCK; j++) if (j < 148 || j >= 156) sum += h[j] ?? 0;
    const cksum = parseOctal(h.subarray(148, 156));
    if (cksum === undefined) throw this.error("unparsable header checksum", headerOffset);
    if (BigInt(sum) !== cksum) throw this.error("archive header checksum mismatch", headerOffset);

    const typeflag = h[156] ?? 0;
    // The crate hands the pending PAX records to every raw header after them, extension members
    // (a GNU long name, a global header) included, until a member consumes them.
    const pax = this.pax;
    const headerSize = parseNumeric(h.subarray(124, 136));
    if (headerSize === undefined) throw this.error("unparsable size field", headerOffset);
    // Every tar crate version Kata and Microsoft pin (0.4.38 … 0.4.41) takes the PAX size only
    // when the header says 0; newer crates let it win, which would move every later member.
    const size = headerSize !== 0n ? headerSize : (paxNumber(pax, "size") ?? 0n);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error("member too large", headerOffset);
    const dataSize = Number(size);
    const padded = Math.ceil(dataSize / TAR_BLOCK) * TAR_BLOCK;
    const dataOffset = headerOffset + TAR_BLOCK;
    const recognized = isGnu(h) || isUstar(h);

    if (
      recognized &&
      (typeflag === TYPE_GNU_LONGNAME || typeflag === TYPE_GNU_LONGLINK || typeflag === TYPE_PAX_LOCAL)
    ) {
      const slot = typeflag === TYPE_GNU_LONGNAME ? "longName" : typeflag === TYPE_GNU_LONGLINK ? "longLink" : "pax";
      if (this[slot] !== undefined) {
        throw this.error(
          slot === "pax"
            ? "two pax extensions entries describing the same member"
            : "two long name entries describing the same member",
          headerOffset,
        );
      }
      this.pendingMembers++;
      this.collect(dataSize, padded, headerOffset, (data) => {
        if (slot === "pax") {
          this.pax = data;
          if (paxHasMalformed(data)) this.suspectPax = { offset: headerOffset, members: 2 };
        } else this[slot] = data;
      });
      return;
    }

    const longName = this.longName;
    const longLink = this.longLink;
    this.longName = undefined;
    this.longLink = undefined;
    this.pax = undefined;
    this.pendingMembers = 0;

    let path: Uint8Array;
    if (longName !== undefined) {
      path = longName.length > 0 && longName[longName.length - 1] === 0 ? longName.subarray(0, -1) : longName;
    } else {
      path = paxBytes(pax, "path") ?? headerPath(h);
    }
    let linkName: Uint8Array | undefined;
    if (longLink !== undefined) {
      linkName = longLink.length > 0 && longLink[longLink.length - 1] === 0 ? longLink.subarray(0, -1) : longLink;
    } else {
      linkName = paxBytes(pax, "linkpath") ?? headerLinkName(h);
    }
    const member: TarMember = {
      headerOffset,
      dataOffset,
      size: dataSize,
      header: h,
      typeflag,
      path,
      linkName,
      uid: paxNumber(pax, "uid"),
      gid: paxNumber(pax, "gid"),
    };

    if (this.suspectPax !== undefined && --this.suspectPax.members === 0) this.suspectPax = undefined;

    if (typeflag === TYPE_GNU_SPARSE) {
      if (!isGnu(h)) throw this.error("sparse entry type listed but not GNU header", headerOffset);
      this.handler.onMember(member);
      if ((h[482] ?? 0) !== 0) {
        // Extension blocks follow the header; the tar crate reads them and then skips the
        // member's data counted from the end of the header, so they shift the next header.
        this.state = { kind: "sparse-ext" };
        this.sparseRemainder = padded;
        return;
      }
      this.state = padded > 0 ? { kind: "skip", remaining: padded } : { kind: "header" };
      return;
    }

    const wants = this.handler.onMember(member);
    if (wants && this.handler.onData !== undefined) {
      const onData = this.handler.onData.bind(this.handler);
      this.collect(dataSize, padded, headerOffset, (data) => onData(member, data));
    } else {
      this.state = padded > 0 ? { kind: "skip", remaining: padded } : { kind: "header" };
    }
  }

  private onSparseExtension(): void {
    // Byte 504 of an extension block says whether another one follows.
    const more = (this.headerBuf[504] ?? 0) !== 0;
    if (!more) {
      // The data was counted from the header's end; the extension blocks came on top of it.
      const remaining = this.sparseRemainder;
      this.state = remaining > 0 ? { kind: "skip", remaining } : { kind: "header" };
    }
  }

  private collect(size: number, padded: number, at: number, done: (data: Uint8Array) => void): void {
    if (size > MAX_BUFFERED_MEMBER) throw this.error(`member of ${size} bytes is too large to read`, at);
    if (size === 0) {
      done(new Uint8Array(0));
      this.state = padded > 0 ? { kind: "skip", remaining: padded } : { kind: "header" };
      return;
    }
    this.state = { kind: "collect", remaining: size, pad: padded - size, buf: new Uint8Array(size), filled: 0, done };
  }
}
