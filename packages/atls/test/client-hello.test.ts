import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { toBase64, toHex } from "@contrast/core";
import { childEnv, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nonceFromClientHello, nonceToAlpn, nonceToServerName, parseClientHello } from "../src/index.js";
import { random } from "./helpers.js";

/** The first bytes a real TLS client sends, captured on a plain TCP server. */
async function captureHello(connect: (port: number) => void): Promise<Uint8Array> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const server = createServer((s: Socket) => {
      s.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (parseClientHello(buf).complete) {
          s.destroy();
          server.close();
          resolve(new Uint8Array(buf));
        }
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      connect(typeof a === "object" && a ? a.port : 0);
    });
  });
}

/** Builds a ClientHello with the given SNI and ALPN, split into records of at most `fragment` bytes. */
function encodeHello(sni: string | undefined, alpn: readonly string[], fragment = 16_384, padding = 0): Uint8Array {
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const ext: number[] = [];
  if (sni !== undefined) {
    const name = [...Buffer.from(sni, "ascii")];
    const entry = [0, ...u16(name.length), ...name];
    const list = [...u16(entry.length), ...entry];
    ext.push(...u16(0), ...u16(list.length), ...list);
  }
  if (alpn.length > 0) {
    const names = alpn.flatMap((p) => [p.length, ...Buffer.from(p, "ascii")]);
    const list = [...u16(names.length), ...names];
    ext.push(...u16(16), ...u16(list.length), ...list);
  }
  if (padding > 0) ext.push(...u16(21), ...u16(padding), ...new Array(padding).fill(0));
  const body = [3, 3, ...new Array(32).fill(7), 0, ...u16(2), 0x13, 0x01, 1, 0, ...u16(ext.length), ...ext];
  const msg = [1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff, ...body];
  const out: number[] = [];
  for (let i = 0; i < msg.length; i += fragment) {
    const part = msg.slice(i, i + fragment);
    out.push(0x16, 3, 1, ...u16(part.length), ...part);
  }
  return new Uint8Array(out);
}

const printable = fc.stringMatching(/^[\x21-\x7e]{1,60}$/);

describe("parseClientHello", () => {
  it("reads SNI and ALPN from Node's own TLS client", async () => {
    const nonce = random(32);
    const hello = await captureHello((port) => {
      const c = tlsConnect({
        port,
        host: "127.0.0.1",
        servername: nonceToServerName(nonce),
        ALPNProtocols: [nonceToAlpn(nonce), "h2"],
        rejectUnauthorized: false,
      });
      c.on("error", () => {});
    });
    const r = parseClientHello(hello);
    expect(r.complete).toBe(true);
    if (!r.complete) return;
    expect(r.length).toBe(hello.length);
    expect(r.serverName).toBe(toBase64(nonce));
    expect(r.alpn).toEqual([`atls:v1:nonce:${toHex(nonce)}`, "h2"]);
    expect(toHex(nonceFromClientHello(r))).toBe(toHex(nonce));
    for (let cut = 0; cut < hello.length; cut += 37)
      expect(parseClientHello(hello.subarray(0, cut)).complete).toBe(false);
  });

  it("reads the ClientHello of openssl s_client (a third-party client)", async () => {
    const nonce = random(32);
    const hello = await captureHello((port) => {
      const p = spawn(
        "openssl",
        ["s_client", "-connect", `127.0.0.1:${port}`, "-noservername", "-alpn", `${nonceToAlpn(nonce)},h2`],
        { env: childEnv(), stdio: ["pipe", "ignore", "ignore"] },
      );
      p.stdin.end();
    });
    const r = parseClientHello(hello);
    expect(r.complete && r.serverName).toBe(undefined);
    expect(r.complete && r.alpn).toEqual([nonceToAlpn(nonce), "h2"]);
  });

  it("round-trips SNI and ALPN through any fragmentation into records (property)", () => {
    fc.assert(
      fc.property(
        fc.option(printable, { nil: undefined }),
        fc.array(printable, { maxLength: 5 }),
        fc.integer({ min: 1, max: 300 }),
        (sni, alpn, fragment) => {
          const bytes = encodeHello(sni, alpn, fragment);
          const r = parseClientHello(bytes);
          expect(r).toEqual({ complete: true, length: bytes.length, serverName: sni, alpn });
          const cut = Math.floor(bytes.length / 2);
          expect(parseClientHello(bytes.subarray(0, cut)).complete).toBe(false);
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });

  it("answers every byte string with incomplete, a ClientHello, or an ATLS_CLIENT_HELLO_* error (fuzz)", () => {
    const valid = encodeHello("host", ["h2"]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          // Mutations of a valid hello reach deeper than random bytes.
          fc
            .tuple(
              fc.integer({ min: 0, max: valid.length - 1 }),
              fc.integer({ min: 0, max: 255 }),
              fc.integer({ min: 1, max: valid.length }),
            )
            .map(([i, b, len]) => {
              const m = Uint8Array.from(valid);
              m[i] = b;
              return m.subarray(0, len);
            }),
        ),
        (bytes) => {
          try {
            parseClientHello(bytes, 4096);
          } catch (e) {
            expect((e as { code?: string }).code).toMatch(/^ATLS_CLIENT_HELLO_(MALFORMED|TOO_LARGE)$/);
          }
        },
      ),
      { numRuns: fuzzRuns(2000) },
    );
  });

  it("refuses a ClientHello above the limit before holding it (ATLS_CLIENT_HELLO_TOO_LARGE)", () => {
    const big = encodeHello("h", ["h2"], 16_384, 8000);
    expect(parseClientHello(big, 16_384).complete).toBe(true);
    expect(() => parseClientHello(big.subarray(0, 9), 4096)).toThrow(
      expect.objectContaining({ code: "ATLS_CLIENT_HELLO_TOO_LARGE" }),
    );
  });
});

describe("nonceFromClientHello", () => {
  const nonce = random(32);
  const hello = (serverName: string | undefined, alpn: string[]) => ({ serverName, alpn });
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };

  it("prefers ALPN, falls back to SNI, and never falls back from a bad atls entry", () => {
    const other = random(32);
    expect(toHex(nonceFromClientHello(hello(toBase64(other), [nonceToAlpn(nonce), "h2"])))).toBe(toHex(nonce));
    expect(toHex(nonceFromClientHello(hello(toBase64(nonce), ["h2"])))).toBe(toHex(nonce));
    expect(toHex(nonceFromClientHello(hello(undefined, ["h2", nonceToAlpn(nonce)])))).toBe(toHex(nonce));
    // Upstream's test vectors: another version, and a value that is not hex.
    expect(code(() => nonceFromClientHello(hello(toBase64(nonce), [`atls:v2:nonce:${toHex(nonce)}`])))).toBe(
      "ATLS_VERSION_UNSUPPORTED",
    );
    expect(code(() => nonceFromClientHello(hello(toBase64(nonce), ["atls:v1:nonce:bad nonce value"])))).toBe(
      "ATLS_NONCE_INVALID",
    );
    expect(code(() => nonceFromClientHello(hello(undefined, ["h2"])))).toBe("ATLS_NONCE_MISSING");
    expect(code(() => nonceFromClientHello(hello("coordinator.example", ["h2"])))).toBe("ATLS_NONCE_INVALID");
    expect(code(() => nonceFromClientHello(hello(toBase64(random(16)), [])))).toBe("ATLS_NONCE_INVALID");
    expect(code(() => nonceFromClientHello(hello(undefined, [nonceToAlpn(nonce), nonceToAlpn(other)])))).toBe(
      "ATLS_NONCE_INVALID",
    );
  });

  it("decodes exactly what the encoders write, and nothing non-canonical (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ maxLength: 50 }), (n, junk) => {
        expect(nonceFromClientHello(hello(nonceToServerName(n), []))).toEqual(n);
        expect(nonceFromClientHello(hello(undefined, [nonceToAlpn(n)]))).toEqual(n);
        const c = code(() => nonceFromClientHello(hello(junk === "" ? undefined : junk, [])));
        if (c !== undefined) expect(c).toMatch(/^ATLS_NONCE_(MISSING|INVALID)$/);
        else expect(toBase64(nonceFromClientHello(hello(junk, [])))).toBe(junk);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});
