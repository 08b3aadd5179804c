import { describe, expect, it } from "vitest";
import { Policy } from "../src/engine.js";
import { RegoError, RegoParseError } from "../src/errors.js";

describe("Policy", () => {
  it("keeps __proto__ and constructor keys of the input as plain data", () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}, "a": 1}');
    const p = Policy.compile("package t\nkeys := object.keys(input)\nproto := input.__proto__.polluted\nout := input");
    const r = p.evalRule("data.t", { input }) as Record<string, unknown>;
    expect(r.keys).toEqual(["__proto__", "a", "constructor"]);
    expect(r.proto).toBe(true);
    expect(Object.getPrototypeOf(r.out)).toBe(Object.prototype);
    expect(Object.hasOwn(r.out as object, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("tells undefined from false, and applies defaults", () => {
    const p = Policy.compile("package t\ndefault d := false\nd if input.x == 1\nu if input.x == 1\nf := false");
    expect(p.evalRule("data.t.d", { input: { x: 2 } })).toBe(false);
    expect(p.evalRule("data.t.u", { input: { x: 2 } })).toBeUndefined();
    expect(p.evalRule("data.t.f")).toBe(false);
    expect(p.evalRule("data.t.u", { input: { x: 1 } })).toBe(true);
  });

  it("reports a conflict between complete rules as an error", () => {
    const p = Policy.compile("package t\nx := 1 if input.a\nx := 2 if input.b");
    expect(p.evalRule("data.t.x", { input: { a: true } })).toBe(1);
    expect(() => p.evalRule("data.t.x", { input: { a: true, b: true } })).toThrow(
      expect.objectContaining({ code: "REGO_CONFLICT" }),
    );
  });

  it("puts line and column on parse errors", () => {
    try {
      Policy.compile({ file: "x.rego", source: "package t\n\np := [1,\n" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RegoParseError);
      expect((e as RegoParseError).line).toBe(4);
      expect((e as RegoParseError).code).toBe("REGO_PARSE_ERROR");
    }
  });

  it("bounds recursion and runaway evaluation with typed errors", () => {
    const rec = Policy.compile("package t\na := b\nb := a");
    expect(() => rec.evalRule("data.t.a")).toThrow(expect.objectContaining({ code: "REGO_RECURSION" }));
    const loop = Policy.compile("package t\nn := count([x | some x in numbers.range(1, 100000)])");
    expect(() => loop.evalRule("data.t.n", { maxSteps: 1000 })).toThrow(
      expect.objectContaining({ code: "REGO_LIMIT_EXCEEDED" }),
    );
    let deep = "0";
    for (let i = 0; i < 500; i++) deep = `[${deep}]`;
    expect(() => Policy.compile(`package t\nx := ${deep}`)).toThrow(RegoError);
  });

  it("makes a failing built-in undefined in non-strict mode and an error in strict mode", () => {
    const p = Policy.compile('package t\nx := to_number("abc")');
    expect(p.evalRule("data.t.x", { strict: false })).toBeUndefined();
    expect(() => p.evalRule("data.t.x", { strict: true })).toThrow(
      expect.objectContaining({ code: "REGO_BUILTIN_ERROR" }),
    );
  });

  it("iterates sets and objects in Rego order, whatever the insertion order", () => {
    const p = Policy.compile('package t\nxs := [x | some x in {"b", "a", 3, null}]\nks := [k | some k, _ in input]');
    expect(p.evalRule("data.t.xs")).toEqual([null, 3, "a", "b"]);
    expect(p.evalRule("data.t.ks", { input: { z: 1, a: 2, m: 3 } })).toEqual(["a", "m", "z"]);
  });

  it("evaluates with, else, every, comprehensions and functions", () => {
    const p = Policy.compile(
      [
        "package t",
        "import rego.v1",
        "f(x) := y if { y := x * 2 }",
        'g(x) := "big" if { x > 10 } else := "small"',
        "all_pos if { every v in input.xs { v > 0 } }",
        "doubled := {k: f(v) | some k, v in input.m}",
        "mocked if { not all_pos with input.xs as [-1] }",
        "s contains v if { some v in input.xs; v > 1 }",
      ].join("\n"),
    );
    const r = p.evalRule("data.t", { input: { xs: [1, 2, 3], m: { a: 1 } } }) as Record<string, unknown>;
    expect(r).toEqual({ all_pos: true, doubled: { a: 2 }, mocked: true, s: [2, 3] });
    expect(p.query("x := data.t.g(20); y := data.t.g(1)")[0]?.bindings).toEqual({ x: "big", y: "small" });
  });

  it("injects time instead of reading the clock", () => {
    const p = Policy.compile("package t\nnow := time.now_ns()");
    expect(p.evalRule("data.t.now", { nowNs: 42 })).toBe(42);
    expect(() => p.evalRule("data.t.now")).toThrow(expect.objectContaining({ code: "REGO_BUILTIN_ERROR" }));
  });

  it("rejects redeclared and used-above locals at compile time, with the first use's location", () => {
    const compileError = (body: string, head = "x"): RegoError => {
      try {
        Policy.compile(`package t\nimport rego.v1\n${head} if {\n${body}\n}`);
      } catch (e) {
        return e as RegoError;
      }
      throw new Error("compiled");
    };
    const rebind = compileError("  v := 1\n  v := 2");
    expect(rebind.code).toBe("REGO_COMPILE_ERROR");
    expect(rebind.message).toContain("var `v` used before definition below");
    expect(rebind.location).toEqual({ file: "policy.rego", line: 4, column: 3 });
    expect(compileError("  v = 0\n  some v in [1]").message).toContain("var `v` used before definition");
    expect(compileError("  some v in [1]\n  v := 1").message).toContain("var `v` used before definition");
    expect(compileError("  v := 1", "f([v])").message).toContain("var `v` used before definition");
    expect(compileError("  some [a, b] in [[1, 2, 3]]").message).toContain("mismatch in number of array elements");
    // Nested queries may shadow; `some v` may be followed by `v := ...`; rules are not locals.
    const ok = Policy.compile(
      "package t\nimport rego.v1\nr := 1\nx := [v, r, w] if {\n  v := 1\n  w := [v | some v in [2]][0]\n  some r\n  r := 3\n}\ny := r if { r := 2 }",
    );
    expect(ok.evalRule("data.t.x")).toEqual([1, 3, 2]);
    expect(ok.evalRule("data.t.y")).toBe(2);
    expect(
      Policy.compile("package t\nimport rego.v1\nx if { some [a] in [[1, 2], [1]]; a == 1 }").evalRule("data.t.x"),
    ).toBe(true);
  });

  it("merges constant-key entries and per-key defaults into an object rule's document", () => {
    const p = Policy.compile(
      'package t\nc[x] = 1 { x := "a" }\nc["b"] = 2\nc.d.e = 3\ndefault c["f"] = 4\ndefault c["a"] = 5\nn := [data[1], data.t[2]]',
      { data: { "1": "one", t: { "2": "two" } } },
    );
    expect(p.evalRule("data.t.c")).toEqual({ a: 1, b: 2, d: { e: 3 }, f: 4 });
    expect(p.evalRule("data.t.c.b")).toBe(2);
    expect(p.evalRule("data.t.n")).toEqual(["one", "two"]);
    expect(() => Policy.compile('package t\ndefault c["a"] = 1\ndefault c["a"] = 2\nc[x] = 3 { x := "b" }')).toThrow(
      expect.objectContaining({ code: "REGO_COMPILE_ERROR" }),
    );
  });
});
