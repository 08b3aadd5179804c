import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileModules } from "../src/compiler.js";
import { Evaluator } from "../src/evaluator.js";
import { parseModule } from "../src/parser.js";
import { fromJson, toJson } from "../src/values.js";
import { FUZZ_RUNS } from "./fixtures.js";

// Random policies evaluated twice: with the evaluator's shortcuts (direct evaluation of
// single-valued terms, literal plans, some-in slots) and in reference mode, where every term goes
// through the general continuation path. Values and errors must be the same. The generator
// favours what decides between the two paths: ref segments that are bound or not, `_`, rule refs,
// function calls, assignments and `some … in`.

const gen = fc.letrec<{ term: string; lit: string }>((tie) => ({
  term: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("0", "1", "2", '"a"', '"b"', "true", "null", "[]"),
    fc.constantFrom("i", "v", "k", "a", "b", "r0", "r1", "n"),
    fc.constantFrom("input.xs", "input.o", "input.xs[i]", "input.o[k]", "input.xs[_]", "input.o.a", "input.n"),
    fc.constantFrom("input.xs[n]", "input.m[k][i]", "r1[v]", "data.t.r0"),
    fc.tuple(fc.constantFrom("input.xs", "input.o", "r1", "input.m"), tie("term")).map(([r, t]) => `${r}[${t}]`),
    tie("term").map((t) => `count(${t})`),
    tie("term").map((t) => `upper(${t})`),
    tie("term").map((t) => `concat(",", ${t})`),
    tie("term").map((t) => `object.get(${t}, "a", 0)`),
    tie("term").map((t) => `replace(${t}, "a", "b")`),
    fc.tuple(tie("term"), tie("term")).map(([x, y]) => `f(${x}, ${y})`),
    fc
      .tuple(fc.constantFrom("+", "-", "==", "!=", "<", "|", "&"), tie("term"), tie("term"))
      .map(([op, x, y]) => `(${x} ${op} ${y})`),
    fc.tuple(tie("term"), tie("term")).map(([x, y]) => `[${x}, ${y}]`),
    tie("term").map((t) => `{${t}}`),
    tie("term").map((t) => `{"a": ${t}}`),
    tie("term").map((t) => `[w | some w in ${t}]`),
    fc.tuple(tie("term"), tie("term")).map(([x, y]) => `(${x} in ${y})`),
  ),
  lit: fc.oneof(
    fc.tuple(fc.constantFrom("i", "v", "k"), tie("term")).map(([x, t]) => `${x} := ${t}`),
    fc.tuple(fc.constantFrom("i", "v", "k"), tie("term")).map(([x, t]) => `${x} = ${t}`),
    tie("term"),
    tie("term").map((t) => `not ${t}`),
    fc.tuple(tie("term"), tie("term")).map(([x, y]) => `${x} == ${y}`),
    tie("term").map((t) => `some v in ${t}`),
    tie("term").map((t) => `some k, v in ${t}`),
    fc.constant("some i"),
    fc.tuple(tie("term"), tie("term")).map(([x, y]) => `every v in ${x} { ${y} }`),
    tie("term").map((t) => `print(${t})`),
  ),
}));

const body = fc.array(gen.lit, { minLength: 1, maxLength: 4 }).map((ls) => ls.join("\n  "));

const policy = fc.tuple(gen.term, body, gen.term, body, gen.term, body, gen.term).map(
  ([v0, b0, e1, b1, fv, fb, nv]) => `package t
r0 := ${v0} if {
  ${b0}
}
r1 contains ${e1} if {
  ${b1}
}
f(a, b) := ${fv} if {
  ${fb}
}
n := ${nv}
g := f(input.n, input.xs[0])
`,
);

const input = fc.record({
  xs: fc.array(fc.constantFrom(0, 1, 2, "a", "b", true), { maxLength: 4 }),
  o: fc.dictionary(fc.constantFrom("a", "b", "c"), fc.constantFrom(0, 1, "a", "b", null), { maxKeys: 3 }),
  m: fc.dictionary(fc.constantFrom("a", "b"), fc.array(fc.constantFrom(0, 1, "a"), { maxLength: 3 }), { maxKeys: 2 }),
  n: fc.constantFrom(0, 1, 2, "a"),
});

function outcome(
  compiled: ReturnType<typeof compileModules>,
  json: unknown,
  strict: boolean,
  reference: boolean,
): unknown {
  const out: Record<string, unknown> = {};
  // Rule by rule, each in a fresh evaluation, so that one failing rule leaves the others.
  for (const rule of ["r0", "r1", "n", "g"]) {
    const lines: string[] = [];
    try {
      const ev = new Evaluator(compiled, {
        input: fromJson(json),
        strict,
        reference,
        maxSteps: 20_000,
        print: (line) => lines.push(line),
      });
      const v = ev.dataValue(["t", rule]);
      out[rule] = { value: v === undefined ? "<undefined>" : toJson(v), lines };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      out[rule] = { error: err.code ?? String(e), message: err.message, lines };
    }
  }
  return out;
}

describe("shortcuts against reference evaluation (fuzz)", () => {
  it("gives the same values, errors and print output on random policies", () => {
    fc.assert(
      fc.property(
        policy,
        input,
        fc.nat(3).map((n) => n === 0),
        (src, json, strict) => {
          let compiled: ReturnType<typeof compileModules>;
          try {
            compiled = compileModules([parseModule(src, { file: "p.rego" })]);
          } catch {
            return; // generated text that does not parse or compile: nothing to compare
          }
          expect(outcome(compiled, json, strict, false)).toEqual(outcome(compiled, json, strict, true));
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
