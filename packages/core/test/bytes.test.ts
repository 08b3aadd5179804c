import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bytesEqual,
  concatBytes,
  fromBase64,
  fromBase64Url,
  fromHex,
  fromUtf8,
  isHex,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
} from "../src/bytes.js";
import { errorCode, FUZZ_RUNS } from "./helpers.js";

describe("hex", () => {
  it("round-trips any bytes in lower case", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
        const h = toHex(b);
        expect(h).toMatch(/^[0-9a-f]*$/);
        expect(fromHex(h)).toEqual(b);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("accepts upper case as Go does", () => {
    expect(fromHex("ABcd")).toEqual(new Uint8Array([0xab, 0xcd]));
  });

  it("rejects odd lengths, non-hex characters and 0x prefixes", () => {
    expect(errorCode(() => fromHex("abc"))).toBe("ENCODING_INVALID_HEX");
    expect(errorCode(() => fromHex("zz"))).toBe("ENCODING_INVALID_HEX");
    expect(errorCode(() => fromHex("0xab"))).toBe("ENCODING_INVALID_HEX");
    expect(errorCode(() => fromHex("ab cd"))).toBe("ENCODING_INVALID_HEX");
  });

  it("checks the expected length", () => {
    expect(errorCode(() => fromHex("abcd", 3))).toBe("ENCODING_WRONG_LENGTH");
    expect(fromHex("abcdef", 3)).toHaveLength(3);
    expect(isHex("abcd", 2)).toBe(true);
    expect(isHex("abcd", 3)).toBe(false);
    expect(isHex("abc")).toBe(false);
  });

  it("never throws anything but a coded error on arbitrary strings (fuzz)", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const c = errorCode(() => fromHex(s));
        expect(c === undefined || c === "ENCODING_INVALID_HEX").toBe(true);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("base64", () => {
  it("round-trips standard and URL-safe encodings", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(fromBase64(toBase64(b))).toEqual(b);
        expect(fromBase64Url(toBase64Url(b))).toEqual(b);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("rejects missing padding, whitespace, wrong alphabets and non-canonical bits", () => {
    expect(errorCode(() => fromBase64("QQ"))).toBe("ENCODING_INVALID_BASE64");
    expect(errorCode(() => fromBase64("QQ==\n"))).toBe("ENCODING_INVALID_BASE64");
    expect(errorCode(() => fromBase64("-_=="))).toBe("ENCODING_INVALID_BASE64");
    expect(errorCode(() => fromBase64("QR=="))).toBe("ENCODING_INVALID_BASE64");
    expect(errorCode(() => fromBase64Url("QQ=="))).toBe("ENCODING_INVALID_BASE64");
    expect(errorCode(() => fromBase64Url("Q"))).toBe("ENCODING_INVALID_BASE64");
    expect(errorCode(() => fromBase64Url("QR"))).toBe("ENCODING_INVALID_BASE64");
  });

  it("agrees with Buffer on canonical input (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (s) => {
        let ours: Uint8Array | undefined;
        try {
          ours = fromBase64(s);
        } catch (e) {
          expect((e as { code?: string }).code).toBe("ENCODING_INVALID_BASE64");
          return;
        }
        expect(Buffer.from(ours).toString("base64")).toBe(s);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("utf8 and byte helpers", () => {
  it("decodes strictly", () => {
    expect(fromUtf8(utf8("grüße ✔"))).toBe("grüße ✔");
    expect(errorCode(() => fromUtf8(new Uint8Array([0xc3, 0x28])))).toBe("ENCODING_INVALID_UTF8");
    expect(errorCode(() => fromUtf8(new Uint8Array([0xed, 0xa0, 0x80])))).toBe("ENCODING_INVALID_UTF8");
  });

  it("concatenates and compares", () => {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([3]);
    expect(concatBytes(a, b)).toEqual(new Uint8Array([1, 2, 3]));
    expect(concatBytes()).toEqual(new Uint8Array());
    expect(bytesEqual(a, new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(a, new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(a, b)).toBe(false);
  });

  it("encodes views at their offset, not their whole buffer", () => {
    const buf = new Uint8Array([0xff, 0x01, 0x02, 0xff]);
    expect(toHex(buf.subarray(1, 3))).toBe("0102");
    expect(toBase64(buf.subarray(1, 3))).toBe("AQI=");
  });
});
