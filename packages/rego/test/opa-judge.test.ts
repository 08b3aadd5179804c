// The conformance judge itself: it must fail cases that do not hold, the way OPA's runner does.
import { describe, expect, it } from "vitest";
import type { OpaCase } from "./opa/cases.js";
import { judgeCase } from "./opa/judge.js";
import { outOfScope } from "./opa/scope.js";

const base = (over: Partial<OpaCase>): OpaCase => ({
  folder: "v1/test",
  file: "t.yaml",
  id: "v1/test/t.yaml#t",
  version: "v1",
  note: "t",
  query: "data.t.p = x",
  modules: ["package t\np contains x if some x in [3, 1, 2]"],
  ...over,
});

describe("OPA conformance judge", () => {
  it("compares result sets, with sort_bindings for array bindings", () => {
    expect(judgeCase(base({ want_result: [{ x: [1, 2, 3] }] })).ok).toBe(true);
    // OPA sorts the results' arrays, not the expected ones.
    const arr = base({ modules: ["package t\np := [3, 1, 2]"] });
    expect(judgeCase({ ...arr, want_result: [{ x: [1, 2, 3] }], sort_bindings: true }).ok).toBe(true);
    expect(judgeCase({ ...arr, want_result: [{ x: [1, 2, 3] }] }).ok).toBe(false);
    expect(judgeCase(base({ want_result: [{ x: [1, 2] }] })).ok).toBe(false);
    expect(judgeCase(base({ want_result: [] })).ok).toBe(false);
  });

  it("treats a false single-expression query as no result, as OPA does", () => {
    const c = base({ query: "data.t.q", modules: ["package t\nq := false"] });
    expect(judgeCase({ ...c, want_result: [] }).ok).toBe(true);
    expect(judgeCase({ ...c, want_result: [{}] }).ok).toBe(false);
  });

  it("matches error texts as substrings and error codes by OPA's names", () => {
    const c = base({ modules: ["package t\np := 1\np := 2"], query: "data.t.p = x" });
    expect(judgeCase({ ...c, want_error_code: "eval_conflict_error" }).ok).toBe(true);
    expect(judgeCase({ ...c, want_error: "complete rules must not produce multiple outputs" }).ok).toBe(true);
    expect(judgeCase({ ...c, want_error_code: "eval_type_error" }).ok).toBe(false);
    expect(judgeCase({ ...c, want_error: "no such text" }).ok).toBe(false);
    expect(judgeCase({ ...c, want_result: [{ x: 1 }] }).ok).toBe(false);
  });

  it("keeps built-in errors non-strict unless the case says strict_error", () => {
    const c = base({ modules: ["package t\np := x if x := 1 / 0"] });
    expect(judgeCase({ ...c, want_result: [] }).ok).toBe(true);
    expect(judgeCase({ ...c, strict_error: true, want_error: "divide by zero" }).ok).toBe(true);
  });

  it("reads input_term as a Rego term (sets stay sets)", () => {
    const c = base({ modules: ["package t\np := input"], input_term: '{"a": {1, 2}}' });
    expect(judgeCase({ ...c, want_result: [{ x: { a: [1, 2] } }] }).ok).toBe(true);
  });

  it("classifies folders by family", () => {
    expect(outOfScope("v0/jwtbuiltins")).toMatch(/jwt/);
    expect(outOfScope("v1/logic_operators")).toBeUndefined();
    expect(outOfScope("v1/aggregates")).toBeUndefined();
  });
});
