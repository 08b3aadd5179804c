import { crc32, createGunzip, createInflateRaw, gzipSync, inflateRawSync } from "node:zlib";
import { ImageError } from "./errors.js";

/**
 * Where a layer's decompressed bytes go. genpolicy (`flate2::read::GzDecoder`, in every Kata and
 * Microsoft build that hashes layers) and the tardev snapshotters decode only the **first** gzip
 * member and ignore whatever follows it; containerd's Go reader, which the image's diff IDs are
 * made for, decodes every member. So the first member feeds the tarfs image, all members the
 * diff ID.
 */
export interface GzipMemberSink {
  /** Decompressed bytes of the first member, in order. */
  first(chunk: Uint8Array): Promise<void>;
  /** Decompressed bytes of every later member, in order. */
  rest(chunk: Uint8Array): void;
}

export interface GunzipSummary {
  /** Gzip members after the first one (0 for an ordinary layer). */
  readonly laterMembers: boolean;
}

function gzipError(message: string, cause?: unknown): ImageError {
  return new ImageError("LAYER_GZIP_INVALID", `layer is not a valid gzip stream: ${message}`, {
    kind: "input",
    hint: "The layer blob is damaged or not gzip-compressed; rebuild or re-push the image.",
    ...(cause === undefined ? {} : { cause }),
  });
}

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

/**
 * The member header (RFC 1952), parsed as flate2 does: magic, method 8, the optional extra
 * field, NUL-terminated name and comment, and the header CRC16 when flagged, which must match.
 * Reserved flag bits are an error: flate2 from 1.0.28 (Microsoft's genpolicy), zlib and Go
 * reject them; only flate2 1.0.26 (Kata's genpolicy, both snapshotters) would read on.
 */
class MemberHeader {
  private stage: "fixed" | "xlen" | "extra" | "name" | "comment" | "hcrc" | "done" = "fixed";
  private readonly fixed = new Uint8Array(10);
  private fill = 0;
  private need = 0;
  private flags = 0;
  private crc = 0;
  private readonly two = new Uint8Array(2);

  /** `fail` makes the error for a bad header: a layer's, or a single-member stream's. */
  constructor(private readonly fail: (message: string) => Error = gzipError) {}

  get done(): boolean {
    return this.stage === "done";
  }

  get started(): boolean {
    return this.stage !== "fixed" || this.fill > 0;
  }

  /** Consumes header bytes from `chunk`; returns how many it took. */
  feed(chunk: Uint8Array): number {
    let i = 0;
    while (i < chunk.length && this.stage !== "done") {
      switch (this.stage) {
        case "fixed": {
          const n = Math.min(10 - this.fill, chunk.length - i);
          this.fixed.set(chunk.subarray(i, i + n), this.fill);
          this.fill += n;
          i += n;
          if (this.fill < 10) break;
          const f = this.fixed;
          if (f[0] !== 0x1f || f[1] !== 0x8b) throw this.fail("no gzip magic bytes (1f 8b)");
          if (f[2] !== 8) throw this.fail(`compression method ${f[2]} is not deflate (8)`);
          this.flags = f[3] ?? 0;
          if ((this.flags & FRESERVED) !== 0) throw this.fail("reserved header flag bits are set");
          this.crc = crc32(f);
          this.fill = 0;
          this.stage = "xlen";
          break;
        }
        case "xlen":
        case "hcrc": {
          const active = this.stage === "xlen" ? (this.flags & FEXTRA) !== 0 : (this.flags & FHCRC) !== 0;
          if (!active) {
            this.stage = this.stage === "xlen" ? "name" : "done";
            break;
          }
          const n = Math.min(2 - this.fill, chunk.length - i);
          this.two.set(chunk.subarray(i, i + n), this.fill);
          this.fill += n;
          i += n;
          if (this.fill < 2) break;
          this.fill = 0;
          const value = (this.two[0] ?? 0) | ((this.two[1] ?? 0) << 8);
          if (this.stage === "xlen") {
            this.crc = crc32(this.two, this.crc);
            this.need = value;
            this.stage = "extra";
          } else {
            if (value !== (this.crc & 0xffff)) throw this.fail("header checksum mismatch");
            this.stage = "done";
          }
          break;
        }
        case "extra": {
          const n = Math.min(this.need, chunk.length - i);
          this.crc = crc32(chunk.subarray(i, i + n), this.crc);
          this.need -= n;
          i += n;
          if (this.need === 0) this.stage = "name";
          break;
        }
        case "name":
        case "comment": {
          const active = (this.flags & (this.stage === "name" ? FNAME : FCOMMENT)) !== 0;
          if (!active) {
            this.stage = this.stage === "name" ? "comment" : "hcrc";
            break;
          }
          const nul = chunk.indexOf(0, i);
          const end = nul < 0 ? chunk.length : nul + 1;
          this.crc = crc32(chunk.subarray(i, end), this.crc);
          i = end;
          if (nul >= 0) this.stage = this.stage === "name" ? "comment" : "hcrc";
          break;
        }
      }
    }
    // Flags that need no further bytes can finish the header at the end of a chunk.
    while (this.stage !== "done" && this.stage !== "fixed" && this.stage !== "extra" && !this.flagNeedsBytes()) {
      this.stage =
        this.stage === "xlen" ? "name" : this.stage === "name" ? "comment" : this.stage === "comment" ? "hcrc" : "done";
    }
    return i;
  }

  private flagNeedsBytes(): boolean {
    switch (this.stage) {
      case "xlen":
        return (this.flags & FEXTRA) !== 0;
      case "name":
        return (this.flags & FNAME) !== 0;
      case "comment":
        return (this.flags & FCOMMENT) !== 0;
      case "hcrc":
        return (this.flags & FHCRC) !== 0;
      default:
        return true;
    }
  }
}

/** A zlib stream driven one write at a time, its output handed to `onData` in order. */
class Driven {
  private readonly drained: Promise<void>;
  private failure: unknown;

  constructor(
    readonly stream: ReturnType<typeof createInflateRaw> | ReturnType<typeof createGunzip>,
    onData: (chunk: Uint8Array) => Promise<void> | void,
  ) {
    // zlib's error comes before the stream closes; a write waiting for that close reports it.
    stream.on("error", (e) => {
      this.failure ??= e;
    });
    this.drained = (async () => {
      try {
        for await (const out of stream as AsyncIterable<Buffer>) await onData(out);
      } catch (e) {
        this.failure ??= e;
        stream.destroy();
      }
    })();
  }

  /** Writes one chunk and waits until zlib has taken what it wants of it. */
  write(chunk: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const onClose = () => reject(this.failure ?? new Error("stream closed"));
      this.stream.once("close", onClose);
      this.stream.write(chunk, (err) => {
        this.stream.off("close", onClose);
        if (err) reject(this.failure ?? err);
        else resolve();
      });
    });
  }

  /** Ends the input and waits for the last output to be handled. */
  async finish(): Promise<void> {
    this.stream.end();
    await this.drained;
    if (this.failure !== undefined) throw this.failure;
  }
}

/** zlib's own failures (codes Z_DATA_ERROR, Z_BUF_ERROR, …) become ours; others pass as they are. */
const asGzipError = (e: unknown, what: string): unknown => {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (e instanceof ImageError || typeof code !== "string" || !code.startsWith("Z_")) return e;
  return gzipError(`${what}: ${e instanceof Error ? e.message : String(e)}`, e);
};

/**
 * Decodes a gzip layer blob as the two readers above do, in one pass: the first member through
 * raw inflate (its header and trailer read here, CRC32 and length checked as flate2 checks
 * them), any later members through Node's multi-member gunzip for the diff ID only.
 */
export async function gunzipLayer(
  compressed: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  sink: GzipMemberSink,
): Promise<GunzipSummary> {
  const header = new MemberHeader();
  let crc = 0;
  let length = 0;
  const inflate = new Driven(createInflateRaw({ chunkSize: 64 * 1024 }), async (out) => {
    crc = crc32(out, crc);
    length = (length + out.length) % 2 ** 32;
    await sink.first(out);
  });
  let fed = 0;
  let stage: "header" | "deflate" | "trailer" | "rest" = "header";
  const trailer = new Uint8Array(8);
  let trailerFill = 0;
  let rest: Driven | undefined;
  let laterMembers = false;

  const checkTrailer = () => {
    const t = Buffer.from(trailer);
    if (t.readUInt32LE(0) !== crc >>> 0) throw gzipError("the first member's CRC32 does not match its data");
    if (t.readUInt32LE(4) !== length) throw gzipError("the first member's length does not match its data");
  };

  try {
    for await (const chunk of compressed) {
      let c = chunk;
      if (stage === "header") {
        c = c.subarray(header.feed(c));
        if (!header.done) continue;
        stage = "deflate";
      }
      if (stage === "deflate") {
        if (c.length === 0) continue;
        await inflate.write(c);
        fed += c.length;
        // zlib stops taking input at the end of the deflate stream; the rest is the trailer.
        const unconsumed = fed - inflate.stream.bytesWritten;
        if (unconsumed === 0) continue;
        c = c.subarray(c.length - unconsumed);
        await inflate.finish();
        stage = "trailer";
      }
      if (stage === "trailer") {
        const n = Math.min(8 - trailerFill, c.length);
        trailer.set(c.subarray(0, n), trailerFill);
        trailerFill += n;
        c = c.subarray(n);
        if (trailerFill < 8) continue;
        checkTrailer();
        stage = "rest";
      }
      if (c.length === 0) continue;
      laterMembers = true;
      rest ??= new Driven(createGunzip(), (out) => sink.rest(out));
      try {
        await rest.write(c);
      } catch (e) {
        throw asGzipError(e, "the data after the first member is not gzip");
      }
    }
    switch (stage) {
      case "header":
        throw gzipError(header.started ? "the header is cut off" : "the blob is empty");
      case "deflate":
        await inflate.finish();
        throw gzipError("the first member has no trailer");
      case "trailer":
        throw gzipError("the first member's trailer is cut off");
      case "rest":
        if (rest !== undefined) {
          try {
            await rest.finish();
          } catch (e) {
            throw asGzipError(e, "the data after the first member is not gzip");
          }
        }
    }
  } catch (e) {
    inflate.stream.destroy();
    rest?.stream.destroy();
    throw asGzipError(e, "the first member is corrupt");
  }
  return { laterMembers };
}

const OS_UNKNOWN = 0xff;

/**
 * gzip of the bytes, the same on every machine: no name, modification time 0, and the OS byte
 * set to 255 ("unknown", as Go's and flate2's writers leave it) where zlib would write the build
 * platform's code. The bytes can still differ between zlib versions; readers that hash only the
 * data inside are not affected. `level` is part of the output: callers fix it (image layers use 6,
 * less than half the time of 9 for 0.3 % more bytes on the Node binary).
 */
export function gzipDeterministic(bytes: Uint8Array, level = 9): Uint8Array {
  const out = new Uint8Array(gzipSync(bytes, { level }));
  out[9] = OS_UNKNOWN;
  return out;
}

function singleError(message: string, cause?: unknown): ImageError {
  return new ImageError("GZIP_INVALID", `not one valid gzip member: ${message}`, {
    kind: "input",
    hint: "The data must be exactly one gzip member with nothing after it.",
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The bytes of a gzip stream that holds exactly one member and nothing after it, at most
 * `maxBytes` of them (GZIP_TOO_LARGE beyond). The header is read as for layers. Go's gzip
 * reader reads every member of a concatenation and flate2 only the first, so a second member,
 * or trailing bytes, would mean different data to different readers: refused (GZIP_INVALID), as
 * are a bad header, a CRC or length mismatch and a truncated stream.
 */
export function gunzipSingleMember(gz: Uint8Array, maxBytes: number): Uint8Array {
  const header = new MemberHeader((message) => singleError(message));
  let pos = header.feed(gz);
  if (!header.done) throw singleError(header.started ? "the header is cut off" : "no data");
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // `info` also returns the engine, whose bytesWritten is the compressed input it consumed.
    inflated = inflateRawSync(gz.subarray(pos), { info: true, maxOutputLength: maxBytes } as never) as never;
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ImageError("GZIP_TOO_LARGE", `the data is larger than ${maxBytes} bytes when unpacked`, {
        kind: "input",
        cause: e,
        hint: "The reader limits how much a gzip stream may unpack to; this one is larger.",
        details: { maxBytes },
      });
    }
    throw singleError(`corrupt deflate data: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const data = new Uint8Array(inflated.buffer);
  pos += inflated.engine.bytesWritten;
  if (pos + 8 > gz.length) throw singleError("the trailer is cut off");
  const view = new DataView(gz.buffer, gz.byteOffset + pos, 8);
  if (view.getUint32(0, true) !== crc32(data)) throw singleError("the CRC32 does not match the data");
  if (view.getUint32(4, true) !== data.length % 2 ** 32) throw singleError("the length does not match the data");
  pos += 8;
  if (pos !== gz.length) {
    const more = gz[pos] === 0x1f && gz[pos + 1] === 0x8b ? "a second gzip member" : "trailing bytes";
    throw singleError(`${more} after the first member (${gz.length - pos} bytes)`);
  }
  return data;
}
