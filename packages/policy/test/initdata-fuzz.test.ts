import { gzipSync } from "node:zlib";
import { fromBase64, toBase64 } from "@contrast/core";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeInitdataAnnotation,
  encodeInitdataAnnotation,
  initdataToml,
  PolicyError,
  parseInitdata,
  policyInitdata,
} from "../src/index.js";
import { parseTomlStrings } from "../src/initdata/toml.js";
import { INITDATA_VERSION } from "../src/initdata.js";
import { tomllib } from "./helpers/tomllib.js";

const FUZZ_RUNS = fuzzRuns(300);

/** Passes, or fails with one of the initdata codes: nothing else may escape the decoder. */
function onlyInitdataErrors(f: () => unknown): "ok" | string {
  try {
    f();
    return "ok";
  } catch (e) {
    if (!(e instanceof PolicyError) || !e.code.startsWith("POLICY_INITDATA_")) throw e;
    return e.code;
  }
}

/** What the subset reader made of a text, in tomllib's shape (tables as nested objects). */
function asObject(text: string): Record<string, unknown> {
  const { root, tables } = parseTomlStrings(text);
  return {
    ...Object.fromEntries(root),
    ...Object.fromEntries([...tables].map(([k, t]) => [k, Object.fromEntries(t)])),
  };
}

// Characters that stress TOML's string rules, and whole escape sequences, valid and not.
const PIECES = [
  "'",
  '"',
  "\\",
  "\n",
  "\r",
  "\r\n",
  "\t",
  " ",
  "#",
  "=",
  "[",
  "]",
  ".",
  "a",
  "Z",
  "0",
  "-",
  "_",
  "é",
  "😀",
  "\u0000",
  "\u0008",
  "\u001f",
  "\u007f",
  "\u00a0",
  "\\n",
  "\\t",
  '\\"',
  "\\\\",
  "\\u00e9",
  "\\U0001F600",
  "\\uD800",
  "\\U00110000",
  "\\e",
  "\\x41",
  "\\ \n",
  "\\\n  ",
  "\\\n\t\n\t",
  "'''",
  '"""',
  "''''",
  '""""',
  "'''''",
  '"""""',
  "''''''",
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((p) => p.join(""));
const bareKey = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
const key = fc.oneof(
  bareKey,
  fc.constantFrom("version", "algorithm", "data", "policy.rego", "a.b", ""),
  text.map((t) => `"${t}"`),
  text.map((t) => `'${t}'`),
  text,
);
const renderKey = fc
  .tuple(key, fc.nat(3))
  .map(([k, how]) => (how === 0 && /^[A-Za-z0-9_-]+$/.test(k) ? k : how === 1 ? `"${k}"` : how === 2 ? `'${k}'` : k));
const value = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('"', "'", '"""', "'''"), text).map(([q, t]) => `${q}${t}${q}`) },
  { weight: 1, arbitrary: fc.constantFrom("1", "true", "[]", "['a']", "{}", "{ a = 'b' }", "1979-05-27", "") },
);
const line = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(renderKey, fc.constantFrom(" = ", "=", " =", "= ", "\t=\t"), value).map((p) => p.join("")),
  },
  { weight: 2, arbitrary: renderKey.map((k) => `[${k}]`) },
  { weight: 1, arbitrary: fc.constantFrom("[data]", "[ data ]", '["data"]', "[[data]]", "[a.b]", "[]", "[data", "") },
  { weight: 1, arbitrary: text.map((t) => `# ${t}`) },
  { weight: 1, arbitrary: text },
);
const document = fc
  .tuple(fc.array(fc.tuple(line, fc.constantFrom("\n", "\r\n", " # c\n", "")), { maxLength: 8 }), fc.boolean())
  .map(([lines, lastNewline]) => lines.map(([l, end]) => l + end).join("") + (lastNewline ? "\n" : ""));

describe("the initdata TOML reader against Python's tomllib", () => {
  it("reads TOML's corner cases of strings as tomllib does", () => {
    const docs = [
      'a = """\nline one \\\n\t  \n\t  line two"""\n',
      'a = """x \\  \n  y"""\n',
      "a = '''\n\nkeeps the second newline'''\n",
      "a = ''''one quote''''\n",
      "a = '''''two quotes'''''\n",
      'a = """"one""""\n',
      'a = """""two"""""\n',
      'a = """"""\n',
      "a = ''\nb = \"\"\n\"\" = 'empty key'\n",
      'a = "\\u00e9\\U0001F600\\b\\f\\t\\\\\\""\n',
      "[ data ] # comment\n  \"policy.rego\"\t=\t'x' # trailing\r\n",
      "['data']\nkey-1_x = 'v'\n1234 = 'digits'\n",
    ];
    const theirs = tomllib(docs);
    docs.forEach((doc, i) => {
      expect(theirs[i], doc).toEqual({ ok: true, value: asObject(doc) });
    });
  });

  it("refuses what TOML forbids in strings, as tomllib does", () => {
    const controls = ["\u0000", "\u0008", "\u000b", "\u001f", "\u007f", "\r"];
    const docs = [
      ...controls.flatMap((c) => [
        `a = "x${c}y"\n`,
        `a = 'x${c}y'\n`,
        `a = """x${c}y"""\n`,
        `a = '''x${c}y'''\n`,
        `"k${c}" = 'v'\n`,
        `a = 'v' # comment ${c} here\n`,
      ]),
      "a = '''x''''''\n",
      'a = """x""""""\n',
      'a = "\\e"\n',
      'a = "\\x41"\n',
      'a = "\\uD800"\n',
      'a = "\\U00110000"\n',
      'a = "\\u12"\n',
      'a = """\\ x"""\n',
      "a = 'v'\rb = 'w'\n",
      "a = 'v'\na = 'w'\n",
      "[t]\n[t]\n",
      "a = 'unterminated\n",
      'a = "two\nlines"\n',
    ];
    const theirs = tomllib(docs);
    docs.forEach((doc, i) => {
      expect(theirs[i]?.ok, JSON.stringify(doc)).toBe(false);
      expect(() => asObject(doc), JSON.stringify(doc)).toThrow(
        expect.objectContaining({ code: "POLICY_INITDATA_SYNTAX" }),
      );
    });
  });

  it("(fuzz) accepts only documents that tomllib reads to the same strings", () => {
    const docs = fc.sample(document, { numRuns: FUZZ_RUNS, seed: Number(process.env.FUZZ_SEED ?? 12) });
    const theirs = tomllib(docs);
    let accepted = 0;
    docs.forEach((doc, i) => {
      let ours: Record<string, unknown>;
      try {
        ours = asObject(doc);
      } catch (e) {
        if (!(e instanceof PolicyError) || e.code !== "POLICY_INITDATA_SYNTAX") throw e;
        return;
      }
      accepted++;
      const t = theirs[i];
      expect(t, JSON.stringify(doc)).toEqual({ ok: true, value: ours });
    });
    // The generator must reach both sides, or the comparison says little.
    expect(accepted).toBeGreaterThan(FUZZ_RUNS / 20);
    expect(accepted).toBeLessThan(FUZZ_RUNS);
  });

  it("(property) initdataToml writes TOML that tomllib and our reader read back to the same entries", () => {
    // Characters TOML treats specially, and any code point (dictionaries of plain "binary"
    // strings are slow to generate).
    const unit = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom("'", '"', "\\", "\n", "\r", "\t", "\u0000", "\u007f", "é", "😀", "a", " ", "\u2028"),
      },
      { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
    );
    const data = fc.dictionary(fc.string({ unit, maxLength: 12 }), fc.string({ unit, maxLength: 80 }), { maxKeys: 5 });
    const cases = fc.sample(fc.tuple(data, fc.constantFrom("sha256", "sha384", "sha512" as const)), {
      numRuns: FUZZ_RUNS,
      seed: 7,
    });
    const tomls = cases.map(([d, a]) => initdataToml(d, a));
    const theirs = tomllib(tomls);
    cases.forEach(([d, algorithm], i) => {
      const expected = { version: INITDATA_VERSION, algorithm, data: { ...d } };
      expect(theirs[i], JSON.stringify(tomls[i])).toEqual({ ok: true, value: expected });
      const ours = parseInitdata(Buffer.from(tomls[i] as string, "utf8"));
      expect(Object.fromEntries(ours.data)).toEqual(d);
    });
  });
});

describe("the initdata annotation decoder", () => {
  it("(fuzz) fails on arbitrary input only with an initdata error code", () => {
    const input = fc.oneof(
      fc.string(),
      fc.uint8Array({ maxLength: 200 }).map((b) => toBase64(b)),
      fc.uint8Array({ maxLength: 200 }).map((b) => toBase64(gzipSync(b))),
      document.map((d) => toBase64(gzipSync(Buffer.from(d)))),
      document.map((d) => toBase64(gzipSync(Buffer.from(`version = '0.1.0'\nalgorithm = 'sha256'\n[data]\n${d}`)))),
    );
    fc.assert(
      fc.property(input, (value) => {
        onlyInitdataErrors(() => decodeInitdataAnnotation(value));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("(property) a changed byte anywhere in the gzip stream is refused or leaves the document as it was", () => {
    const gz = fromBase64(
      encodeInitdataAnnotation(policyInitdata("package agent_policy\n\ndefault X := true\n").bytes),
    );
    const original = decodeInitdataAnnotation(toBase64(gz)).toml;
    fc.assert(
      fc.property(fc.nat(gz.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const tampered = new Uint8Array(gz);
        tampered[at] = (tampered[at] as number) ^ xor;
        let toml: string;
        try {
          toml = decodeInitdataAnnotation(toBase64(tampered)).toml;
        } catch (e) {
          expect(e).toBeInstanceOf(PolicyError);
          expect((e as PolicyError).code).toMatch(/^POLICY_INITDATA_/);
          return;
        }
        // Only bits nobody reads may change unnoticed: header bytes (time, XFL, OS, the FTEXT
        // hint) and the padding after the end-of-block code in the last deflate byte, just before
        // the 8-byte trailer (a CI fuzz run found xor 0x80 there).
        expect(toml).toBe(original);
        expect([3, 4, 5, 6, 7, 8, 9, gz.length - 9]).toContain(at);
      }),
      { numRuns: FUZZ_RUNS, examples: [[gz.length - 9, 128]] },
    );
  });
});
