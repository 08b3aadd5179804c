import type { Literal, Module, Query, Rule, Term, WithModifier } from "./ast.js";
import { REGORUS_0_2_8_BUILTINS, type RegorusFeature } from "./dialect-regorus.js";
import { type Location, RegoError } from "./errors.js";
import type { RegoDialectFindingCode } from "./finding-codes.js";

/**
 * A Rego dialect: what another engine accepts, so that a policy written for it can be checked
 * before it is shipped. Our engine accepts more than regorus 0.2.8 (more built-ins; `if`, `in`
 * and `every` without imports in v0 modules); a policy that only our engine can evaluate is a
 * policy the Kata agent fails on.
 */
export interface RegoDialect {
  readonly id: RegoDialectId;
  /** What it models, for messages: engine, version, features, and which agent uses it. */
  readonly description: string;
  /** Built-in name -> arity. `print` is always there (any number of arguments). */
  readonly builtins: ReadonlyMap<string, number>;
  /** The regorus features compiled in. */
  readonly features: readonly string[];
}

/**
 * The dialects of the agents Contrast v1.5 ships: regorus 0.2.8 as Kata 3.13.0/3.14.0 build it
 * (features arc, regex, std) and as Microsoft's fork 3.2.0.azl4/azl5 builds it (also base64 and
 * base64url). Sources: src/dialect-regorus.ts.
 */
export type RegoDialectId = "regorus-0.2.8-kata" | "regorus-0.2.8-microsoft";

/** The finding kinds, each a stable code (RegoDialectFinding.code), registered in finding-codes.ts. */
export type { RegoDialectFindingCode };

export interface RegoDialectFinding {
  readonly code: RegoDialectFindingCode;
  /** The built-in or keyword. */
  readonly name: string;
  readonly message: string;
  readonly location: Location;
}

function regorusDialect(id: RegoDialectId, features: readonly RegorusFeature[], usedBy: string): RegoDialect {
  const on = new Set<string>(features);
  const builtins = new Map<string, number>();
  for (const [name, arity, feature] of REGORUS_0_2_8_BUILTINS) {
    const needs = feature === null ? [] : feature.split("+");
    if (needs.every((f) => on.has(f))) builtins.set(name, arity);
  }
  const all = ["arc", ...features].sort();
  return Object.freeze({
    id,
    description: `regorus 0.2.8 with features ${all.join(", ")} (${usedBy})`,
    builtins,
    features: all,
  });
}

const DIALECTS: Readonly<Record<RegoDialectId, RegoDialect>> = {
  "regorus-0.2.8-kata": regorusDialect(
    "regorus-0.2.8-kata",
    ["regex", "std"],
    "the Kata agent of Kata 3.13.0 and 3.14.0",
  ),
  "regorus-0.2.8-microsoft": regorusDialect(
    "regorus-0.2.8-microsoft",
    ["base64", "base64url", "regex", "std"],
    "the Kata agent of microsoft/kata-containers 3.2.0.azl4 and 3.2.0.azl5",
  ),
};

/** Every dialect id, for option parsing and messages. */
export const REGO_DIALECT_IDS: readonly RegoDialectId[] = Object.freeze(Object.keys(DIALECTS) as RegoDialectId[]);

/** A dialect by id. */
export function regoDialect(id: string): RegoDialect {
  const d = (DIALECTS as Record<string, RegoDialect | undefined>)[id];
  if (d === undefined) {
    throw new RegoError("REGO_DIALECT_UNKNOWN", `no Rego dialect ${JSON.stringify(id)}`, undefined, {
      details: { dialect: id },
    });
  }
  return d;
}

const KEYWORDS = ["if", "in", "every"] as const;
type Keyword = (typeof KEYWORDS)[number];

/** Keywords a v0 module may use, as regorus 0.2.8's parser enables them from its imports. */
function importedKeywords(m: Module): ReadonlySet<Keyword> {
  if (m.v1) return new Set(KEYWORDS);
  const on = new Set<Keyword>();
  for (const imp of m.imports) {
    if (imp.path[0] !== "future" || imp.path[1] !== "keywords") continue;
    const kw = imp.path[2];
    if (kw === undefined) for (const k of KEYWORDS) on.add(k);
    else if (kw === "if" || kw === "in" || kw === "every") on.add(kw);
    // regorus (as OPA) turns `in` on with `every` in v0 modules.
    if (kw === "every") on.add("in");
  }
  return on;
}

/** Per package: the first names of what it defines (rules, sub-packages) and its functions' names. */
export interface PackageNames {
  readonly first: Set<string>;
  readonly functions: Set<string>;
}

export function packageNames(modules: readonly Module[]): ReadonlyMap<string, PackageNames> {
  const out = new Map<string, PackageNames>();
  const at = (pkg: readonly string[]): PackageNames => {
    const key = pkg.join(".");
    let s = out.get(key);
    if (s === undefined) {
      s = { first: new Set(), functions: new Set() };
      out.set(key, s);
    }
    return s;
  };
  for (const m of modules) {
    for (const r of m.rules) {
      at(m.package).first.add(r.head.name);
      const path = r.head.path.map((p) => (p.t === "scalar" && typeof p.value === "string" ? p.value : undefined));
      if (r.head.args !== undefined && path.every((p) => p !== undefined)) {
        // Callable by its name from its package and, with the sub-package names, from each parent.
        for (let i = 0; i < m.package.length; i++) {
          at(m.package.slice(0, m.package.length - i)).functions.add(
            [...m.package.slice(m.package.length - i), r.head.name, ...path].join("."),
          );
        }
      }
    }
    for (let i = 1; i < m.package.length; i++) at(m.package.slice(0, i)).first.add(m.package[i] as string);
  }
  return out;
}

/**
 * Everything in the modules that the dialect lacks: calls of built-ins it does not have or with
 * an argument count it refuses, and keywords a v0 module uses without importing them. Calls of
 * the modules' own functions (by package, import alias or `data.`) are not built-ins and pass.
 * Findings are sorted by file, line and column; an empty list means the dialect accepts them.
 */
export function checkDialect(modules: readonly Module[], dialect: RegoDialect | RegoDialectId): RegoDialectFinding[] {
  const d = typeof dialect === "string" ? regoDialect(dialect) : dialect;
  const names = packageNames(modules);
  const findings: RegoDialectFinding[] = [];
  const none: PackageNames = { first: new Set(), functions: new Set() };
  for (const m of modules) new ModuleChecker(m, d, names.get(m.package.join(".")) ?? none, findings).run();
  findings.sort(
    (a, b) =>
      (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : 0) ||
      a.location.line - b.location.line ||
      a.location.column - b.location.column,
  );
  return findings;
}

/** checkDialect, throwing a RegoError REGO_DIALECT_UNSUPPORTED that lists every finding. */
export function assertDialect(modules: readonly Module[], dialect: RegoDialect | RegoDialectId): void {
  const d = typeof dialect === "string" ? regoDialect(dialect) : dialect;
  const findings = checkDialect(modules, d);
  if (findings.length > 0) throw dialectError(findings, d);
}

/** The error for a non-empty list of findings: the first in the message, all in details. */
export function dialectError(findings: readonly RegoDialectFinding[], dialect: RegoDialect): RegoError {
  const first = findings[0] as RegoDialectFinding;
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : "";
  return new RegoError("REGO_DIALECT_UNSUPPORTED", `${first.message}${more}`, first.location, {
    kind: "policy",
    hint: `The Kata agent evaluates policies with ${dialect.description}; rewrite the rule with what it has (docs/rego.md, "Dialects").`,
    details: {
      dialect: dialect.id,
      findings: findings.map((f) => ({
        code: f.code,
        name: f.name,
        message: f.message,
        file: f.location.file,
        line: f.location.line,
        column: f.location.column,
      })),
    },
  });
}

class ModuleChecker {
  private readonly keywords: ReadonlySet<Keyword>;
  private readonly aliases: ReadonlySet<string>;

  constructor(
    private readonly m: Module,
    private readonly d: RegoDialect,
    private readonly local: PackageNames,
    private readonly out: RegoDialectFinding[],
  ) {
    this.keywords = importedKeywords(m);
    this.aliases = new Set(
      m.imports
        .filter((i) => i.path[0] === "data" || i.path[0] === "input")
        .map((i) => i.alias ?? (i.path[i.path.length - 1] as string)),
    );
  }

  run(): void {
    // Keywords newer than the dialect (`not { }`, `and`, `or`): the import itself does not parse there.
    for (const imp of this.m.imports) {
      const kw = imp.path[2];
      if (imp.path[0] !== "future" || imp.path[1] !== "keywords" || kw === undefined) continue;
      if (kw === "not" || kw === "and" || kw === "or") {
        this.out.push({
          code: "REGO_DIALECT_KEYWORD",
          name: kw,
          message: `\`import future.keywords.${kw}\` is newer Rego than ${this.d.id} parses`,
          location: imp.loc,
        });
      }
    }
    for (const r of this.m.rules) this.rule(r);
  }

  private keyword(kw: Keyword, loc: Location): void {
    if (this.keywords.has(kw)) return;
    this.out.push({
      code: "REGO_DIALECT_KEYWORD",
      name: kw,
      message: `\`${kw}\` needs \`import future.keywords.${kw}\` (or \`import rego.v1\`) for ${this.d.id}: without it regorus reads it as a name`,
      location: loc,
    });
  }

  private rule(r: Rule): void {
    const h = r.head;
    for (const t of h.path) this.term(t);
    for (const t of h.args ?? []) this.term(t);
    if (h.contains !== undefined) this.term(h.contains);
    if (h.value !== undefined) this.term(h.value);
    if (r.usesIf) this.keyword("if", r.loc);
    if (r.body !== undefined) this.query(r.body);
    for (let e = r.else; e !== undefined; e = e.else) {
      if (e.usesIf === true) this.keyword("if", e.loc);
      if (e.value !== undefined) this.term(e.value);
      this.query(e.body);
    }
  }

  private query(q: Query): void {
    for (const lit of q) this.literal(lit);
  }

  private literal(lit: Literal): void {
    switch (lit.kind) {
      case "some":
        return;
      case "expr":
        this.term(lit.expr, true);
        break;
      case "somein":
        this.keyword("in", lit.loc);
        if (lit.key !== undefined) this.term(lit.key);
        this.term(lit.value);
        this.term(lit.coll);
        break;
      case "every":
        this.keyword("every", lit.loc);
        if (lit.key !== undefined) this.term(lit.key);
        this.term(lit.value);
        this.term(lit.coll);
        this.query(lit.body);
        break;
    }
    this.withs(lit.with);
  }

  private withs(mods: readonly WithModifier[]): void {
    for (const w of mods) {
      // `with f as g` mocks a function; regorus looks the target up among its built-ins.
      const target = refNames(w.target);
      if (target !== undefined && target[0] !== "input" && target[0] !== "data" && !this.isUser(target, false)) {
        this.builtin(target.join("."), undefined, w.target.loc);
      }
      this.term(w.value);
    }
  }

  /**
   * Whether a call names one of the modules' functions rather than a built-in: `data.…`, an import
   * alias, or a function of the module's package (a rule of another kind that shares the first
   * name does not hide a built-in, as in our evaluator). For a `with` target any rule counts.
   */
  private isUser(names: readonly string[], call = true): boolean {
    const head = names[0] as string;
    if (head === "data" || this.aliases.has(head)) return true;
    return call ? this.local.functions.has(names.join(".")) : this.local.first.has(head);
  }

  /**
   * A built-in use; `args` for a call: its argument count, and whether it may carry an output
   * argument (only an expression literal's own call may: `count(xs, n)`; a nested call returns
   * its value and must have exactly the arity).
   */
  private builtin(name: string, args: { count: number; output: boolean } | undefined, loc: Location): void {
    if (name === "print") return;
    const arity = this.d.builtins.get(name);
    if (arity === undefined) {
      this.out.push({
        code: "REGO_DIALECT_BUILTIN",
        name,
        message: `built-in ${name} is not available in ${this.d.id}`,
        location: loc,
      });
      return;
    }
    if (args !== undefined && args.count !== arity && !(args.output && args.count === arity + 1)) {
      this.out.push({
        code: "REGO_DIALECT_ARITY",
        name,
        message: `built-in ${name} takes ${arity} argument${arity === 1 ? "" : "s"} in ${this.d.id}, called with ${args.count}`,
        location: loc,
      });
    }
  }

  /** Walks a term; `top` marks an expression literal's own term (which may carry an output argument). */
  private term(t: Term, top = false): void {
    switch (t.t) {
      case "scalar":
      case "var":
        return;
      case "ref":
        this.term(t.head);
        for (const p of t.path) this.term(p);
        return;
      case "call":
        if (!this.isUser(t.fn)) this.builtin(t.fn.join("."), { count: t.args.length, output: top }, t.loc);
        for (const a of t.args) this.term(a);
        return;
      case "array":
      case "set":
        for (const i of t.items) this.term(i);
        return;
      case "object":
        for (const [k, v] of t.entries) {
          this.term(k);
          this.term(v);
        }
        return;
      case "arraycompr":
      case "setcompr":
        this.term(t.term);
        this.query(t.body);
        return;
      case "objectcompr":
        this.term(t.key);
        this.term(t.value);
        this.query(t.body);
        return;
      case "binop":
        this.term(t.left);
        this.term(t.right);
        return;
      case "neg":
        this.term(t.term);
        return;
      case "in":
        this.keyword("in", t.loc);
        if (t.key !== undefined) this.term(t.key);
        this.term(t.value);
        this.term(t.coll);
        return;
      case "assign":
      case "unify":
        // `x := f(a)` and `f(a) = x` call f with exactly its arity.
        this.term(t.left);
        this.term(t.right);
        return;
    }
  }
}

/** The names of a plain reference (`a.b.c`), or undefined for anything else. */
function refNames(t: Term): readonly string[] | undefined {
  if (t.t === "var") return [t.name];
  if (t.t !== "ref" || t.head.t !== "var") return undefined;
  const out = [t.head.name];
  for (const p of t.path) {
    if (p.t !== "scalar" || typeof p.value !== "string") return undefined;
    out.push(p.value);
  }
  return out;
}
