import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Literal, Module, Term } from "../src/ast.js";
import { builtinNames } from "../src/builtins/index.js";
import { assertDialect, checkDialect, REGO_DIALECT_IDS, type RegoDialectId, regoDialect } from "../src/dialect.js";
import { REGORUS_0_2_8_BUILTINS, REGORUS_0_2_8_LANGUAGE } from "../src/dialect-regorus.js";
import { Policy } from "../src/engine.js";
import { RegoError } from "../src/errors.js";
import { regoInventory } from "../src/inventory.js";
import { parseModule } from "../src/parser.js";
import { FUZZ_RUNS, kataCases, testdata } from "./fixtures.js";

const KATA: RegoDialectId = "regorus-0.2.8-kata";
const MSFT: RegoDialectId = "regorus-0.2.8-microsoft";

function findings(source: string, dialect: RegoDialectId = KATA) {
  return checkDialect([parseModule(source, { file: "p.rego" })], dialect).map((f) => `${f.code} ${f.name}`);
}

describe("regorus 0.2.8 built-in table", () => {
  it("is the table read from regorus' sources (testdata/rego/regorus-0.2.8/builtins.json)", () => {
    const vendored = JSON.parse(testdata("regorus-0.2.8/builtins.json")) as {
      regorus: { version: string; commit: string };
      builtins: { name: string; arity: number; feature: string | null }[];
    };
    expect(vendored.regorus.version).toBe("0.2.8");
    expect(vendored.regorus.commit).toBe("cabd086619b662e27995561f098f761373c1ed00");
    expect(REGORUS_0_2_8_BUILTINS.map(([name, arity, feature]) => ({ name, arity, feature }))).toEqual(
      vendored.builtins.map(({ name, arity, feature }) => ({ name, arity, feature })),
    );
  });

  it("builds the Kata agent's set from features regex and std only", () => {
    const kata = regoDialect(KATA).builtins;
    expect(kata.get("regex.match")).toBe(2);
    expect(kata.get("regex.find_all_string_submatch_n")).toBe(3);
    expect(kata.get("bits.negate")).toBe(1);
    expect(kata.get("rand.intn")).toBe(2); // feature std
    for (const absent of [
      "base64.decode",
      "base64url.encode",
      "hex.encode",
      "time.now_ns",
      "graph.reachable",
      "walk",
      "glob.match",
      "semver.compare",
      "json.match_schema",
      "crypto.sha256",
      "http.send",
      "any",
      "re_match",
      "yaml.marshal",
      "uuid.rfc4122",
      "opa.runtime",
    ]) {
      expect(kata.has(absent), absent).toBe(false);
    }
  });

  it("adds base64 and base64url for the Microsoft fork's agent, and nothing else", () => {
    const kata = regoDialect(KATA).builtins;
    const msft = regoDialect(MSFT).builtins;
    const extra = [...msft.keys()].filter((n) => !kata.has(n)).sort();
    expect(extra).toEqual([
      "base64.decode",
      "base64.encode",
      "base64.is_valid",
      "base64url.decode",
      "base64url.encode",
      "base64url.encode_no_pad",
    ]);
    for (const n of kata.keys()) expect(msft.has(n), n).toBe(true);
  });

  it("names built-ins that our engine has and regorus 0.2.8 (any features) lacks", () => {
    const everything = new Set(REGORUS_0_2_8_BUILTINS.map(([n]) => n));
    const ours = builtinNames().filter((n) => n !== "print" && !everything.has(n));
    // Facts for docs/rego.md: operator aliases, and built-ins added after regorus 0.2.8.
    expect(ours).toEqual(expect.arrayContaining(["json.patch", "strings.join", "plus", "minus", "mul", "div", "rem"]));
  });

  it("refuses an unknown dialect with REGO_DIALECT_UNKNOWN", () => {
    expect(() => regoDialect("opa-1.0")).toThrow(expect.objectContaining({ code: "REGO_DIALECT_UNKNOWN" }));
    expect(REGO_DIALECT_IDS).toEqual([KATA, MSFT]);
  });
});

describe("checkDialect", () => {
  const head = "package p\nimport future.keywords.if\nimport future.keywords.in\n";

  it("reports built-ins the agent's regorus lacks, with their location", () => {
    const src = `${head}a if graph.reachable({}, [])\nb if time.now_ns() > 0\nc := x if x := base64url.encode("a")\n`;
    const got = checkDialect([parseModule(src, { file: "p.rego" })], KATA);
    expect(got.map((f) => [f.code, f.name, f.location.line])).toEqual([
      ["REGO_DIALECT_BUILTIN", "graph.reachable", 4],
      ["REGO_DIALECT_BUILTIN", "time.now_ns", 5],
      ["REGO_DIALECT_BUILTIN", "base64url.encode", 6],
    ]);
    expect(findings(src, MSFT)).toEqual(["REGO_DIALECT_BUILTIN graph.reachable", "REGO_DIALECT_BUILTIN time.now_ns"]);
  });

  it("finds calls anywhere: comprehensions, else values, rule heads, every bodies, with values", () => {
    const src = [
      "package p",
      "import future.keywords",
      "a := [x | some x in [1]; semver.is_valid(x)]",
      'b := 1 if false else := hex.encode("a")',
      "f(x) := time.clock(x)",
      "c if every x in [1] { glob.match(x, [], x) }",
      'd if count([1]) with input as uuid.rfc4122("a")',
    ].join("\n");
    expect(findings(src)).toEqual([
      "REGO_DIALECT_BUILTIN semver.is_valid",
      "REGO_DIALECT_BUILTIN hex.encode",
      "REGO_DIALECT_BUILTIN time.clock",
      "REGO_DIALECT_BUILTIN glob.match",
      "REGO_DIALECT_BUILTIN uuid.rfc4122",
    ]);
  });

  it("reports a `with` that mocks a built-in the agent lacks", () => {
    expect(findings(`${head}a if time.now_ns() with time.now_ns as 1`)).toEqual([
      "REGO_DIALECT_BUILTIN time.now_ns",
      "REGO_DIALECT_BUILTIN time.now_ns",
    ]);
    expect(findings(`${head}a if count([]) with count as 1`)).toEqual([]);
  });

  it("checks arity: exact for a nested call, one output argument allowed on an expression", () => {
    expect(findings(`${head}a if regex.match("a")`)).toEqual(["REGO_DIALECT_ARITY regex.match"]);
    expect(findings(`${head}a if count([1], n)`)).toEqual([]);
    expect(findings(`${head}a if x := count([1], n)`)).toEqual(["REGO_DIALECT_ARITY count"]);
    expect(findings(`${head}a if concat(",", ["a"], "b", "c")`)).toEqual(["REGO_DIALECT_ARITY concat"]);
  });

  it("passes the modules' own functions: by package, import alias and data path", () => {
    const lib = parseModule("package lib\nimport future.keywords.if\nf(x) := x if true\n", { file: "lib.rego" });
    const main = parseModule(
      `${head}import data.lib\ng(x) := x\na if g(1)\nb if lib.f(1)\nc if data.lib.f(1)\nd if print("x", 1, 2)\n`,
      { file: "main.rego" },
    );
    expect(checkDialect([lib, main], KATA)).toEqual([]);
    // A sub-package's function by its relative name; a non-function rule hides no built-in.
    const sub = parseModule("package p.util\nh(x) := x\n", { file: "sub.rego" });
    const top = parseModule(`${head}a if util.h(1)\ntime := 1\nb if time.now_ns()\n`, { file: "top.rego" });
    expect(checkDialect([sub, top], KATA).map((f) => f.name)).toEqual(["time.now_ns"]);
  });

  it("requires future.keywords imports for `if`, `in` and `every` in a Rego v0 module", () => {
    expect(findings("package p\na if true")).toEqual(["REGO_DIALECT_KEYWORD if"]);
    expect(findings("package p\na { 1 in [1] }")).toEqual(["REGO_DIALECT_KEYWORD in"]);
    expect(findings("package p\na { some x in [1] }")).toEqual(["REGO_DIALECT_KEYWORD in"]);
    expect(findings("package p\na { every x in [1] { x } }")).toEqual(["REGO_DIALECT_KEYWORD every"]);
    expect(findings("package p\na := 1 { false } else := 2 if { true }")).toEqual(["REGO_DIALECT_KEYWORD if"]);
    // `every` also turns `in` on; the whole of future.keywords and rego.v1 turn on all three.
    expect(findings("package p\nimport future.keywords.every\na { every x in [1] { x in [1] } }")).toEqual([]);
    expect(findings("package p\nimport future.keywords\na if { every x in [1] { x in [1] } }")).toEqual([]);
    expect(findings("package p\nimport rego.v1\na if { every x in [1] { x in [1] } }")).toEqual([]);
    expect(findings("package p\nimport future.keywords.in\na if 1 in [1]")).toEqual(["REGO_DIALECT_KEYWORD if"]);
    // regorus reads `p contains x` without an import.
    expect(findings("package p\np contains 1")).toEqual([]);
    expect(checkDialect([parseModule("package p\na if 1 in [1]", { file: "p.rego", v1: true })], KATA)).toEqual([]);
  });

  it("is the compile option `dialect`: REGO_DIALECT_UNSUPPORTED with every finding in details", () => {
    const src = `${head}a if time.now_ns() > 0\nb if base64.encode("x") == "eA=="\n`;
    let error: unknown;
    try {
      Policy.compile({ file: "p.rego", source: src }, { dialect: KATA });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegoError);
    const e = error as RegoError;
    expect(e.code).toBe("REGO_DIALECT_UNSUPPORTED");
    expect(e.kind).toBe("policy");
    expect(e.hint).toMatch(/regorus 0\.2\.8/);
    expect(e.details?.dialect).toBe(KATA);
    const listed = (e.details?.findings ?? []) as { name: string }[];
    expect(listed.map((f) => f.name)).toEqual(["time.now_ns", "base64.encode"]);
    expect(e.location).toEqual({ file: "p.rego", line: 4, column: 6 });
    // Without the option our engine runs it; with the Microsoft dialect only time.now_ns is left.
    expect(Policy.compile({ file: "p.rego", source: src }).evalRule("data.p.b")).toBe(true);
    expect(() => assertDialect(Policy.compile({ file: "p.rego", source: src }).modules, MSFT)).toThrow(
      expect.objectContaining({
        code: "REGO_DIALECT_UNSUPPORTED",
        details: expect.objectContaining({ dialect: MSFT }),
      }),
    );
  });
});

describe("the compile option `emulate`", () => {
  const src = [
    "package p",
    "import future.keywords.if",
    'early := "a" if true',
    'late := base64url.encode("a") if input.reach',
    "count_ok if count([1]) == 1",
    'printed if print("x")',
  ].join("\n");

  it("fails a call of a built-in the engine lacks when evaluation reaches it, as regorus does", () => {
    const kata = Policy.compile({ file: "p.rego", source: src }, { emulate: KATA });
    expect(kata.evalRule("data.p.early")).toBe("a");
    expect(kata.evalRule("data.p.count_ok")).toBe(true);
    expect(kata.evalRule("data.p.printed", { print: () => {} })).toBe(true);
    expect(kata.evalRule("data.p.late", { input: { reach: false } })).toBeUndefined();
    expect(() => kata.evalRule("data.p.late", { input: { reach: true }, strict: false })).toThrow(
      expect.objectContaining({ code: "REGO_UNKNOWN_FUNCTION" }),
    );
    // The Microsoft fork's agent has base64url; our engine has everything.
    expect(Policy.compile(src, { emulate: MSFT }).evalRule("data.p.late", { input: { reach: true } })).toBe("YQ==");
    expect(Policy.compile(src).evalRule("data.p.late", { input: { reach: true } })).toBe("YQ==");
  });

  it("also refuses to mock a built-in the engine lacks", () => {
    const mock = Policy.compile(
      "package p\nimport future.keywords.if\nt := time.now_ns() if true\nq := x if x := t with time.now_ns as 5",
      { emulate: KATA },
    );
    expect(() => mock.evalRule("data.p.q")).toThrow(RegoError);
  });
});

describe("regoInventory", () => {
  it("lists built-in calls with counts and the constructs used", () => {
    const src = [
      "package p",
      "import future.keywords.if",
      "import future.keywords.in",
      "import data.lib",
      "default allow := false",
      "allow if { some x in input.xs; not x in {1, 2}; count(input.xs) > 1 }",
      "f(x) := y if { y := x + 1 } else := 0",
      "f(x) := 2 if x == `raw`",
      "s contains v if { v := [k | some k, _ in input.o][_] }",
      'o[k] := v if { some k; v := {k: 1 | k := "a"}[k] }',
      "a.b.c := 1",
      't if { f(1, y); lib.g(1); regex.match("a", "a"); e = 1; count([]) with input as {} }',
      "every_ok if every x in [1] { x >= 1 }",
    ].join("\n");
    const inv = regoInventory([parseModule(src, { file: "p.rego" })]);
    expect(Object.fromEntries(inv.builtins)).toEqual({ count: 2, "regex.match": 1 });
    expect([...inv.features].sort()).toEqual(
      [
        "import future.keywords",
        "import data",
        "default rule",
        "complete rule",
        "keyword if",
        "some ... in",
        "not",
        "keyword in (membership)",
        "set literal",
        "comparison",
        "function",
        "assignment (:=)",
        "arithmetic",
        "else",
        "raw string",
        "function with several definitions",
        "partial set rule",
        "array comprehension",
        "partial object rule",
        "some (declaration)",
        "object comprehension",
        "ref head (a.b := x)",
        "output argument (f(x, y))",
        "unification (=)",
        "with",
        "every",
      ].sort(),
    );
  });

  it("cites for every construct evidence that regorus 0.2.8 passes (tests/opa.passing at the release)", () => {
    const passing = new Set(testdata("regorus-0.2.8/opa.passing").split(/\s+/).filter(Boolean));
    expect(passing.size).toBe(230);
    for (const [feature, evidence] of Object.entries(REGORUS_0_2_8_LANGUAGE)) {
      expect(evidence.opa.length + evidence.regorus.length, feature).toBeGreaterThan(0);
      for (const suite of evidence.opa) expect(passing.has(suite), `${feature}: ${suite}`).toBe(true);
    }
  });
});

describe("real Kata agent policies (regorus' tests/kata/data, generated for AKS)", () => {
  for (const name of kataCases()) {
    it(`${name}: accepted by the Microsoft fork's dialect; the Kata dialect lacks only base64 built-ins`, () => {
      const m = parseModule(testdata(`regorus-kata/${name}/policy.rego`), { file: "policy.rego" });
      expect(checkDialect([m], MSFT)).toEqual([]);
      const kata = checkDialect([m], KATA);
      expect(kata.length).toBeGreaterThan(0);
      for (const f of kata) {
        expect(f.code).toBe("REGO_DIALECT_BUILTIN");
        expect(f.name).toMatch(/^base64(url)?\./);
      }
    });
  }
});

const loc = { file: "p.rego", line: 1, column: 1 };
const someNames = [
  ...REGORUS_0_2_8_BUILTINS.map(([n]) => n),
  ...builtinNames(),
  "f",
  "data.q.f",
  "nope.nope",
  "print",
  "walk",
];
const callName = fc.constantFrom(...someNames);
const term: fc.Arbitrary<Term> = fc.letrec<{ term: Term }>((tie) => ({
  term: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.integer().map((value): Term => ({ t: "scalar", value, loc })),
    fc.constantFrom("x", "y", "input").map((name): Term => ({ t: "var", name, loc })),
    fc
      .tuple(callName, fc.array(tie("term"), { maxLength: 4 }))
      .map(([fn, args]): Term => ({ t: "call", fn: fn.split("."), args, loc })),
    fc.array(tie("term"), { maxLength: 3 }).map((items): Term => ({ t: "set", items, loc })),
    fc
      .tuple(fc.option(tie("term"), { nil: undefined }), tie("term"), tie("term"))
      .map(([key, value, coll]): Term => ({ t: "in", key, value, coll, loc })),
    fc
      .tuple(tie("term"), fc.array(tie("term"), { maxLength: 2 }))
      .map(([t, path]): Term => ({ t: "ref", head: t, path, loc })),
    fc.tuple(tie("term"), tie("term")).map(([left, right]): Term => ({ t: "assign", left, right, loc })),
    fc.tuple(tie("term"), tie("term")).map(([t, x]): Term => ({ t: "arraycompr", term: t, body: [expr(x)], loc })),
  ),
})).term;

function expr(t: Term): Literal {
  return { kind: "expr", negated: false, expr: t, with: [], loc };
}

const literal: fc.Arbitrary<Literal> = fc.oneof(
  term.map(expr),
  fc.tuple(term, term, fc.array(term, { maxLength: 2 })).map(
    ([value, coll, body]): Literal => ({
      kind: "every",
      key: undefined,
      value,
      coll,
      body: body.map(expr),
      with: [],
      loc,
    }),
  ),
  fc
    .tuple(term, term)
    .map(([value, coll]): Literal => ({ kind: "somein", key: undefined, value, coll, with: [], loc })),
  fc
    .tuple(term, term, term)
    .map(
      ([e, target, value]): Literal => ({ kind: "expr", negated: false, expr: e, with: [{ target, value, loc }], loc }),
    ),
);

const module: fc.Arbitrary<Module> = fc
  .tuple(
    fc.subarray([
      ["future", "keywords"],
      ["future", "keywords", "if"],
      ["future", "keywords", "every"],
      ["rego", "v1"],
    ]),
    fc.boolean(),
    fc.array(fc.tuple(fc.constantFrom("f", "g", "a"), fc.array(literal, { maxLength: 4 }), fc.boolean()), {
      maxLength: 4,
    }),
  )
  .map(([imports, v1, rules]) => ({
    file: "p.rego",
    package: ["q"],
    imports: imports.map((path) => ({ path, alias: undefined, loc })),
    v1,
    loc,
    rules: rules.map(([name, body, usesIf]) => ({
      default: false,
      head: { name, path: [], args: undefined, contains: undefined, value: undefined, assign: undefined, loc },
      body,
      usesIf,
      else: undefined,
      loc,
    })),
  }));

describe("checkDialect on arbitrary modules (property)", () => {
  it("never throws, and every finding names a built-in or keyword with a location", () => {
    fc.assert(
      fc.property(module, fc.constantFrom(...REGO_DIALECT_IDS), (m, id) => {
        const got = checkDialect([m], id);
        for (const f of got) {
          expect(["REGO_DIALECT_BUILTIN", "REGO_DIALECT_ARITY", "REGO_DIALECT_KEYWORD"]).toContain(f.code);
          expect(f.location.file).toBe("p.rego");
          if (f.code === "REGO_DIALECT_BUILTIN") expect(regoDialect(id).builtins.has(f.name)).toBe(false);
        }
        // assertDialect throws exactly when there are findings, and only its typed error.
        try {
          assertDialect([m], id);
          expect(got).toEqual([]);
        } catch (e) {
          expect(e).toBeInstanceOf(RegoError);
          expect((e as RegoError).code).toBe("REGO_DIALECT_UNSUPPORTED");
          expect(got.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("never throws anything but a RegoError on parsed text (fuzz)", () => {
    const imports = fc.oneof(
      fc.subarray(["import future.keywords.if\n", "import future.keywords.in\n", "import future.keywords.every\n"]),
      fc.constant(["import rego.v1\n"]),
    );
    const literal = fc.constantFrom(
      "x in [1]",
      "every x in [1] { x }",
      "some x in [1]",
      "time.now_ns()",
      'regex.match("a")',
      "count([1], n)",
      "n := count([1], 2)",
      "base64url.encode(input.x)",
      "f(1)",
      "data.q.g(1)",
      "count([]) with count as 1",
      "y := [z | some z in input.zs; startswith(z, 1)]",
      "not graph.reachable({}, [])",
    );
    const opener = fc.constantFrom(["if ", ""], ["if { ", " }"], ["{ ", " }"], [":= 1 if ", ""]);
    const statement = fc
      .tuple(fc.constantFrom("a", "b", "f(x)"), opener, fc.array(literal, { minLength: 1, maxLength: 3 }))
      .map(([head, [open, close], lits]) => `${head} ${open}${lits.join("; ")}${close}\n`);
    let parsed = 0;
    fc.assert(
      fc.property(imports, fc.array(statement, { maxLength: 5 }), (imps, stmts) => {
        let m: Module;
        try {
          m = parseModule(`package p\n${imps.join("")}${stmts.join("")}`, { file: "p.rego" });
        } catch (e) {
          expect(e).toBeInstanceOf(RegoError);
          return;
        }
        parsed++;
        for (const id of REGO_DIALECT_IDS) {
          try {
            assertDialect([m], id);
          } catch (e) {
            expect((e as RegoError).code).toBe("REGO_DIALECT_UNSUPPORTED");
          }
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
    // Many generated texts parse (about a third; a tenth is the floor that random runs of 100
    // stay above), so the check meets real modules, not only parse errors.
    process.stdout.write(`dialect fuzz: ${parsed} of ${FUZZ_RUNS} texts parsed\n`);
    expect(parsed).toBeGreaterThan(FUZZ_RUNS / 10);
  });
});
