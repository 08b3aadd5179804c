import { AtlsError } from "./errors.js";

/** What the server needs from a ClientHello before it can choose the connection's certificate. */
export interface ClientHelloInfo {
  /** The SNI host_name, as sent (ASCII). */
  readonly serverName: string | undefined;
  /** The ALPN protocol names, in the client's order. */
  readonly alpn: readonly string[];
}

export type ClientHelloParse =
  | { readonly complete: false }
  | ({
      readonly complete: true /** Bytes of the records that carried the ClientHello. */;
      readonly length: number;
    } & ClientHelloInfo);

/** TLS records are at most 2^14 bytes of plaintext; a ClientHello may span several. */
const MAX_RECORD = 16_384;
const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

const malformed = (why: string) => new AtlsError("ATLS_CLIENT_HELLO_MALFORMED", `not a TLS ClientHello: ${why}`);

/**
 * Reads the ClientHello at the start of a connection's bytes, reassembled from as many handshake
 * records as it spans. Answers `complete: false` while more bytes are needed; throws
 * ATLS_CLIENT_HELLO_MALFORMED for anything that is not a ClientHello, and
 * ATLS_CLIENT_HELLO_TOO_LARGE when the message would exceed `maxBytes`, so that a peer can make
 * the server hold at most `maxBytes` before it is refused.
 */
export function parseClientHello(input: Uint8Array, maxBytes = 16_384): ClientHelloParse {
  const chunks: Uint8Array[] = [];
  let have = 0;
  let need = -1; // handshake message length incl. its 4-byte header, once known
  let pos = 0;
  while (need < 0 || have < need) {
    if (input.length < pos + 5) return { complete: false };
    if (input[pos] !== RECORD_HANDSHAKE) throw malformed(`record type ${input[pos]} is not handshake (22)`);
    if (input[pos + 1] !== 3) throw malformed("record version is not 3.x");
    const len = ((input[pos + 3] as number) << 8) | (input[pos + 4] as number);
    if (len === 0 || len > MAX_RECORD) throw malformed(`record length ${len}`);
    if (pos + 5 + len > maxBytes + 5 * (chunks.length + 1)) {
      throw new AtlsError("ATLS_CLIENT_HELLO_TOO_LARGE", `the ClientHello exceeds ${maxBytes} bytes`);
    }
    if (input.length < pos + 5 + len) return { complete: false };
    const fragment = input.subarray(pos + 5, pos + 5 + len);
    chunks.push(fragment);
    have += fragment.length;
    pos += 5 + len;
    if (need < 0 && have >= 4) {
      const head = chunks.length === 1 ? fragment : concat(chunks);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) throw malformed(`handshake type ${head[0]} is not ClientHello (1)`);
      need = 4 + (((head[1] as number) << 16) | ((head[2] as number) << 8) | (head[3] as number));
      if (need > maxBytes) {
        throw new AtlsError("ATLS_CLIENT_HELLO_TOO_LARGE", `the ClientHello is ${need} bytes, above ${maxBytes}`);
      }
    }
  }
  const message = concat(chunks);
  if (have > need) throw malformed("trailing bytes after the ClientHello in its records");
  return { complete: true, length: pos, ...parseBody(message.subarray(4, need)) };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  get left(): number {
    return this.b.length - this.pos;
  }
  u8(): number {
    if (this.left < 1) throw malformed("truncated");
    return this.b[this.pos++] as number;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  bytes(n: number): Uint8Array {
    if (this.left < n) throw malformed("truncated");
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function ascii(b: Uint8Array): string {
  let s = "";
  for (const c of b) {
    if (c < 0x20 || c > 0x7e) throw malformed("a name is not printable ASCII");
    s += String.fromCharCode(c);
  }
  return s;
}

function parseBody(body: Uint8Array): ClientHelloInfo {
  const r = new Reader(body);
  if (r.u8() !== 3) throw malformed("legacy_version is not 3.x");
  r.u8();
  r.bytes(32); // random
  const sessionId = r.u8();
  if (sessionId > 32) throw malformed("session id longer than 32 bytes");
  r.bytes(sessionId);
  const suites = r.u16();
  if (suites === 0 || suites % 2 !== 0) throw malformed("cipher suite list length");
  r.bytes(suites);
  const compression = r.u8();
  if (compression === 0) throw malformed("no compression methods");
  r.bytes(compression);
  let serverName: string | undefined;
  const alpn: string[] = [];
  if (r.left === 0) return { serverName, alpn };
  const ext = new Reader(r.bytes(r.u16()));
  if (r.left !== 0) throw malformed("bytes after the extensions");
  const seen = new Set<number>();
  while (ext.left > 0) {
    const type = ext.u16();
    const data = new Reader(ext.bytes(ext.u16()));
    if (seen.has(type)) throw malformed(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXT_SERVER_NAME) {
      const list = new Reader(data.bytes(data.u16()));
      while (list.left > 0) {
        const nameType = list.u8();
        const name = list.bytes(list.u16());
        if (nameType === 0) {
          if (serverName !== undefined) throw malformed("two host names in SNI");
          serverName = ascii(name);
        }
      }
    } else if (type === EXT_ALPN) {
      const list = new Reader(data.bytes(data.u16()));
      while (list.left > 0) {
        const n = list.u8();
        if (n === 0) throw malformed("empty ALPN protocol name");
        alpn.push(ascii(list.bytes(n)));
      }
      if (alpn.length === 0) throw malformed("empty ALPN list");
    } else {
      continue;
    }
    if (data.left !== 0) throw malformed(`extension ${type} has trailing bytes`);
  }
  return { serverName, alpn };
}
