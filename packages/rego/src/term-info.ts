import type { Query, Term } from "./ast.js";
import type { ModuleScope } from "./compiler.js";
import type { Layout } from "./frame.js";

/**
 * What the evaluator learns about a term once and reuses in every evaluation. It lives on the AST
 * node under a symbol: a WeakMap lookup for each evaluated term would cost about as much as the
 * work it saves.
 */
export interface TermInfo {
  /**
   * The term has at most one value whenever every variable of `segVars` is bound (or names a
   * rule, input or data): it has no `_` or pattern segment and no nested `=` or `:=`. Such a term
   * is evaluated to its value directly instead of through a continuation per value.
   */
  readonly direct: boolean;
  /** Variables used as ref segments (outside comprehension bodies): unbound, they enumerate. */
  readonly segVars: readonly string[];
  /** A call's resolved function, for the module scope it was resolved in (no mocks active). */
  call: { readonly scope: ModuleScope; readonly fn: unknown } | undefined;
  /** A var's (or a ref head's) resolution to a document under data, for one module scope. */
  global: { readonly scope: ModuleScope; readonly path: unknown } | undefined;
  /** A var's slot index in `layout` (see frame.ts). */
  layout: Layout | undefined;
  slot: number;
}

const INFO: unique symbol = Symbol("rego.termInfo");

type Annotated = { [INFO]?: TermInfo };

const NO_VARS: readonly string[] = [];

/**
 * termInfo for var and call terms. The parser builds each of these kinds with one object shape, so
 * these separate functions keep their property loads monomorphic (termInfo sees every kind).
 */
export function varInfo(t: Extract<Term, { t: "var" }>): TermInfo {
  return (t as Annotated)[INFO] ?? termInfo(t);
}

export function callInfo(t: Extract<Term, { t: "call" }>): TermInfo {
  return (t as Annotated)[INFO] ?? termInfo(t);
}

/** The term's info, computed on first use. */
export function termInfo(t: Term): TermInfo {
  const hit = (t as Annotated)[INFO] ?? frozenInfo.get(t);
  if (hit !== undefined) return hit;
  const info = analyse(t);
  if (Object.isExtensible(t)) {
    Object.defineProperty(t, INFO, { value: info, enumerable: false, writable: false, configurable: false });
  } else frozenInfo.set(t, info);
  return info;
}

/** Infos of terms that a caller froze (Policy.modules is public): slower, still correct. */
const frozenInfo = new WeakMap<Term, TermInfo>();

function make(direct: boolean, segVars: readonly string[]): TermInfo {
  return {
    direct,
    segVars: segVars.length === 0 ? NO_VARS : segVars,
    call: undefined,
    global: undefined,
    layout: undefined,
    slot: -1,
  };
}

/** Merges children's infos: direct when all are. */
function combine(children: readonly Term[], extra: readonly string[] = NO_VARS): TermInfo {
  let direct = true;
  const vars: string[] = [...extra];
  for (const c of children) {
    const i = termInfo(c);
    if (!i.direct) direct = false;
    for (const v of i.segVars) if (!vars.includes(v)) vars.push(v);
  }
  return make(direct, direct ? vars : NO_VARS);
}

function analyse(t: Term): TermInfo {
  switch (t.t) {
    case "scalar":
    case "var":
    case "arraycompr":
    case "setcompr":
    case "objectcompr":
      // An unbound var is an error, not an enumeration; a comprehension has exactly one value.
      return make(true, NO_VARS);
    case "ref": {
      const vars: string[] = [];
      const children: Term[] = [t.head];
      for (const seg of t.path) {
        if (seg.t === "scalar") continue;
        if (seg.t === "var") {
          if (seg.name === "_") return make(false, NO_VARS);
          if (!vars.includes(seg.name)) vars.push(seg.name);
          continue;
        }
        // An array or object segment is a pattern when it has variables: it enumerates.
        if (seg.t === "array" || seg.t === "object") return make(false, NO_VARS);
        children.push(seg);
      }
      return combine(children, vars);
    }
    case "call":
      // walk(x) has one value per sub-document of x.
      if (t.fn.length === 1 && t.fn[0] === "walk" && t.args.length === 1) return make(false, NO_VARS);
      return combine(t.args);
    case "array":
    case "set":
      return combine(t.items);
    case "object":
      return combine(t.entries.flat());
    case "binop":
      return combine([t.left, t.right]);
    case "neg":
      return combine([t.term]);
    case "in":
      return combine(t.key === undefined ? [t.value, t.coll] : [t.key, t.value, t.coll]);
    case "assign":
    case "unify":
      return make(false, NO_VARS);
  }
}

/**
 * How evalQuery runs a literal, decided once per literal (and module scope):
 * - "print": holds and binds nothing; its arguments are evaluated only with a print option;
 * - "assign": `x := term`, binds one variable;
 * - "test": a term whose value is tested: holds when defined and not false (`not`: the opposite);
 * - "other": the general path (evalLiteral with a continuation).
 */
export type LiteralKind = "print" | "assign" | "test" | "other";

export interface LiteralPlan {
  readonly kind: LiteralKind;
  /** Assign: the variable. */
  readonly target: Extract<Term, { t: "var" }> | undefined;
  /** Assign: the right-hand side; Test: the expression; Print: the call. */
  readonly term: Term | undefined;
  readonly info: TermInfo | undefined;
  readonly negated: boolean;
  /**
   * A negated literal's local variables that later literals of its query also use: while one of
   * them is unbound, the literal waits until the rest of the query has run (OPA's safety order).
   */
  readonly defer: readonly Extract<Term, { t: "var" }>[] | undefined;
}

const PLANS: unique symbol = Symbol("rego.literalPlans");

/** A query's literal plans, by literal index, filled as literals are first reached. */
export interface QueryPlans {
  readonly scope: ModuleScope;
  readonly plans: (LiteralPlan | undefined)[];
}

type Planned = { [PLANS]?: QueryPlans };

const frozenPlans = new WeakMap<Query, QueryPlans>();

/**
 * The plans of a query's literals for one module scope. They hang off the query (one load per
 * evalQuery call, on arrays of one shape) rather than off each literal.
 */
export function queryPlans(q: Query, scope: ModuleScope): QueryPlans {
  const hit = (q as Planned)[PLANS] ?? frozenPlans.get(q);
  if (hit !== undefined && hit.scope === scope) return hit;
  const plans: QueryPlans = { scope, plans: new Array<LiteralPlan | undefined>(q.length).fill(undefined) };
  if (Object.isExtensible(q)) {
    Object.defineProperty(q, PLANS, { value: plans, enumerable: false, writable: true, configurable: false });
  } else frozenPlans.set(q, plans);
  return plans;
}
