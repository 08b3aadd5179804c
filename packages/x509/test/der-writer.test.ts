import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DerTag, type readDer, readDerChildren, readDerExact, toHex } from "@contrast/core";
import { fuzzRuns, openssl, scratchDir } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  derBitString,
  derCommonNameName,
  derExplicit,
  derInteger,
  derOctetString,
  derSequence,
  derTime,
  derUnsignedInteger,
  encodeName,
  NAME,
} from "../src/der-writer.js";

/** Two's complement value of a DER INTEGER's content octets. */
function integerValue(content: Uint8Array): bigint {
  let v = 0n;
  for (const b of content) v = (v << 8n) | BigInt(b);
  return (content[0] as number) & 0x80 ? v - (1n << BigInt(content.length * 8)) : v;
}

/** Minimal two's complement: no leading 0x00 before a clear top bit, no 0xff before a set one. */
function minimal(content: Uint8Array): boolean {
  if (content.length < 2) return content.length === 1;
  const [a, b] = content as unknown as [number, number];
  return !((a === 0 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0));
}

describe("DER writer", () => {
  it("writes INTEGERs that read back to the same value, minimally encoded (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 600n), max: 1n << 600n }), (n) => {
        const el = readDerExact(derInteger(n), DerTag.INTEGER);
        expect(integerValue(el.value)).toBe(n);
        expect(minimal(el.value)).toBe(true);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it("writes JavaScript numbers as the same INTEGER as their bigint, small ones on their own path (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 0x7fffffff }),
          fc.integer(),
          fc.maxSafeInteger(),
          fc.constantFrom(0, 127, 128, 255, 256, 32767, 32768, 0x7fffff, 0x800000, 0x7fffffff, 0x80000000),
        ),
        (n) => {
          expect(toHex(derInteger(n))).toBe(toHex(derInteger(BigInt(n))));
          const el = readDerExact(derInteger(n), DerTag.INTEGER);
          expect(integerValue(el.value)).toBe(BigInt(n));
          expect(minimal(el.value)).toBe(true);
        },
      ),
      { numRuns: fuzzRuns(500) },
    );
  });

  it("writes nested elements with short and long definite lengths that read back to their parts (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 30 }),
        (parts, n) => {
          const children = parts.map((p, i) =>
            i % 3 === 0 ? derOctetString(p) : i % 3 === 1 ? derBitString(p) : derExplicit(n, p),
          );
          const seq = readDerExact(derSequence(...children), DerTag.SEQUENCE);
          const read = readDerChildren(seq);
          expect(read.length).toBe(parts.length);
          read.forEach((el, i) => {
            const p = parts[i] as Uint8Array;
            if (i % 3 === 0) expect([el.tag, toHex(el.value)]).toEqual([DerTag.OCTET_STRING, toHex(p)]);
            else if (i % 3 === 1) expect([el.tag, toHex(el.value)]).toEqual([DerTag.BIT_STRING, `00${toHex(p)}`]);
            else expect([el.tag, toHex(el.value)]).toEqual([0xa0 | n, toHex(p)]);
          });
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });

  it("writes times as RFC 5280's string form of the date, for any date (property)", () => {
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    const reference = (d: Date): string => {
      const y = d.getUTCFullYear();
      const rest = [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
        .map((n) => pad(n, 2))
        .join("");
      return y >= 1950 && y < 2050 ? `17${pad(y % 100, 2)}${rest}Z` : `18${pad(y, 4)}${rest}Z`;
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.date({
            min: new Date("0000-01-01T00:00:00Z"),
            max: new Date("9999-12-31T23:59:59Z"),
            noInvalidDate: true,
          }),
          fc.date({
            min: new Date("1949-12-31T00:00:00Z"),
            max: new Date("2050-01-02T00:00:00Z"),
            noInvalidDate: true,
          }),
          fc.date({ noInvalidDate: true }),
        ),
        (d) => {
          const der = derTime(d);
          const expected = reference(d);
          // Tag and text: the text is ASCII, so its bytes are its char codes.
          expect(`${der[0]?.toString(16)}${new TextDecoder().decode(der.subarray(2))}`).toBe(expected);
          expect(der[1]).toBe(der.length - 2);
        },
      ),
      { numRuns: fuzzRuns(500) },
    );
  });

  it("writes unsigned magnitudes as positive minimal INTEGERs (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const el = readDerExact(derUnsignedInteger(bytes), DerTag.INTEGER);
        const expected = bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);
        expect(integerValue(el.value)).toBe(expected);
        expect(minimal(el.value)).toBe(true);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it("agrees with openssl asn1parse on integers and times", () => {
    const dir = scratchDir();
    const cases: [Uint8Array, RegExp][] = [
      [derInteger(0), /INTEGER\s+:00/],
      [derInteger(128), /INTEGER\s+:80/],
      [derInteger(-129), /INTEGER\s+:-81/],
      [derUnsignedInteger(new Uint8Array([0, 0, 0xff, 1])), /INTEGER\s+:FF01/],
      [derTime(new Date("2049-12-31T23:59:59Z")), /UTCTIME\s+:491231235959Z/],
      [derTime(new Date("2050-01-01T00:00:00Z")), /GENERALIZEDTIME\s+:20500101000000Z/],
      [derTime(new Date("1949-12-31T23:59:59.999Z")), /GENERALIZEDTIME\s+:19491231235959Z/],
      [derTime(new Date("1950-01-01T00:00:00Z")), /UTCTIME\s+:500101000000Z/],
    ];
    for (const [der, expected] of cases) {
      const file = join(dir, "x.der");
      writeFileSync(file, der);
      expect(openssl(["asn1parse", "-inform", "DER", "-in", file]).toString()).toMatch(expected);
    }
  });

  it("writes names as Go does by default, and as AMD and Intel do with utf8", () => {
    const attrs = [
      [NAME.country, "US"],
      [NAME.organization, "Intel Corporation"],
      [NAME.commonName, "Grüße"],
    ] as const;
    const tags = (der: Uint8Array) =>
      readDerChildren(readDerExact(der, DerTag.SEQUENCE)).map((rdn) => {
        const [atv] = readDerChildren(rdn);
        const [, value] = readDerChildren(atv as ReturnType<typeof readDer>);
        return value?.tag;
      });
    expect(tags(encodeName(attrs))).toEqual([DerTag.PRINTABLE_STRING, DerTag.PRINTABLE_STRING, DerTag.UTF8_STRING]);
    expect(tags(encodeName(attrs, "utf8"))).toEqual([DerTag.PRINTABLE_STRING, DerTag.UTF8_STRING, DerTag.UTF8_STRING]);
    // An empty common name is an empty Name, as Go writes for a template without a subject.
    expect(toHex(derCommonNameName(""))).toBe("3000");
  });
});
