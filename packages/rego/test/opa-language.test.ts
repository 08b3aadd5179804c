// The language behaviours issue 19 brought in line with OPA, each pinned on its own so that a
// regression names the construct (the conformance suite covers them too, by folder).
import { describe, expect, it } from "vitest";
import { checkDialect } from "../src/dialect.js";
import { Policy } from "../src/engine.js";

const v1 = (source: string, data?: unknown) =>
  Policy.compile({ file: "p.rego", source }, { v1: true, ...(data === undefined ? {} : { data }) });
const v0 = (source: string) => Policy.compile({ file: "p.rego", source });

describe("parser", () => {
  it("reads a keyword followed by .name as the first part of a ref, in heads and bodies", () => {
    const p = v1(`package t
in.foo := 1
true.bar := 2
default.x := 3
default as.y(_) := 4
as.y(x) := x if x < 10
p if {
  in.foo == 1
  true.bar == 2
  default.x == 3
  as.y(11) == 4
  as.y(5) == 5
}`);
    expect(p.evalRule("data.t.p")).toBe(true);
    expect(p.evalRule("data.t.in")).toEqual({ foo: 1 });
  });

  it("still reads keywords as keywords before a space", () => {
    expect(() => v1("package t\np if { in .foo }")).toThrow(expect.objectContaining({ code: "REGO_PARSE_ERROR" }));
    expect(v1("package t\nxs := [1]\np if { 1 in xs }").evalRule("data.t.p")).toBe(true);
  });

  it("accepts a trailing comma in call arguments", () => {
    expect(v1('package t\np := concat("-", ["a", "b"],)').evalRule("data.t.p")).toBe("a-b");
  });

  it("reads (k, v in xs) as a term and k, v in xs in ys as (k, v in xs) in ys", () => {
    const p = v1(`package t
a := [(1, 1 in [2])]
b if { 1, 2 in [2] in [false, true] }
c := x if { x := 0, 2 in [2] }`);
    expect(p.evalRule("data.t.a")).toEqual([false]);
    expect(p.evalRule("data.t.b")).toBe(true);
    expect(p.evalRule("data.t.c")).toBe(true);
  });

  it("negates a body with not { ... } under import future.keywords.not", () => {
    const p = v1(`package t
import future.keywords.not
p if { not { some x in [1, 2]; x == 3 } }
q if { not { some x in [1, 2]; x == 2 } }
r if { a := 2; not { a == 3 }; a == 2 }`);
    expect(p.evalRule("data.t.p")).toBe(true);
    expect(p.evalRule("data.t.q")).toBeUndefined();
    expect(p.evalRule("data.t.r")).toBe(true);
  });

  it("reads a v0 head ref of several segments without a value as a single-value rule", () => {
    const p = v0(`package t
import future.keywords
p[q][r] { q := ["a", "b"][r] }
s[x] { x := 1 }
a[x] if { x := 7 }`);
    expect(p.evalRule("data.t.p")).toEqual({ a: { 0: true }, b: { 1: true } });
    expect(p.evalRule("data.t.s")).toEqual([1]);
    expect(p.evalRule("data.t.a")).toEqual({ 7: true });
  });

  it("reads and/or (import future.keywords.and/.or) with OPA's precedence and short-circuit", () => {
    const p = v1(`package t
import future.keywords.and
import future.keywords.or
a if input.x or input.y and input.z
b if not input.x and not input.y or input.z
c if { input.x > 0 or to_number("foo") == 1 }
d := [1 | { some n in [1, 2, 3]; n > 0 } and true]
e if (input.x or input.y) and input.z
f if { (input.x > 0 or input.y > 0 with input as {"x": 0, "y": 1}) }`);
    expect(p.evalRule("data.t.a", { input: { x: true, y: false, z: false } })).toBe(true);
    expect(p.evalRule("data.t.a", { input: { x: false, y: true, z: false } })).toBeUndefined();
    expect(p.evalRule("data.t.b", { input: { x: true, y: true, z: true } })).toBe(true);
    expect(p.evalRule("data.t.c", { input: { x: 1 }, strict: true })).toBe(true);
    expect(() => p.evalRule("data.t.c", { input: { x: 0 }, strict: true })).toThrow(/to_number/);
    expect(p.evalRule("data.t.d")).toEqual([1]);
    expect(p.evalRule("data.t.e", { input: { x: true, y: false, z: false } })).toBeUndefined();
    expect(p.evalRule("data.t.e", { input: { x: false, y: true, z: true } })).toBe(true);
    expect(p.evalRule("data.t.f")).toBe(true);
  });

  it("tells the Kata agent's dialect that it lacks not-bodies and and/or", () => {
    const p = v1("package t\nimport future.keywords.and\nimport future.keywords.not\np if { true and true }");
    const found = checkDialect(p.modules, "regorus-0.2.8-kata").map((f) => `${f.code} ${f.name}`);
    expect(found).toEqual(["REGO_DIALECT_KEYWORD and", "REGO_DIALECT_KEYWORD not"]);
  });

  it("keeps and/or plain names without the import", () => {
    expect(v1("package t\nand := 1\np if and == 1").evalRule("data.t.p")).toBe(true);
  });

  it("builds template strings: texts, escapes, values as print shows them, <undefined>", () => {
    const p = v1(`package t
a := 42
p := $"{a} {"s"} {[1, "x"]} {set()} {input.none} \\{a} {$"<{a + 1}>"}"
q := $\`multi
{a}\`
r := $"{b with input as 7}" if true
b := input`);
    expect(p.evalRule("data.t.p")).toBe('42 s [1, "x"] set() <undefined> {a} <43>');
    expect(p.evalRule("data.t.q")).toBe("multi\n42");
    expect(p.evalRule("data.t.r")).toBe("7");
  });

  it("refuses nesting without end (templates, not-bodies, not chains) with a parse error", () => {
    const deep = `package t\np := ${'$"{'.repeat(5000)}1${'}"'.repeat(5000)}`;
    expect(() => v1(deep)).toThrow(expect.objectContaining({ code: "REGO_PARSE_ERROR" }));
    expect(() => v1('package t\np := $"{1"')).toThrow(expect.objectContaining({ code: "REGO_PARSE_ERROR" }));
    const nots = `package t\nimport future.keywords.and\nimport future.keywords.not\np if { ${"not { ".repeat(5000)}true${" }".repeat(5000)} }`;
    expect(() => v1(nots)).toThrow(expect.objectContaining({ code: "REGO_PARSE_ERROR" }));
    const chain = `package t\nimport future.keywords.and\np if { ${"not ".repeat(50000)}true }`;
    expect(() => v1(chain)).toThrow(expect.objectContaining({ code: "REGO_PARSE_ERROR" }));
  });

  it("reads `if {` that is no body as a one-term body (an object comprehension)", () => {
    const p = v1('package t\nf(_) := 1 if {k: i | k := ["a"][i]}\np := f(0)');
    expect(p.evalRule("data.t.p")).toBe(1);
  });
});

describe("evaluation", () => {
  it("shows `with data.a.b` in data.a, also where base data lacks a", () => {
    const p = v1(
      `package t
p := x if { x := data.a with data.a.b as 1 }
q := x if { x := data.b with data.b.v2 as "w" }`,
      { b: { v1: "h", v2: "g" } },
    );
    expect(p.evalRule("data.t.p")).toEqual({ b: 1 });
    expect(p.evalRule("data.t.q")).toEqual({ v1: "h", v2: "w" });
  });

  it("makes every node of the rule tree an object of its package, even when empty", () => {
    const p = v1('package t\nbuz["quz"] := 3 if input == 3\nfoo.bar(x) := x');
    expect(p.evalRule("data.t")).toEqual({ buz: {}, foo: {} });
  });

  it("collects a set rule below an object rule into a set entry", () => {
    const p = v1(`package t
p[q].r contains s if { q := ["a", "b"][_]; s := ["a", "b"][_]; q != s }
p.b.r contains "foo"`);
    expect(p.evalRule("data.t.p")).toEqual({ a: { r: ["b"] }, b: { r: ["a", "foo"] } });
  });

  it("lets base data win over a rule for the same key of an enclosing document", () => {
    const p = v1('package t.c\nk := "rule"', { t: { c: { k: "base" } } });
    expect(p.evalRule("data.t.c")).toEqual({ k: "base" });
  });

  it("reads a number key of a data ref as a name of base data, not of a local value", () => {
    const p = v1('package t\np := data.nested[2]\nq := [data.xs[1], data.xs["1"]]\nr := o[2] if o := data.nested', {
      nested: { "2": "bar" },
      xs: ["a", "b"],
    });
    expect(p.evalRule("data.t.p")).toBe("bar");
    expect(p.evalRule("data.t.q")).toEqual(["b", "b"]);
    expect(p.evalRule("data.t.r")).toBeUndefined();
  });

  it("runs a negated literal after the literals that bind its variables", () => {
    const p = v1(
      "package t\nf(x) := x\np := a if {\n  not a = f(1)\n  a = f(2)\n}\nq := a if {\n  not a = f(2)\n  a = f(2)\n}",
    );
    expect(p.evalRule("data.t.p")).toBe(2);
    expect(p.evalRule("data.t.q")).toBeUndefined();
  });

  it("compares a computed function parameter after the body that binds its variables", () => {
    const p = v1('package t\np := f("foo bar")\nf($"{x} {input.y}") := 42 if x = "foo"');
    expect(p.evalRule("data.t.p", { input: { y: "bar" } })).toBe(42);
    expect(p.evalRule("data.t.p", { input: { y: "baz" } })).toBeUndefined();
  });

  it("enumerates walk(x) as a term", () => {
    const p = v1('package t\np := {path: v | [path, v] := walk({"a": [1]}); is_number(v)}');
    expect(p.evalRule("data.t.p")).toEqual({ '["a",0]': 1 });
  });

  it("evaluates the enumerating operand first in x == xs[x]", () => {
    const p = v1("package t\np := x if { some x; x == input.xs[x] }");
    expect(p.evalRule("data.t.p", { input: { xs: [2, 1, 0] } })).toBe(1);
  });

  it("skips values of another shape under a pattern, and rejects literals of another shape", () => {
    const p = v1('package t\np contains x if { [1, x] = input.xs[_] }\nq if { [x] = {"k": 1} }');
    expect(p.evalRule("data.t.p", { input: { xs: [[1, 2], [1], [1, 3, 4], [1, 5]] } })).toEqual([2, 5]);
    expect(() => p.evalRule("data.t.q")).toThrow(expect.objectContaining({ code: "REGO_TYPE_ERROR" }));
  });

  it("runs a mock's replacement without other mocks", () => {
    const p = v1(`package t
f(_) := 100
g(x) := count(x)
p := x if { x := q with count as f }
q := x if { x := object.union_n([{}, {}]) with object.union_n as g }`);
    expect(p.evalRule("data.t.p")).toBe(2);
  });

  it("words conflicts as OPA does", () => {
    expect(() => v1("package t\np := 1\np := 2").evalRule("data.t.p")).toThrow(
      /complete rules must not produce multiple outputs/,
    );
    expect(() =>
      v1('package t\np := {k: 1 | k := ["a", "a"][_]} if false\nq := {"a": i | i := [1, 2][_]}').evalRule("data.t.q"),
    ).toThrow(/object keys must be unique/);
  });
});
