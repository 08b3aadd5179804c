import { describe, expect, it } from "vitest";
import { Policy } from "../src/engine.js";

// The evaluator computes single-valued terms directly and falls back to enumeration when a ref
// segment is an unbound variable; these cases sit on the border between the two paths.
describe("direct evaluation and enumeration agree", () => {
  it("enumerates a ref whose segment variable is unbound, looks it up when bound or a rule", () => {
    const p = Policy.compile(`package t
xs := ["a", "b", "c"]
n := 2
all contains v if v := xs[i]
one contains v if { i := 1; v := xs[i] }
by_rule := xs[n]
pairs contains [i, v] if { some i; v := xs[i]; v != "b" }
nested contains v if v := upper(xs[i])
`);
    expect(p.evalRule("data.t.all")).toEqual(["a", "b", "c"]);
    expect(p.evalRule("data.t.one")).toEqual(["b"]);
    expect(p.evalRule("data.t.by_rule")).toBe("c");
    expect(p.evalRule("data.t.pairs")).toEqual([
      [0, "a"],
      [2, "c"],
    ]);
    expect(p.evalRule("data.t.nested")).toEqual(["A", "B", "C"]);
  });

  it("binds plain, repeated and pattern parameters of functions", () => {
    const p = Policy.compile(`package t
f(x, x) := "same"
f(x, y) := "diff" if x != y
g([a, b]) := a + b
h(_, y) := y
r := [f(1, 1), f(1, 2), g([1, 2]), h(0, 5)]
`);
    expect(p.evalRule("data.t.r")).toEqual(["same", "diff", 3, 5]);
  });

  it("binds some-in variables per element and restores them afterwards", () => {
    const p = Policy.compile(`package t
pairs contains [k, v] if some k, v in {"a": 1, "b": 2}
values contains v if some v in {3, 1, 2}
restored if {
  v := "outer"
  vs := [v | some v in [1, 2]]
  vs == [1, 2]
  v == "outer"
}
`);
    expect(p.evalRule("data.t.pairs")).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(p.evalRule("data.t.values")).toEqual([1, 2, 3]);
    expect(p.evalRule("data.t.restored")).toBe(true);
  });

  it("applies a with-override below a rule to refs into that rule", () => {
    const p = Policy.compile(`package t
policy_data := {"a": {"b": 1}}
v := policy_data.a.b
w := y if y := v with data.t.policy_data.a as {"b": 2}
x := y if y := policy_data.a.b with data.t.policy_data as {"a": {"b": 3}}
`);
    expect(p.evalRule("data.t.v")).toBe(1);
    expect(p.evalRule("data.t.w")).toBe(2);
    expect(p.evalRule("data.t.x")).toBe(3);
  });

  it("tests negated and assigned literals as the general path does", () => {
    const p = Policy.compile(`package t
ok if {
  not input.missing
  not false
  x := input.n + 1
  x == 2
  y := input.missing
}
none if not input.n
zero if input.zero
`);
    expect(p.evalRule("data.t.ok", { input: { n: 1 } })).toBeUndefined();
    expect(p.evalRule("data.t.none", { input: { n: 1 } })).toBeUndefined();
    expect(p.evalRule("data.t.none", { input: {} })).toBe(true);
    expect(p.evalRule("data.t.zero", { input: { zero: 0 } })).toBe(true);
    expect(p.evalRule("data.t.zero", { input: { zero: false } })).toBeUndefined();
  });

  it("evaluates a policy whose AST the caller froze", () => {
    const p = Policy.compile("package t\nf(x) := y if y := x.a[i]\nr := f(input)");
    const freeze = (v: unknown): void => {
      if (v === null || typeof v !== "object" || Object.isFrozen(v)) return;
      Object.freeze(v);
      for (const x of Object.values(v)) freeze(x);
    };
    freeze(p.modules);
    expect(p.evalRule("data.t.r", { input: { a: [7] } })).toBe(7);
    expect(p.query("x := data.t.r", { input: { a: [8] } })[0]?.bindings).toEqual({ x: 8 });
  });
});

describe("some .. in over a value that is not a collection", () => {
  const p = Policy.compile(`package t
import rego.v1
default r := "none"
r := x if { some x in input.v }
`);
  it("is undefined when built-in errors are not strict, and a BuiltinError when they are", () => {
    expect(p.evalRule("data.t.r", { input: { v: 5 }, strict: false })).toBe("none");
    expect(() => p.evalRule("data.t.r", { input: { v: 5 }, strict: true })).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^REGO_/) }),
    );
    expect(p.evalRule("data.t.r", { input: { v: [7] }, strict: false })).toBe(7);
  });
});
