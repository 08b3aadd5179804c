import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Module, Term } from "../src/ast.js";
import { Policy } from "../src/engine.js";
import { RegoError } from "../src/errors.js";
import { parseModule } from "../src/parser.js";
import { printModule } from "../src/printer.js";
import { FUZZ_RUNS } from "./fixtures.js";

// Strips locations so two parses of equivalent text compare equal.
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== "loc" && k !== "file" && k !== "raw") out[k] = shape(x);
    return out;
  }
  return v;
}

const ident = fc.constantFrom("a", "b", "x", "y", "foo", "bar_1", "p", "q");
const scalar = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map((n): Term => scalarTerm(n)),
  fc.string({ maxLength: 8 }).map((s): Term => scalarTerm(s)),
  fc.constantFrom(true, false, null).map((b): Term => scalarTerm(b)),
);
const loc = { file: "p.rego", line: 1, column: 1 };
function scalarTerm(value: null | boolean | number | string): Term {
  return { t: "scalar", value, loc };
}

const term: fc.Arbitrary<Term> = fc.letrec<{ term: Term }>((tie) => ({
  term: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    ident.map((name): Term => ({ t: "var", name, loc })),
    fc.array(tie("term"), { maxLength: 3 }).map((items): Term => ({ t: "array", items, loc })),
    fc
      .array(fc.tuple(fc.string({ maxLength: 4 }).map(scalarTerm), tie("term")), { maxLength: 3 })
      .map((entries): Term => ({ t: "object", entries, loc })),
    fc
      .tuple(fc.constantFrom("+", "-", "*", "==", "<", "|", "&") as fc.Arbitrary<"+">, tie("term"), tie("term"))
      .map(([op, left, right]): Term => ({ t: "binop", op, left, right, loc })),
    fc.tuple(ident, fc.array(tie("term"), { maxLength: 2 })).map(
      ([name, path]): Term => ({
        t: "ref",
        head: { t: "var", name: "input", loc },
        path: [scalarTerm(name), ...path],
        loc,
      }),
    ),
    fc
      .tuple(fc.constantFrom("count", "concat", "object.get"), fc.array(tie("term"), { maxLength: 3 }))
      .map(([fn, args]): Term => ({ t: "call", fn: fn.split("."), args, loc })),
  ),
})).term;

const module: fc.Arbitrary<Module> = fc
  .array(fc.tuple(ident, term, fc.array(term, { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 4 })
  .map((rules) => ({
    file: "p.rego",
    package: ["test"],
    imports: [],
    v1: false,
    loc,
    rules: rules.map(([name, value, body]) => ({
      default: false,
      head: { name, path: [], args: undefined, contains: undefined, value, assign: "=" as const, loc },
      body: body.map((expr) => ({ kind: "expr" as const, negated: false, expr, with: [], loc })),
      usesIf: false,
      else: undefined,
      loc,
    })),
  }));

describe("printer and parser (property)", () => {
  it("parse(print(ast)) has the same shape as ast", () => {
    fc.assert(
      fc.property(module, (m) => {
        const text = printModule(m);
        const again = parseModule(text, { file: "p.rego" });
        expect(shape(again.rules)).toEqual(shape(m.rules));
        expect(printModule(again)).toBe(text);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("evaluation on random input (fuzz)", () => {
  const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4 });

  it("never throws anything but a RegoError", () => {
    fc.assert(
      fc.property(module, json, (m, input) => {
        let policy: Policy;
        try {
          policy = Policy.compile(printModule(m));
        } catch (e) {
          expect(e).toBeInstanceOf(RegoError);
          return;
        }
        for (const strict of [true, false]) {
          try {
            policy.query("data.test", { input, strict });
          } catch (e) {
            expect(e, String(e)).toBeInstanceOf(RegoError);
          }
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("parses random text into a module or a RegoParseError with a line and column", () => {
    const alphabet = fc.constantFrom(
      ...'package test\nx := {}[]()"`.,;:=+-*/|&<>!#0123456789 abc if else some in not with as every contains default import'.split(
        "",
      ),
    );
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 80 }), (tail) => {
        try {
          parseModule(`package test\n${tail}`);
        } catch (e) {
          expect(e).toBeInstanceOf(RegoError);
          expect((e as RegoError).location?.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
