import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8 } from "../src/bytes.js";
import { compareUtf8, quoteGo } from "../src/json/go-strings.js";
import { stringifyJson } from "../src/json/go-writer.js";
import { parseJson } from "../src/json/parse.js";
import { formatJsonPath } from "../src/json/value.js";
import { FUZZ_RUNS } from "./helpers.js";

function fail(input: string | Uint8Array, options = {}): { code?: string; message: string; hint?: string } {
  try {
    parseJson(input, options);
  } catch (e) {
    return e as { code?: string; message: string; hint?: string };
  }
  throw new Error(`expected ${String(input)} to be rejected`);
}

describe("parseJson", () => {
  it("parses what JSON.parse parses, for generated documents", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(parseJson(text)).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("rejects duplicate keys with the path of the object", () => {
    const e = fail('{"Policies": {"ab": {}, "cd": {}, "ab": {"SANs": []}}}');
    expect(e.code).toBe("JSON_DUPLICATE_KEY");
    expect(e.message).toContain('"ab"');
    expect(e.message).toContain("in Policies");
    expect(e.message).toContain("line 1, column 35");
    expect(e.hint).toBeTruthy();
  });

  it("reports line and column of syntax errors", () => {
    const e = fail('{\n  "a": 1,\n  "b": [1, 2,]\n}');
    expect(e.code).toBe("JSON_SYNTAX");
    expect(e.message).toContain("trailing comma");
    expect(e.message).toContain("line 3, column 14");
  });

  it.each([
    ["empty input", ""],
    ["comment", '{"a": 1 /* c */}'],
    ["trailing comma in object", '{"a": 1,}'],
    ["single quotes", "{'a': 1}"],
    ["unquoted key", "{a: 1}"],
    ["leading zero", "[01]"],
    ["bare fraction", "[.5]"],
    ["trailing dot", "[1.]"],
    ["plus sign", "[+1]"],
    ["NaN", "[NaN]"],
    ["raw control character", '["a\tb"]'],
    ["invalid escape", '["\\x41"]'],
    ["short unicode escape", '["\\u12"]'],
    ["unterminated string", '["abc'],
    ["unterminated array", "[1, 2"],
    ["two documents", "{} {}"],
    ["missing colon", '{"a" 1}'],
    ["byte order mark", '\uFEFF{"a": 1}'],
    ["truncated literal", "[tru]"],
  ])("rejects %s with JSON_SYNTAX", (_, input) => {
    expect(fail(input).code).toBe("JSON_SYNTAX");
  });

  it("rejects numbers beyond float64", () => {
    expect(fail("[1e400]").code).toBe("JSON_NUMBER_OUT_OF_RANGE");
  });

  it("enforces size and depth limits before doing the work", () => {
    expect(fail("[1, 2, 3]", { maxBytes: 4 }).code).toBe("JSON_TOO_LARGE");
    expect(fail(`${"[".repeat(200)}${"]".repeat(200)}`).code).toBe("JSON_TOO_DEEP");
    // A depth bomb far past the default must not overflow the stack.
    expect(fail("[".repeat(1_000_000)).code).toBe("JSON_TOO_DEEP");
    expect(parseJson(`${"[".repeat(10)}${"]".repeat(10)}`, { maxDepth: 10 })).toBeDefined();
  });

  it("rejects invalid UTF-8 in byte input", () => {
    expect(fail(new Uint8Array([0x22, 0xff, 0x22])).code).toBe("ENCODING_INVALID_UTF8");
    expect(parseJson(utf8('"grüße"'))).toBe("grüße");
  });

  it("treats __proto__ as an ordinary key", () => {
    const v = parseJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("names the source in messages", () => {
    expect(fail("{", { source: "manifest.json" }).message).toMatch(/^manifest\.json: /);
  });

  it("throws only coded errors, and only where JSON.parse also fails or a strict rule applies (fuzz)", () => {
    const near = fc.oneof(
      fc.string(),
      fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
      fc.tuple(fc.json(), fc.nat(), fc.string({ maxLength: 2 })).map(([j, i, s]) => j.slice(0, i) + s + j.slice(i)),
    );
    fc.assert(
      fc.property(near, (text) => {
        let ours: unknown;
        try {
          ours = parseJson(text);
        } catch (e) {
          expect((e as { code?: string }).code).toMatch(/^(JSON_|ENCODING_)/);
          return;
        }
        expect(ours).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: FUZZ_RUNS * 3 },
    );
  });
});

describe("stringifyJson (Go encoding/json compatible)", () => {
  it("indents like json.MarshalIndent and sorts plain-object keys", () => {
    const out = stringifyJson({ b: {}, a: [1, 2], c: [], d: null, e: "x" });
    expect(out).toBe('{\n  "a": [\n    1,\n    2\n  ],\n  "b": {},\n  "c": [],\n  "d": null,\n  "e": "x"\n}');
  });

  it("keeps Map order (struct fields) and skips undefined (omitempty)", () => {
    const out = stringifyJson(
      new Map<string, unknown>([
        ["Z", 1],
        ["A", undefined],
        ["M", true],
      ]) as never,
    );
    expect(out).toBe('{\n  "Z": 1,\n  "M": true\n}');
    expect(stringifyJson(new Map())).toBe("{}");
  });

  it("escapes exactly like Go: HTML characters, line separators, control characters", () => {
    expect(quoteGo("<a&b>")).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(quoteGo("\u2028\u2029")).toBe('"\\u2028\\u2029"');
    expect(quoteGo('\x01\x1f\b\f\n\r\t"\\')).toBe('"\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\"');
    expect(quoteGo("é ✔ 😀 \x7f /")).toBe('"é ✔ 😀 \x7f /"');
    expect(quoteGo("<>", false)).toBe('"<>"');
    expect(quoteGo("\ud800x")).toBe('"\\ud800x"');
  });

  it("writes compact JSON with indent 0", () => {
    expect(stringifyJson({ a: [1, { b: null }] }, { indent: 0 })).toBe('{"a":[1,{"b":null}]}');
  });

  it("rejects values JSON cannot carry", () => {
    expect(() => stringifyJson(Number.NaN)).toThrow(expect.objectContaining({ code: "JSON_UNSUPPORTED_VALUE" }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => stringifyJson(cyclic as never)).toThrow(expect.objectContaining({ code: "JSON_UNSUPPORTED_VALUE" }));
  });

  it("round-trips through parseJson (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const normal = JSON.parse(JSON.stringify(v));
        expect(parseJson(stringifyJson(normal))).toStrictEqual(normal);
        expect(parseJson(stringifyJson(normal, { indent: 0 }))).toStrictEqual(normal);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("matches JSON.stringify where Go and JavaScript agree (property)", () => {
    const safe = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)));
    fc.assert(
      fc.property(safe, (v) => {
        const text = JSON.stringify(v);
        // JavaScript objects put integer-like keys first, so such objects cannot serve as the
        // reference ordering; Go's escapes and exponent formats differ from JSON.stringify's.
        if (/[<>&\u2028\u2029\b\f]|\\u|\d[eE]|"(0|[1-9]\d*)":/.test(text)) return;
        const sortedKeys = (x: unknown): unknown =>
          Array.isArray(x)
            ? x.map(sortedKeys)
            : x && typeof x === "object"
              ? Object.fromEntries(
                  Object.keys(x)
                    .sort(compareUtf8)
                    .map((k) => [k, sortedKeys((x as never)[k])]),
                )
              : x;
        expect(stringifyJson(v, { indent: 0 })).toBe(JSON.stringify(sortedKeys(v)));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("compareUtf8", () => {
  it("orders like a byte-wise comparison of UTF-8", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        const expected = Math.sign(Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
        if (/[\ud800-\udfff]/.test(a + b) && Buffer.from(a).toString() !== a) return; // lone surrogates
        expect(Math.sign(compareUtf8(a, b))).toBe(expected);
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(compareUtf8("\uffff", "\u{10000}")).toBeLessThan(0);
  });
});

describe("formatJsonPath", () => {
  it("writes identifiers dotted and other keys quoted", () => {
    expect(formatJsonPath(["ReferenceValues", "snp", 0, "MinimumTCB"])).toBe("ReferenceValues.snp[0].MinimumTCB");
    expect(formatJsonPath(["Policies", "ab-cd", "SANs", 1])).toBe('Policies["ab-cd"].SANs[1]');
    expect(formatJsonPath([])).toBe("(root)");
  });
});
