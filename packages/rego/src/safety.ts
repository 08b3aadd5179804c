import type { Literal, Module, Query, Rule, Term, WithModifier } from "./ast.js";
import { type Location, RegoError } from "./errors.js";

/**
 * Compile-time checks of local variable declarations, as OPA and regorus make them. Within one
 * query (a rule body, an else body, a comprehension body), a variable that `:=`, `some` or
 * `some .. in` declares must not have been used above in that query as a local, nor be declared
 * there already by `:=` or `some .. in` (function parameters count as declared in the function's
 * bodies; a bare `some x` may be followed by `x := ...`). Nested queries (comprehensions, `every` bodies) are scopes of their own and may shadow.
 *
 * A literal `some` pattern that no element of a literal collection can match (arrays of other
 * lengths) is an error too, as in regorus.
 */
export function checkModuleVars(m: Module, globals: ReadonlySet<string>): void {
  const isGlobal = (name: string): boolean =>
    name === "_" || name === "input" || name === "data" || globals.has(name) || importAliases(m).has(name);
  for (const rule of m.rules) checkRule(rule, isGlobal);
}

const aliasCache = new WeakMap<Module, Set<string>>();

function importAliases(m: Module): Set<string> {
  let s = aliasCache.get(m);
  if (s === undefined) {
    s = new Set();
    for (const imp of m.imports) {
      const root = imp.path[0];
      if (root !== "data" && root !== "input") continue;
      s.add(imp.alias ?? (imp.path[imp.path.length - 1] as string));
    }
    aliasCache.set(m, s);
  }
  return s;
}

function checkRule(rule: Rule, isGlobal: (name: string) => boolean): void {
  const h = rule.head;
  const params = new Map<string, Location>();
  for (const a of h.args ?? []) for (const v of patternVarTerms(a)) if (!params.has(v.name)) params.set(v.name, v.loc);
  // Comprehensions in the head are queries of their own.
  for (const t of [...h.path, ...(h.args ?? []), h.contains, h.value]) if (t !== undefined) nestedQueries(t, isGlobal);
  if (rule.body !== undefined) new QueryScope(isGlobal, params).query(rule.body);
  for (let e = rule.else; e !== undefined; e = e.else) {
    if (e.value !== undefined) nestedQueries(e.value, isGlobal);
    new QueryScope(isGlobal, params).query(e.body);
  }
}

/** Checks the queries nested in a term (comprehension bodies) without tracking its variables. */
function nestedQueries(t: Term, isGlobal: (name: string) => boolean): void {
  new QueryScope(isGlobal, new Map()).uses(t, new Map());
}

class QueryScope {
  /** Declared variables of this query, with where they were declared. */
  private readonly declared: Map<string, Location>;
  /** Local (non-global) variables used so far, with their first use. */
  private readonly used = new Map<string, Location>();

  constructor(
    private readonly isGlobal: (name: string) => boolean,
    declared: ReadonlyMap<string, Location>,
  ) {
    this.declared = new Map(declared);
  }

  query(q: Query): void {
    for (const lit of q) this.literal(lit);
  }

  private literal(lit: Literal): void {
    const seen = new Map<string, Location>();
    switch (lit.kind) {
      case "some":
        // `some x` only introduces the name: a later `x := ...` still binds it (as in regorus).
        for (const name of lit.vars) this.declare(name, lit.loc, false);
        return;
      case "somein": {
        this.uses(lit.coll, seen);
        this.withs(lit.with, seen);
        checkLiteralCollection(lit.value, lit.coll);
        for (const p of lit.key === undefined ? [lit.value] : [lit.key, lit.value]) {
          for (const v of patternVarTerms(p)) this.declare(v.name, v.loc);
          this.uses(p, seen, true);
        }
        break;
      }
      case "every":
        this.uses(lit.coll, seen);
        this.withs(lit.with, seen);
        new QueryScope(this.isGlobal, new Map()).query(lit.body);
        break;
      case "expr": {
        const e = lit.expr;
        this.withs(lit.with, seen);
        if (e.t === "assign") {
          this.uses(e.right, seen);
          for (const v of patternVarTerms(e.left)) this.declare(v.name, v.loc);
          this.uses(e.left, seen, true);
        } else this.uses(e, seen);
        break;
      }
    }
    for (const [name, loc] of seen) if (!this.used.has(name)) this.used.set(name, loc);
  }

  private withs(ws: readonly WithModifier[], seen: Map<string, Location>): void {
    for (const w of ws) this.uses(w.value, seen);
  }

  private declare(name: string, loc: Location, record = true): void {
    if (name === "_") return;
    const before = this.declared.get(name) ?? this.used.get(name);
    if (before !== undefined) {
      throw new RegoError(
        "REGO_COMPILE_ERROR",
        `var \`${name}\` used before definition below (at ${loc.file}:${loc.line}:${loc.column})`,
        before,
      );
    }
    if (record) this.declared.set(name, loc);
  }

  /**
   * Records the local variables a term uses in `seen`; checks the comprehensions inside it as
   * queries of their own. Pattern variables just declared are recorded too (`pattern`).
   */
  uses(t: Term, seen: Map<string, Location>, pattern = false): void {
    switch (t.t) {
      case "scalar":
        return;
      case "var":
        if (!this.isGlobal(t.name) || (pattern && t.name !== "_") || this.declared.has(t.name)) {
          if (t.name !== "_" && !seen.has(t.name)) seen.set(t.name, t.loc);
        }
        return;
      case "ref":
        this.uses(t.head, seen);
        for (const p of t.path) this.uses(p, seen);
        return;
      case "call":
        for (const a of t.args) this.uses(a, seen);
        return;
      case "array":
      case "set":
        for (const a of t.items) this.uses(a, seen, pattern);
        return;
      case "object":
        for (const [k, v] of t.entries) {
          this.uses(k, seen);
          this.uses(v, seen, pattern);
        }
        return;
      case "arraycompr":
      case "setcompr":
      case "objectcompr":
        new QueryScope(this.isGlobal, new Map()).query(t.body);
        return;
      case "binop":
      case "assign":
      case "unify":
        this.uses(t.left, seen);
        this.uses(t.right, seen);
        return;
      case "neg":
        this.uses(t.term, seen);
        return;
      case "in":
        if (t.key !== undefined) this.uses(t.key, seen);
        this.uses(t.value, seen);
        this.uses(t.coll, seen);
        return;
    }
  }
}

/** The variable terms a pattern binds (object values, array items), `_` excluded. */
function patternVarTerms(t: Term): Extract<Term, { t: "var" }>[] {
  switch (t.t) {
    case "var":
      return t.name === "_" ? [] : [t];
    case "array":
      return t.items.flatMap(patternVarTerms);
    case "object":
      return t.entries.flatMap(([, v]) => patternVarTerms(v));
    default:
      return [];
  }
}

/** `some [a, b] in [[1, 2, 3]]`: an array pattern that no literal element can match. */
function checkLiteralCollection(pattern: Term, coll: Term): void {
  if (pattern.t !== "array" || (coll.t !== "array" && coll.t !== "set") || coll.items.length === 0) return;
  for (const item of coll.items) if (item.t !== "array" || item.items.length === pattern.items.length) return;
  const first = coll.items[0] as Extract<Term, { t: "array" }>;
  throw new RegoError(
    "REGO_TYPE_ERROR",
    `mismatch in number of array elements: pattern has ${pattern.items.length}, value has ${first.items.length}`,
    pattern.loc,
  );
}

/** The rule names of each package: variables with these names refer to rules, not locals. */
export function packageGlobals(modules: readonly Module[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of modules) {
    const key = m.package.join("\u0000");
    let s = out.get(key);
    if (s === undefined) {
      s = new Set();
      out.set(key, s);
    }
    for (const r of m.rules) s.add(r.head.name);
  }
  return out;
}
