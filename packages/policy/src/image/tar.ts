import { ImageError } from "./errors.js";

/**
 * A push parser for tar archives that reads them the way Rust's `tar` crate does, because
 * genpolicy's tarindex and its /etc/passwd scan see a layer through that crate: GNU long names
 * and links, PAX `path`/`linkpath`/`size`/`uid`/`gid`, GNU sparse extension blocks skipped, the
 * archive ending at the first all-zero header block, a header checksum that must match.
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
  /** Data size (the PAX `size` if given, else the header's). */
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

/** PAX records (`<len> <key>=<value>\n`), parsed leniently as the tar crate does. */
export function paxRecords(data: Uint8Array): { key: string; value: Uint8Array }[] {
  const out: { key: string; value: Uint8Array }[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    const line = data.subarray(start, end);
    start = end + 1;
    const space = line.indexOf(0x20);
    if (space < 0) continue;
    const len = Number(latin1(line.subarray(0, space)));
    if (!Number.isInteger(len) || len !== line.length + 1) continue;
    const kv = line.subarray(space + 1);
    const eq = kv.indexOf(0x3d);
    if (eq < 0) continue;
    out.push({ key: Buffer.from(kv.subarray(0, eq)).toString("utf8"), value: kv.subarray(eq + 1) });
  }
  return out;
}

function paxValue(records: { key: string; value: Uint8Array }[] | undefined, key: string): Uint8Array | undefined {
  return records?.find((r) => r.key === key)?.value;
}

function paxNumber(records: { key: string; value: Uint8Array }[] | undefined, key: string): bigint | undefined {
  const v = paxValue(records, key);
  if (v === undefined) return undefined;
  const s = latin1(v);
  return /^\d+$/.test(s) && BigInt(s) <= 0xffff_ffff_ffff_ffffn ? BigInt(s) : undefined;
}

const TYPE_GNU_LONGNAME = 0x4c; // 'L'
const TYPE_GNU_LONGLINK = 0x4b; // 'K'
const TYPE_PAX_LOCAL = 0x78; // 'x'
const TYPE_PAX_GLOBAL = 0x67; // 'g'
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
  private pax: { key: string; value: Uint8Array }[] | undefined;
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

  /** Checks that the archive did not stop in the middle of a member. */
  end(): void {
    const s = this.state;
    if (s.kind === "end") return;
    if (s.kind === "header" && this.headerFill === 0) {
      // EOF where a header would start: the tar crate treats that as the end, unless extension
      // members announced a member that never came.
      if (this.pendingMembers > 0) {
        throw tarError("members found describing a future member but no future member found", this.offset);
      }
      this.state = { kind: "end" };
      return;
    }
    throw tarError("unexpected end of archive", this.offset);
  }

  private onHeader(h: Uint8Array, headerOffset: number): void {
    if (h.every((b) => b === 0)) {
      if (this.pendingMembers > 0) {
        throw tarError("members found describing a future member but no future member found", headerOffset);
      }
      this.state = { kind: "end" };
      return;
    }
    let sum = 8 * 32;
    for (let j = 0; j < TAR_BLOCK; j++) if (j < 148 || j >= 156) sum += h[j] ?? 0;
    const cksum = parseOctal(h.subarray(148, 156));
    if (cksum === undefined) throw tarError("unparsable header checksum", headerOffset);
    if (BigInt(sum) !== cksum) throw tarError("archive header checksum mismatch", headerOffset);

    const typeflag = h[156] ?? 0;
    const isExtension =
      typeflag === TYPE_GNU_LONGNAME ||
      typeflag === TYPE_GNU_LONGLINK ||
      typeflag === TYPE_PAX_LOCAL ||
      typeflag === TYPE_PAX_GLOBAL;
    const pax = isExtension ? undefined : this.pax;
    const headerSize = parseNumeric(h.subarray(124, 136));
    if (headerSize === undefined) throw tarError("unparsable size field", headerOffset);
    const paxSize = paxNumber(pax, "size");
    const size = paxSize ?? headerSize;
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw tarError("member too large", headerOffset);
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
        throw tarError(
          slot === "pax"
            ? "two pax extensions entries describing the same member"
            : "two long name entries describing the same member",
          headerOffset,
        );
      }
      this.pendingMembers++;
      this.collect(dataSize, padded, headerOffset, (data) => {
        if (slot === "pax") this.pax = paxRecords(data);
        else this[slot] = data;
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
      path = paxValue(pax, "path") ?? headerPath(h);
    }
    let linkName: Uint8Array | undefined;
    if (longLink !== undefined) {
      linkName = longLink.length > 0 && longLink[longLink.length - 1] === 0 ? longLink.subarray(0, -1) : longLink;
    } else {
      linkName = paxValue(pax, "linkpath") ?? headerLinkName(h);
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

    if (typeflag === TYPE_GNU_SPARSE) {
      if (!isGnu(h)) throw tarError("sparse entry type listed but not GNU header", headerOffset);
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
    if (size > MAX_BUFFERED_MEMBER) throw tarError(`member of ${size} bytes is too large to read`, at);
    if (size === 0) {
      done(new Uint8Array(0));
      this.state = padded > 0 ? { kind: "skip", remaining: padded } : { kind: "header" };
      return;
    }
    this.state = { kind: "collect", remaining: size, pad: padded - size, buf: new Uint8Array(size), filled: 0, done };
  }
}
