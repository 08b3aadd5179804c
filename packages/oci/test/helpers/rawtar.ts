/**
 * Tar members written byte by byte from the POSIX ustar layout, for archives no tar tool writes
 * (malformed PAX records, a PAX size that contradicts the header). Well-formed archives in tests
 * come from real writers (tar-stream, GNU tar, Go, Python) instead.
 */

export interface RawHeader {
  readonly name: string | Uint8Array;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  readonly mtime?: number;
  /** One character: "0" file, "2" symlink, "5" directory, "x" PAX, "L" GNU long name, … */
  readonly type?: string;
  readonly linkname?: string | Uint8Array;
  /** "ustar" (POSIX, default) or "gnu" magic. */
  readonly magic?: "ustar" | "gnu";
}

const bytes = (v: string | Uint8Array): Buffer => (typeof v === "string" ? Buffer.from(v, "latin1") : Buffer.from(v));

function octal(b: Buffer, at: number, width: number, value: number): void {
  b.write(`${value.toString(8).padStart(width - 1, "0")}\0`, at, "latin1");
}

export function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  bytes(h.name).copy(b, 0, 0, 100);
  octal(b, 100, 8, h.mode ?? 0o644);
  octal(b, 108, 8, h.uid ?? 0);
  octal(b, 116, 8, h.gid ?? 0);
  octal(b, 124, 12, h.size ?? 0);
  octal(b, 136, 12, h.mtime ?? 1_700_000_000);
  b.write(h.type ?? "0", 156, "latin1");
  if (h.linkname !== undefined) bytes(h.linkname).copy(b, 157, 0, 100);
  if (h.magic === "gnu") b.write("ustar  \0", 257, "latin1");
  else b.write("ustar\u000000", 257, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

/** A header and its data, padded to whole blocks. */
export function rawMember(h: RawHeader, data: string | Uint8Array = ""): Buffer {
  const d = bytes(data);
  const pad = (512 - (d.length % 512)) % 512;
  return Buffer.concat([rawHeader({ size: d.length, ...h }), d, Buffer.alloc(pad)]);
}

/** One well-formed PAX record: `<len> <key>=<value>\n` with the length that counts itself. */
export function paxRecord(key: string | Uint8Array, value: string | Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(" "), bytes(key), Buffer.from("="), bytes(value), Buffer.from("\n")]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** A PAX extension member ('x') holding `data` (records, well-formed or not). */
export function paxMember(data: Uint8Array): Buffer {
  return rawMember({ name: "PaxHeaders/x", type: "x" }, data);
}

export const END_OF_ARCHIVE: Buffer = Buffer.alloc(1024);
