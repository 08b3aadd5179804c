// Runs one OPA conformance case and judges it as OPA's topdown runner (topdown/exported_test.go)
// does: modules named test-<i>.rego, built-in errors non-strict unless `strict_error`, the
// expected error text as a substring of the error, the error code compared by OPA's name, and
// results compared as sets of binding objects after a round trip through JSON (sets become
// sorted arrays; with `sort_bindings` every binding is an array whose order does not count).
import { Policy } from "../../src/engine.js";
import { BuiltinError, RegoError } from "../../src/errors.js";
import { compare, fromJson, ObjectBuilder, RSet, toJson, type Value } from "../../src/values.js";
import type { OpaCase } from "./cases.js";

/** OPA's error code for each of ours (topdown's codes for evaluation, the compiler's otherwise). */
export const OPA_ERROR_CODES: Readonly<Record<string, string>> = {
  REGO_BUILTIN_ERROR: "eval_builtin_error",
  REGO_TYPE_ERROR: "eval_type_error",
  REGO_CONFLICT: "eval_conflict_error",
  REGO_PARSE_ERROR: "rego_parse_error",
  REGO_COMPILE_ERROR: "rego_compile_error",
  REGO_RECURSION: "rego_recursion_error",
  REGO_UNKNOWN_FUNCTION: "rego_type_error",
  REGO_LIMIT_EXCEEDED: "eval_cancel_error",
};

/** time.now_ns for every case: a fixed instant (2026-01-01T00:00:00Z), so runs are repeatable. */
export const CONFORMANCE_NOW_NS = 1_767_225_600_000_000_000;
/** A runaway case fails with REGO_LIMIT_EXCEEDED instead of holding up the suite. */
const MAX_STEPS = 2_000_000;

export interface Verdict {
  readonly ok: boolean;
  /** Why it failed, or "ok". */
  readonly message: string;
}

function errorOf(e: unknown): { code: string; text: string } {
  if (e instanceof RegoError) {
    // A built-in knows whether OPA would call its failure a type error or a built-in error.
    const opa = e instanceof BuiltinError ? e.opaCode : (OPA_ERROR_CODES[e.code] ?? e.code);
    const loc = e.location;
    const where = loc === undefined ? "" : `${loc.file}:${loc.line}:${loc.column}: `;
    const bare = where !== "" && e.message.startsWith(where) ? e.message.slice(where.length) : e.message;
    // OPA's Error() is "<file>:<line>: <code>: <message>"; either form may be what a case quotes.
    const text = `${loc === undefined ? "" : `${loc.file}:${loc.line}: `}${opa}: ${bare}\n${e.message}`;
    return { code: opa, text };
  }
  return { code: "internal", text: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

/** A Rego value as OPA's runner sees it after ast.JSON: sets sorted into arrays, keys as text. */
function asOpaJson(v: Value, sortArray: boolean): Value {
  const j = fromJson(toJson(v));
  return sortArray && Array.isArray(j) ? [...(j as Value[])].sort(compare) : j;
}

function inputOf(c: OpaCase): Value | undefined {
  if (c.input_term !== undefined) {
    const rs = Policy.compile([]).queryValues(`opa_input_term := ${c.input_term}`);
    return rs[0]?.bindings.opa_input_term;
  }
  return c.input === undefined ? undefined : fromJson(c.input);
}

function describe(v: Value): string {
  return JSON.stringify(toJson(v));
}

/** Runs a case; never throws. */
export function judgeCase(c: OpaCase): Verdict {
  const wantsError = c.want_error !== undefined || c.want_error_code !== undefined;
  let got: RSet;
  try {
    const policy = Policy.compile(
      c.modules.map((source, i) => ({ file: `test-${i}.rego`, source })),
      // `data:` with nothing after it is null in YAML; OPA's runner then starts from empty data.
      { v1: c.version === "v1", ...(c.data === undefined || c.data === null ? {} : { data: c.data }) },
    );
    const input = inputOf(c);
    const results = policy.queryValues(c.query, {
      ...(input === undefined ? {} : { input }),
      strict: c.strict_error === true,
      nowNs: CONFORMANCE_NOW_NS,
      maxSteps: MAX_STEPS,
    });
    const rows: Value[] = [];
    for (const r of results) {
      // A query of one plain expression reports false values too; OPA has no solution then.
      if (r.expressions.length === 1 && r.expressions[0] === false && Object.keys(r.bindings).length === 0) continue;
      const b = new ObjectBuilder();
      for (const [k, v] of Object.entries(r.bindings)) {
        if (c.ignore_generated_vars === true && k.startsWith("__localq")) continue;
        b.set(k, asOpaJson(v, c.sort_bindings === true));
      }
      rows.push(b.build());
    }
    got = RSet.from(rows);
  } catch (e) {
    const err = errorOf(e);
    if (!wantsError) return { ok: false, message: `unexpected error: ${err.text.split("\n")[0]}` };
    if (c.want_error !== undefined && !err.text.includes(c.want_error)) {
      return {
        ok: false,
        message: `error text ${JSON.stringify(err.text.split("\n")[0])} lacks ${JSON.stringify(c.want_error)}`,
      };
    }
    if (c.want_error_code !== undefined && err.code !== c.want_error_code) {
      return {
        ok: false,
        message: `error code ${err.code} (${err.text.split("\n")[0]}), expected ${c.want_error_code}`,
      };
    }
    return { ok: true, message: "ok" };
  }
  if (wantsError) {
    return {
      ok: false,
      message: `expected error ${c.want_error_code ?? ""} ${JSON.stringify(c.want_error ?? "")}, got ${describe(got)}`,
    };
  }
  if (c.want_result === undefined) return { ok: false, message: "case has no expectation" };
  const want = RSet.from(c.want_result.map((b) => fromJson(b)));
  if (compare(want, got) !== 0) return { ok: false, message: `want ${describe(want)}, got ${describe(got)}` };
  return { ok: true, message: "ok" };
}
