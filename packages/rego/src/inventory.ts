import type { Literal, Module, Query, Rule, Term } from "./ast.js";
import { packageNames } from "./dialect.js";

/**
 * A language construct a module uses, named for what Rego's documentation calls it. The list is
 * what `regoInventory` can tell apart; docs/rego.md ("Dialects") says which regorus supports.
 */
export type RegoLanguageFeature =
  | "import future.keywords"
  | "import rego.v1"
  | "import data"
  | "keyword if"
  | "keyword in (membership)"
  | "some ... in"
  | "some (declaration)"
  | "every"
  | "default rule"
  | "default function"
  | "complete rule"
  | "partial set rule"
  | "partial object rule"
  | "ref head (a.b := x)"
  | "function"
  | "function with several definitions"
  | "else"
  | "with"
  | "not"
  | "array comprehension"
  | "set comprehension"
  | "object comprehension"
  | "set literal"
  | "raw string"
  | "output argument (f(x, y))"
  | "unification (=)"
  | "assignment (:=)"
  | "arithmetic"
  | "set operators (| & -)"
  | "comparison";

/** What a set of modules uses: built-ins (by name, with their call counts) and constructs. */
export interface RegoInventory {
  readonly builtins: ReadonlyMap<string, number>;
  readonly features: ReadonlySet<RegoLanguageFeature>;
}

/**
 * Lists the built-in calls and language constructs of modules, so that a policy's needs can be
 * compared with what an engine offers. A call counts as a built-in when the modules do not define
 * it (same resolution as checkDialect).
 */
export function regoInventory(modules: readonly Module[]): RegoInventory {
  const builtins = new Map<string, number>();
  const features = new Set<RegoLanguageFeature>();
  const names = packageNames(modules);
  for (const m of modules) {
    const functions = names.get(m.package.join("."))?.functions ?? new Set<string>();
    const aliases = new Set<string>();
    for (const imp of m.imports) {
      if (imp.path[0] === "future") features.add("import future.keywords");
      else if (imp.path[0] === "rego") features.add("import rego.v1");
      else {
        features.add("import data");
        aliases.add(imp.alias ?? (imp.path[imp.path.length - 1] as string));
      }
    }
    // Resolved as checkDialect (and the evaluator) resolve calls.
    const isUser = (fn: readonly string[]): boolean =>
      fn[0] === "data" || aliases.has(fn[0] as string) || functions.has(fn.join("."));

    const term = (t: Term, top = false): void => {
      switch (t.t) {
        case "scalar":
          if (t.raw === true) features.add("raw string");
          return;
        case "var":
          return;
        case "ref":
          term(t.head);
          for (const p of t.path) term(p);
          return;
        case "call": {
          if (!isUser(t.fn)) {
            const name = t.fn.join(".");
            builtins.set(name, (builtins.get(name) ?? 0) + 1);
          }
          // An expression's own call with one argument more than the function takes is a
          // call with an output argument; without the arity table only user functions tell.
          if (top && isUser(t.fn)) {
            const arity = functionArity(modules, m, t.fn);
            if (arity !== undefined && t.args.length === arity + 1) features.add("output argument (f(x, y))");
          }
          for (const a of t.args) term(a);
          return;
        }
        case "array":
          for (const i of t.items) term(i);
          return;
        case "set":
          features.add("set literal");
          for (const i of t.items) term(i);
          return;
        case "object":
          for (const [k, v] of t.entries) {
            term(k);
            term(v);
          }
          return;
        case "arraycompr":
        case "setcompr":
          features.add(t.t === "arraycompr" ? "array comprehension" : "set comprehension");
          term(t.term);
          query(t.body);
          return;
        case "objectcompr":
          features.add("object comprehension");
          term(t.key);
          term(t.value);
          query(t.body);
          return;
        case "binop":
          if (t.op === "|" || t.op === "&" || t.op === "-") features.add("set operators (| & -)");
          if (t.op === "+" || t.op === "-" || t.op === "*" || t.op === "/" || t.op === "%") features.add("arithmetic");
          if (["==", "!=", "<", "<=", ">", ">="].includes(t.op)) features.add("comparison");
          term(t.left);
          term(t.right);
          return;
        case "neg":
          features.add("arithmetic");
          term(t.term);
          return;
        case "in":
          features.add("keyword in (membership)");
          if (t.key !== undefined) term(t.key);
          term(t.value);
          term(t.coll);
          return;
        case "assign":
        case "unify":
          features.add(t.t === "assign" ? "assignment (:=)" : "unification (=)");
          term(t.left);
          term(t.right);
          return;
      }
    };
    const literal = (lit: Literal): void => {
      if (lit.kind !== "some" && lit.with.length > 0) {
        features.add("with");
        for (const w of lit.with) {
          term(w.target);
          term(w.value);
        }
      }
      switch (lit.kind) {
        case "some":
          features.add("some (declaration)");
          return;
        case "expr":
          if (lit.negated) features.add("not");
          term(lit.expr, true);
          return;
        case "somein":
          features.add("some ... in");
          if (lit.key !== undefined) term(lit.key);
          term(lit.value);
          term(lit.coll);
          return;
        case "every":
          features.add("every");
          if (lit.key !== undefined) term(lit.key);
          term(lit.value);
          term(lit.coll);
          query(lit.body);
          return;
      }
    };
    const query = (q: Query): void => {
      for (const lit of q) literal(lit);
    };
    const rule = (r: Rule): void => {
      const h = r.head;
      if (h.path.length > 0 && h.contains === undefined && h.path.every((p) => p.t === "scalar")) {
        features.add("ref head (a.b := x)");
      }
      if (r.default) features.add(h.args === undefined ? "default rule" : "default function");
      else if (h.args !== undefined) features.add("function");
      else if (h.contains !== undefined) features.add("partial set rule");
      else if (h.path.some((p) => p.t !== "scalar")) features.add("partial object rule");
      else features.add("complete rule");
      if (h.assign === ":=") features.add("assignment (:=)");
      if (r.usesIf) features.add("keyword if");
      for (const t of h.path) term(t);
      for (const t of h.args ?? []) term(t);
      if (h.contains !== undefined) term(h.contains);
      if (h.value !== undefined) term(h.value);
      if (r.body !== undefined) query(r.body);
      for (let e = r.else; e !== undefined; e = e.else) {
        features.add("else");
        if (e.usesIf === true) features.add("keyword if");
        if (e.value !== undefined) term(e.value);
        query(e.body);
      }
    };
    const fnDefs = new Map<string, number>();
    for (const r of m.rules) {
      rule(r);
      if (r.head.args !== undefined && !r.default) fnDefs.set(r.head.name, (fnDefs.get(r.head.name) ?? 0) + 1);
    }
    if ([...fnDefs.values()].some((n) => n > 1)) features.add("function with several definitions");
  }
  return { builtins, features };
}

/** The arity of a function the modules define under the call's name in module m's package. */
function functionArity(modules: readonly Module[], m: Module, fn: readonly string[]): number | undefined {
  if (fn.length !== 1) return undefined;
  for (const other of modules) {
    if (other.package.join(".") !== m.package.join(".")) continue;
    for (const r of other.rules) if (r.head.name === fn[0] && r.head.args !== undefined) return r.head.args.length;
  }
  return undefined;
}
