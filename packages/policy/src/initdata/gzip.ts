import { crc32, gzipSync, inflateRawSync } from "node:zlib";
import { PolicyError } from "../errors.js";

/** The largest decompressed initdata document we read, unless the caller says otherwise. */
export const DEFAULT_MAX_INITDATA_BYTES = 16 * 1024 * 1024;

const FTEXT = 0x01;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const OS_UNKNOWN = 0xff;

/**
 * gzip of the bytes, the same on every machine: no name, modification time 0, and the OS byte
 * set to 255 ("unknown", as Go's and flate2's writers leave it) where zlib would write the build
 * platform's code. The bytes can still differ between zlib versions; only the document inside is
 * hashed, so that changes the annotation's text, never the policy hash.
 */
export function gzipDeterministic(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(gzipSync(bytes, { level: 9 }));
  out[9] = OS_UNKNOWN;
  return out;
}

function encodingError(message: string, hint: string, cause?: unknown): PolicyError {
  return new PolicyError("POLICY_INITDATA_ENCODING", message, {
    hint,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The bytes of a gzip stream that holds exactly one member and nothing after it. The Kata shim
 * (Go's gzip reader) reads every member of a concatenation and the runtime-rs helper only the
 * first, so a second member, or trailing bytes, would mean different documents to different
 * readers: refused, as are a bad header, a CRC or length mismatch and a truncated stream.
 */
export function gunzipSingleMember(gz: Uint8Array, maxBytes = DEFAULT_MAX_INITDATA_BYTES): Uint8Array {
  const hint = "The initdata annotation is base64 of one gzip member holding the TOML document.";
  if (gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b) throw encodingError("not gzip data", hint);
  if (gz[2] !== 8) throw encodingError(`unknown gzip compression method ${gz[2]}`, hint);
  const flags = gz[3] as number;
  if ((flags & ~(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT)) !== 0) {
    throw encodingError("reserved gzip header flags are set", hint);
  }
  let pos = 10;
  const need = (n: number) => {
    if (pos + n > gz.length) throw encodingError("truncated gzip header", hint);
  };
  if (flags & FEXTRA) {
    need(2);
    const xlen = (gz[pos] as number) | ((gz[pos + 1] as number) << 8);
    pos += 2;
    need(xlen);
    pos += xlen;
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (flags & flag) {
      while (pos < gz.length && gz[pos] !== 0) pos++;
      need(1);
      pos++;
    }
  }
  if (flags & FHCRC) {
    need(2);
    const expected = (gz[pos] as number) | ((gz[pos + 1] as number) << 8);
    if ((crc32(gz.subarray(0, pos)) & 0xffff) !== expected) throw encodingError("gzip header CRC mismatch", hint);
    pos += 2;
  }

  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // `info` also returns the engine, whose bytesWritten is the compressed input it consumed.
    inflated = inflateRawSync(gz.subarray(pos), { info: true, maxOutputLength: maxBytes } as never) as never;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new PolicyError("POLICY_INITDATA_TOO_LARGE", `initdata is larger than ${maxBytes} bytes when unpacked`, {
        cause: e,
        hint: "An initdata document holds a policy and a few config files; this one is too large to be one.",
        details: { maxBytes },
      });
    }
    throw encodingError(`corrupt gzip data: ${e instanceof Error ? e.message : String(e)}`, hint, e);
  }
  const data = new Uint8Array(inflated.buffer);
  pos += inflated.engine.bytesWritten;
  if (pos + 8 > gz.length) throw encodingError("truncated gzip stream (no trailer)", hint);
  const view = new DataView(gz.buffer, gz.byteOffset + pos, 8);
  if (view.getUint32(0, true) !== crc32(data)) throw encodingError("gzip CRC mismatch", hint);
  if (view.getUint32(4, true) !== data.length % 2 ** 32) throw encodingError("gzip length mismatch", hint);
  pos += 8;
  if (pos !== gz.length) {
    const more = gz[pos] === 0x1f && gz[pos + 1] === 0x8b ? "a second gzip member" : "trailing bytes";
    throw encodingError(`${more} after the gzip stream (${gz.length - pos} bytes)`, hint);
  }
  return data;
}
