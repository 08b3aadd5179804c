import { execFileSync } from "node:child_process";
import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import { errorCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gunzipLayer, gunzipSingleMember, gzipDeterministic } from "../src/gzip.js";

const RUNS = fuzzRuns(200);
const MAX = 1 << 20;

/** The system's gzip, not ours. */
const systemGunzip = (gz: Uint8Array) => new Uint8Array(execFileSync("gzip", ["-dc"], { input: gz }));

/** A gzip member with the optional header fields of RFC 1952, written out by hand. */
function member(
  data: Uint8Array,
  o: { text?: boolean; extra?: Uint8Array; name?: string; comment?: string; hcrc?: boolean },
): Uint8Array {
  const flags =
    (o.text ? 0x01 : 0) |
    (o.hcrc ? 0x02 : 0) |
    (o.extra ? 0x04 : 0) |
    (o.name !== undefined ? 0x08 : 0) |
    (o.comment !== undefined ? 0x10 : 0);
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 0xff])];
  if (o.extra) parts.push(Buffer.from([o.extra.length & 0xff, o.extra.length >> 8]), Buffer.from(o.extra));
  if (o.name !== undefined) parts.push(Buffer.from(`${o.name}\0`, "latin1"));
  if (o.comment !== undefined) parts.push(Buffer.from(`${o.comment}\0`, "latin1"));
  if (o.hcrc) {
    const crc = crc32(Buffer.concat(parts)) & 0xffff;
    parts.push(Buffer.from([crc & 0xff, crc >> 8]));
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  parts.push(deflateRawSync(data), trailer);
  return new Uint8Array(Buffer.concat(parts));
}

async function layerFirstMember(gz: Uint8Array): Promise<Uint8Array> {
  const out: Buffer[] = [];
  await gunzipLayer([gz], { first: async (c) => void out.push(Buffer.from(c)), rest: () => {} });
  return new Uint8Array(Buffer.concat(out));
}

const headerOptions = fc.record(
  {
    text: fc.boolean(),
    extra: fc.uint8Array({ maxLength: 40 }),
    name: fc.string({ maxLength: 20 }).map((s) => s.replace(/\0/g, "")),
    comment: fc.string({ maxLength: 20 }).map((s) => s.replace(/\0/g, "")),
    hcrc: fc.boolean(),
  },
  { requiredKeys: [] },
);

describe("gzip: one member header grammar for layers and single-member data", () => {
  it("writes the same bytes every time, with no name, time 0 and OS unknown, and the system's gzip reads them", () => {
    const data = new TextEncoder().encode("version = '0.1.0'\n".repeat(50));
    const a = gzipDeterministic(data);
    expect(gzipDeterministic(data)).toEqual(a);
    expect([...a.subarray(3, 10)]).toEqual([0, 0, 0, 0, 0, 2, 0xff]);
    expect(systemGunzip(a)).toEqual(data);
    expect(gunzipSingleMember(a, MAX)).toEqual(data);
  });

  it("reads what the system's gzip writes, a file name in the header included", () => {
    const data = new TextEncoder().encode("hello, tardev\n".repeat(100));
    const gz = new Uint8Array(
      execFileSync("sh", ["-c", 'f=$(mktemp); cat > "$f"; gzip -c "$f"; rm -f "$f"'], { input: data }),
    );
    expect((gz[3] ?? 0) & 0x08).toBe(0x08); // FNAME
    expect(gunzipSingleMember(gz, MAX)).toEqual(data);
  });

  it("both readers accept every optional header field and give the same data (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), headerOptions, async (data, o) => {
        const gz = member(data, o);
        expect(gunzipSingleMember(gz, MAX)).toEqual(data);
        expect(await layerFirstMember(gz)).toEqual(data);
      }),
      { numRuns: RUNS },
    );
    // And the system's gzip agrees on one of them with every field present.
    const data = new TextEncoder().encode("all fields");
    const gz = member(data, { text: true, extra: new Uint8Array([1, 2, 3]), name: "n", comment: "c", hcrc: true });
    expect(systemGunzip(gz)).toEqual(data);
  });

  it("refuses what flate2 and Go would not read alike: reserved flags, bad header CRC, more members, trailing bytes", async () => {
    const data = new TextEncoder().encode("one member only");
    const gz = member(data, { hcrc: true });
    const reserved = new Uint8Array(gz);
    reserved[3] = (reserved[3] as number) | 0x20;
    const badHcrc = new Uint8Array(gz);
    badHcrc[10] = (badHcrc[10] as number) ^ 1;
    const cases = {
      reserved,
      badHcrc,
      twoMembers: new Uint8Array(Buffer.concat([gz, gzipSync(data)])),
      trailing: new Uint8Array(Buffer.concat([gz, Buffer.from("x")])),
      truncatedHeader: gz.subarray(0, 11),
      truncatedTrailer: gz.subarray(0, gz.length - 3),
      crc: (() => {
        const c = new Uint8Array(gz);
        c[c.length - 8] = (c[c.length - 8] as number) ^ 1;
        return c;
      })(),
      length: (() => {
        const c = new Uint8Array(gz);
        c[c.length - 4] = (c[c.length - 4] as number) ^ 1;
        return c;
      })(),
      empty: new Uint8Array(0),
      notGzip: new TextEncoder().encode("plain text, not gzip at all"),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      expect([name, errorCode(() => gunzipSingleMember(bytes, MAX))]).toEqual([name, "GZIP_INVALID"]);
    }
    // The header faults are the layer reader's too, under its own code.
    for (const bytes of [reserved, badHcrc]) {
      await expect(layerFirstMember(bytes)).rejects.toMatchObject({ code: "LAYER_GZIP_INVALID" });
    }
    expect(errorCode(() => gunzipSingleMember(gzipSync(Buffer.alloc(4096)), 4095))).toBe("GZIP_TOO_LARGE");
    expect(gunzipSingleMember(gzipSync(Buffer.alloc(4096)), 4096)).toHaveLength(4096);
  });

  it("either returns the data or throws GZIP_INVALID / GZIP_TOO_LARGE on arbitrary bytes (fuzz)", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([d, at, x]) => {
        const gz = gzipDeterministic(d);
        gz[at % gz.length] = (gz[at % gz.length] as number) ^ x;
        return gz;
      }),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        try {
          gunzipSingleMember(b, 1024);
        } catch (e) {
          expect(["GZIP_INVALID", "GZIP_TOO_LARGE"]).toContain((e as { code?: string }).code);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
