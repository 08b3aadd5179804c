import type { ElseClause, Literal, Query, Term, WithModifier } from "./ast.js";
import { type BuiltinContext, type BuiltinFn, isDeprecatedBuiltin, lookupBuiltin } from "./builtins/index.js";
import { arith, setOp } from "./builtins/numbers.js";
import type { CompiledModules, ModuleScope, RuleDef, RuleGroup, VNode } from "./compiler.js";
import { BuiltinError, type Location, RegoError } from "./errors.js";
import { formatValue, formatValueWith } from "./format.js";
import { type Frame, getVar, Layout, newFrame, type Slot, slotOf, UNBOUND } from "./frame.js";
import { callInfo, type LiteralPlan, queryPlans, type TermInfo, termInfo, varInfo } from "./term-info.js";
import { compare, EMPTY_OBJECT, equal, keyOf, ObjectBuilder, RObject, RSet, type Value } from "./values.js";

/** Returned by a continuation: true stops the enumeration (a result is enough). */
type Stop = boolean;
type Cont = () => Stop;
type VCont = (v: Value) => Stop;

/** A reference into the virtual `data` document, not yet materialised. */
class DataPath {
  /** The tree node at `path`, looked up once (null: no node). */
  private node: VNode | null | undefined;

  constructor(readonly path: readonly string[]) {}

  /** The first rule on the path and its index (null: none), found once. */
  private rule: { readonly group: RuleGroup; readonly index: number } | null | undefined;

  nodeIn(root: VNode): VNode | undefined {
    if (this.node === undefined) this.node = nodeAt(root, this.path) ?? null;
    return this.node ?? undefined;
  }

  ruleIn(root: VNode): { readonly group: RuleGroup; readonly index: number } | null {
    if (this.rule === undefined) {
      this.rule = null;
      let n: VNode | undefined = root;
      for (let i = 0; i < this.path.length && n !== undefined; i++) {
        n = n.children.get(this.path[i] as string);
        if (n?.group !== undefined) {
          this.rule = { group: n.group, index: i };
          break;
        }
      }
    }
    return this.rule;
  }
}

type CallTerm = Extract<Term, { t: "call" }>;
type RefTerm = Extract<Term, { t: "ref" }>;
type VarTerm = Extract<Term, { t: "var" }>;

export interface EvalLimits {
  /** Largest number of literals evaluated per query. Default 10,000,000. */
  readonly maxSteps?: number;
  /** Deepest nesting of rule and function evaluations. Default 256. */
  readonly maxDepth?: number;
}

export interface EvalOptions extends EvalLimits {
  readonly input?: Value | undefined;
  readonly data?: Value | undefined;
  /** Built-in errors fail the evaluation (true) or make the call undefined (false). */
  readonly strict?: boolean;
  /** Receives each `print` line. Without it, print's arguments are not evaluated. */
  readonly print?: (line: string) => void;
  /** Nanoseconds since the epoch for time.now_ns; read once per query by the caller. */
  readonly nowNs?: number;
  /**
   * Evaluate every term through the general (continuation) path, without direct evaluation or
   * the some-in shortcut. Internal: tests compare both modes on random policies.
   */
  readonly reference?: boolean;
}

interface Mock {
  readonly fn?: readonly string[];
  readonly value?: Value;
  readonly scope: ModuleScope;
}

/** The state of one query: input, data overrides, caches. `with` makes a child. */
class Ctx {
  readonly cache = new Map<number, Value | undefined>();
  constructor(
    readonly input: Value | undefined,
    readonly data: Value,
    readonly dataOverrides: readonly (readonly [readonly string[], Value])[],
    readonly mocks: ReadonlyMap<string, Mock>,
  ) {}
}

const DEFAULT_MAX_STEPS = 10_000_000;
const DEFAULT_MAX_DEPTH = 256;

export class Evaluator {
  private ctx: Ctx;
  private readonly strict: boolean;
  private readonly print: ((line: string) => void) | undefined;
  private readonly maxSteps: number;
  private readonly maxDepth: number;
  private readonly reference: boolean;
  private steps = 0;
  private depth = 0;
  /** Rule groups being evaluated, by id (recursion check): 1 while active. */
  private readonly active: Uint8Array;
  // Created on first use: most evaluations never need them, and an evaluator is built per query.
  private fnCache: Map<ModuleScope, Map<string, ResolvedFn>> | undefined;
  private pkgNodes: Map<ModuleScope, VNode | null> | undefined;
  readonly builtinCtx: BuiltinContext;

  /**
   * @param builtins when given, the only built-ins calls may reach (besides `print`): another
   *   engine's set, so that a call it lacks fails as it would there (REGO_UNKNOWN_FUNCTION).
   */
  constructor(
    private readonly compiled: CompiledModules,
    options: EvalOptions,
    private readonly builtins?: ReadonlyMap<string, number>,
  ) {
    this.ctx = new Ctx(options.input, options.data ?? EMPTY_OBJECT, [], new Map());
    this.active = new Uint8Array(compiled.groups.length);
    this.strict = options.strict ?? true;
    this.print = options.print;
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.reference = options.reference ?? false;
    this.builtinCtx = { nowNs: options.nowNs, cache: new Map() };
  }

  // ------------------------------------------------------------------ queries

  /** Enumerates the solutions of a query; `k` sees the frame with the solution's bindings. */
  runQuery(q: Query, frame: Frame, k: Cont): void {
    this.guard(() => this.evalQuery(q, 0, frame, k));
  }

  /**
   * Enumerates the solutions of a query and, for each, the value of every literal: a plain term's
   * own value, `true` for everything else.
   */
  runQueryCapturing(q: Query, frame: Frame, k: (values: Value[]) => Stop): void {
    this.guard(() => this.evalCapture(q, 0, frame, [], k));
  }

  private evalCapture(q: Query, i: number, f: Frame, vals: Value[], k: (values: Value[]) => Stop): Stop {
    if (i === q.length) return k(vals.slice());
    const lit = q[i] as Literal;
    const next = (v: Value): Stop => {
      vals.push(v);
      try {
        return this.evalCapture(q, i + 1, f, vals, k);
      } finally {
        vals.pop();
      }
    };
    if (lit.kind === "expr" && !lit.negated && lit.with.length === 0 && isPlainTerm(lit.expr)) {
      ++this.steps;
      return this.evalTerm(lit.expr, f, (v) => (v === false ? false : next(v)));
    }
    return this.evalLiteral(lit, f, () => next(true));
  }

  /** Evaluates one term (e.g. a query's only expression) to each of its values. */
  runTerm(t: Term, frame: Frame, k: VCont): void {
    this.guard(() => this.evalTerm(t, frame, k));
  }

  /** Whether a name in a query frame is an output variable (not input, data or a rule). */
  isFree(name: string, frame: Frame): boolean {
    return this.resolveGlobal(name, frame) === undefined;
  }

  static slotValue(frame: Frame, name: string): Value | undefined {
    const s = getVar(frame, name);
    return s === undefined || s === UNBOUND ? undefined : s;
  }

  /** The value of a document under data, or undefined. */
  dataValue(path: readonly string[]): Value | undefined {
    let out: Value | undefined;
    this.guard(() =>
      this.walkData(path, (v) => {
        out = v;
        return true;
      }),
    );
    return out;
  }

  private guard(fn: () => unknown): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof RangeError && /call stack/i.test(e.message)) {
        throw new RegoError("REGO_LIMIT_EXCEEDED", "evaluation nested too deeply (stack exhausted)", undefined, {
          cause: e,
        });
      }
      throw e;
    }
  }

  private evalQuery(q: Query, start: number, f: Frame, k: Cont): Stop {
    let i = start;
    const plans = queryPlans(q, f.scope).plans;
    // Literals that bind nothing (print, tests of a single-valued term) run in a loop rather than
    // nesting a continuation each: no closure per literal, and a shallow stack in print-heavy
    // policies (Kata's).
    for (;;) {
      // Each literal and each solution is a step, so loops over large collections count too.
      if (++this.steps > this.maxSteps) {
        throw new RegoError("REGO_LIMIT_EXCEEDED", `evaluation exceeded ${this.maxSteps} steps`);
      }
      if (i === q.length) return k();
      const lit = q[i] as Literal;
      const plan = plans[i] ?? this.makePlan(plans, i, lit, f, q);
      if (plan.defer !== undefined && mustDefer(plan.defer, f)) return this.evalDeferred(q, i, f, k);
      if (plan.kind === "print") {
        if (this.print !== undefined) {
          const call = plan.term as CallTerm;
          this.doPrint(call.args, f, call.loc, () => false);
        }
        i++;
        continue;
      }
      if (plan.kind === "other" || !this.isDirectNow(plan.info as TermInfo, f)) break;
      const v = this.value(plan.term as Term, f);
      if (plan.kind === "test") {
        if ((v !== undefined && v !== false) === plan.negated) return false;
        i++;
        continue;
      }
      // `x := <single value>`: bind x for the rest of the query without a continuation.
      if (v === undefined) return false;
      const slot = slotOf(plan.target as VarTerm, f);
      const prev = f.slots[slot];
      f.slots[slot] = v;
      try {
        return this.evalQuery(q, i + 1, f, k);
      } finally {
        f.slots[slot] = prev;
      }
    }
    return this.evalLiteralThen(q, i, f, k);
  }

  /**
   * Evaluates literal i with the rest of the query as its continuation. A method of its own: the
   * closure's captured variables would otherwise be allocated on every evalQuery call.
   */
  private evalLiteralThen(q: Query, i: number, f: Frame, k: Cont): Stop {
    return this.evalLiteral(q[i] as Literal, f, () => this.evalQuery(q, i + 1, f, k));
  }

  /** Decides how evalQuery runs literal i of a query (see LiteralPlan) and remembers it. */
  /** Runs the rest of the query, then literal i (a negated literal that waits for its variables). */
  private evalDeferred(q: Query, i: number, f: Frame, k: Cont): Stop {
    const lit = q[i] as Literal;
    return this.evalQuery(q, i + 1, f, () => this.evalLiteral(lit, f, k));
  }

  private makePlan(plans: (LiteralPlan | undefined)[], i: number, lit: Literal, f: Frame, q: Query): LiteralPlan {
    let plan = this.planFor(lit, f);
    if (lit.kind === "expr" && lit.negated && i + 1 < q.length) {
      // Only variables that no earlier literal mentions can still be unbound here.
      const earlier = new Set<string>();
      for (let j = 0; j < i; j++) collectLiteralVars(q[j] as Literal, (v) => earlier.add(v.name));
      const later = new Set<string>();
      for (let j = i + 1; j < q.length; j++) collectLiteralVars(q[j] as Literal, (v) => later.add(v.name));
      const defer: VarTerm[] = [];
      collectLiteralVars(lit, (v) => {
        const candidate = later.has(v.name) && !earlier.has(v.name) && !this.isGlobal(v.name, f);
        if (candidate && !defer.some((d) => d.name === v.name)) defer.push(v);
      });
      if (defer.length > 0) plan = { ...plan, defer };
    }
    plans[i] = plan;
    return plan;
  }

  private planFor(lit: Literal, f: Frame): LiteralPlan {
    const other: LiteralPlan = {
      kind: "other",
      target: undefined,
      term: undefined,
      info: undefined,
      negated: false,
      // Every plan has the same shape (defer included), so the hot loop's loads stay monomorphic.
      defer: undefined,
    };
    if (lit.kind !== "expr" || lit.with.length > 0) return other;
    if (isPrint(lit, f)) return { ...other, kind: "print", term: lit.expr };
    const e = lit.expr;
    if (e.t === "assign") {
      const left = e.left;
      if (lit.negated || left.t !== "var" || left.name === "_" || left.name === "input" || left.name === "data") {
        return other;
      }
      return { ...other, kind: "assign", target: left, term: e.right, info: termInfo(e.right) };
    }
    if (e.t === "unify" || !termInfo(e).direct || !this.isTest(e, f)) return other;
    return { ...other, kind: "test", term: e, info: termInfo(e), negated: lit.negated };
  }

  /** Whether a term has one value at most in this frame: evaluate it with value(). */
  private isDirect(t: Term, f: Frame): boolean {
    return this.isDirectNow(termInfo(t), f);
  }

  private isDirectNow(info: TermInfo, f: Frame): boolean {
    if (!info.direct || this.reference) return false;
    const vars = info.segVars;
    for (let i = 0; i < vars.length; i++) {
      const name = vars[i] as string;
      const s = getVar(f, name);
      // An unbound segment variable enumerates the collection.
      if (s === UNBOUND || (s === undefined && !this.isGlobal(name, f))) return false;
    }
    return true;
  }

  /**
   * Whether an expression literal (not `=` or `:=`) only tests its term's value, as evalExpr
   * would treat it: not `walk` and not an old-style call with an output argument.
   */
  private isTest(e: Term, f: Frame): boolean {
    if (e.t !== "call") return true;
    if (e.fn.length === 1 && e.fn[0] === "walk" && e.args.length === 2 && !f.scope.imports.has("walk")) return false;
    return e.args.length !== this.resolveCall(e, f).arity + 1;
  }

  private evalLiteral(lit: Literal, f: Frame, k: Cont): Stop {
    if (lit.kind !== "some" && lit.with.length > 0) return this.withModifiers(lit, f, k);
    return this.evalLiteralCore(lit, f, k);
  }

  private evalLiteralCore(lit: Literal, f: Frame, k: Cont): Stop {
    switch (lit.kind) {
      case "some":
        return this.declare(lit.vars, f, k);
      case "somein":
        return this.evalTerm(lit.coll, f, (coll) => {
          if (!isCollection(coll)) {
            // Strict: an error. Otherwise nothing to iterate, so the literal has no solutions.
            this.builtinFail("`some .. in collection` expects array/set/object.", lit.loc);
            return false;
          }
          const value = lit.value;
          const key = lit.key;
          if (
            !this.reference &&
            value.t === "var" &&
            (key === undefined || (key.t === "var" && key.name !== value.name))
          ) {
            // `some v in xs` / `some k, v in xs` with plain variables: bind the slots per element.
            return this.someIn(value, key, coll, f, k);
          }
          return this.declare(inVars(lit), f, () =>
            forEach(coll, (key, val) => {
              return lit.key === undefined
                ? this.match(lit.value, val, f, k)
                : this.match(lit.key, key, f, () => this.match(lit.value, val, f, k));
            }),
          );
        });
      case "every":
        return this.evalEvery(lit, f, k);
      case "expr":
        if (lit.negated) {
          const found = this.evalExpr(lit.expr, f, () => true);
          return found ? false : k();
        }
        return this.evalExpr(lit.expr, f, k);
    }
  }

  /**
   * `some k, v in coll` with distinct plain variables: as declare() then match() per element, with
   * the slots assigned in place and restored once at the end.
   */
  private someIn(value: VarTerm, key: VarTerm | undefined, coll: Value, f: Frame, k: Cont): Stop {
    const vs = value.name === "_" ? -1 : slotOf(value, f);
    const ks = key === undefined || key.name === "_" ? -1 : slotOf(key, f);
    const vPrev = vs < 0 ? undefined : f.slots[vs];
    const kPrev = ks < 0 ? undefined : f.slots[ks];
    try {
      return forEach(coll, (kv, v) => {
        if (vs >= 0) f.slots[vs] = v;
        if (ks >= 0) f.slots[ks] = kv;
        return k();
      });
    } finally {
      if (vs >= 0) f.slots[vs] = vPrev;
      if (ks >= 0) f.slots[ks] = kPrev;
    }
  }

  private evalEvery(lit: Extract<Literal, { kind: "every" }>, f: Frame, k: Cont): Stop {
    let defined = false;
    let all = true;
    this.evalTerm(lit.coll, f, (coll) => {
      defined = true;
      if (!isCollection(coll)) {
        all = false;
        return true;
      }
      const names = inVars(lit);
      forEach(coll, (key, val) => {
        const ok = this.declare(names, f, () =>
          lit.key === undefined
            ? this.match(lit.value, val, f, () => this.evalQuery(lit.body, 0, f, () => true))
            : this.match(lit.key, key, f, () =>
                this.match(lit.value, val, f, () => this.evalQuery(lit.body, 0, f, () => true)),
              ),
        );
        if (!ok) {
          all = false;
          return true;
        }
        return false;
      });
      return true;
    });
    if (!defined) return false;
    return all ? k() : false;
  }

  /** Declares local variables: unbound until matched, shadowing outer ones. */
  private declare(names: readonly string[], f: Frame, k: Cont): Stop {
    if (names.length === 0) return k();
    if (names.length === 1) {
      const n = names[0] as string;
      if (n === "_") return k();
      const slot = f.layout.slot(n);
      const prev = f.slots[slot];
      f.slots[slot] = UNBOUND;
      try {
        return k();
      } finally {
        f.slots[slot] = prev;
      }
    }
    const saved: [number, Slot | undefined][] = [];
    for (const n of names) {
      if (n === "_") continue;
      const slot = f.layout.slot(n);
      saved.push([slot, f.slots[slot]]);
      f.slots[slot] = UNBOUND;
    }
    try {
      return k();
    } finally {
      for (let i = saved.length - 1; i >= 0; i--) {
        const [slot, v] = saved[i] as [number, Slot | undefined];
        f.slots[slot] = v;
      }
    }
  }

  /** Binds the variable in `slot` while `k` runs. */
  private bind(slot: number, v: Value, f: Frame, k: Cont): Stop {
    const prev = f.slots[slot];
    f.slots[slot] = v;
    try {
      return k();
    } finally {
      f.slots[slot] = prev;
    }
  }

  private evalExpr(e: Term, f: Frame, k: Cont): Stop {
    switch (e.t) {
      case "assign": {
        const names = patternVars(e.left);
        if (names.length === 0 && e.left.t !== "var") {
          throw new RegoError(
            "REGO_COMPILE_ERROR",
            "assignment operator := requires left-hand side to have bindable variables",
            e.loc,
          );
        }
        if (e.left.t === "var" && (e.left.name === "input" || e.left.name === "data") && f.scope.v1) {
          throw new RegoError("REGO_COMPILE_ERROR", `${e.left.name} cannot be shadowed`, e.loc);
        }
        return this.evalTerm(e.right, f, (v) => {
          this.checkDestructure(e.left, v, e.loc);
          return this.declare(names, f, () => this.match(e.left, v, f, k));
        });
      }
      case "unify":
        return this.unify(e.left, e.right, f, k);
      case "call": {
        if (e.fn.length === 1 && e.fn[0] === "walk" && e.args.length === 2 && !f.scope.imports.has("walk")) {
          // walk(x, [path, value]) relates x to each of its sub-documents, itself first.
          const out = e.args[1] as Term;
          return this.evalTerm(e.args[0] as Term, f, (root) =>
            walkDocument(root, (pair) => this.match(out, pair, f, k)),
          );
        }
        const fn = this.resolveCall(e, f);
        if (e.args.length === fn.arity + 1) {
          // Old-style call whose last argument receives the result.
          const out = e.args[e.args.length - 1] as Term;
          return this.evalArgs(e.args, 0, e.args.length - 1, [], f, (args) => {
            const r = this.invoke(fn, args, f, e.loc);
            return r === undefined ? false : this.match(out, r, f, k);
          });
        }
        return this.evalTerm(e, f, (v) => (v === false ? false : k()));
      }
      default:
        return this.evalTerm(e, f, (v) => (v === false ? false : k()));
    }
  }

  /**
   * regorus reports a destructuring pattern whose shape cannot match the value as an error rather
   * than a failed match; this engine does the same, so policies behave alike on both.
   */
  private checkPattern(t: Term, v: Value, f: Frame): void {
    if (t.t === "array") {
      if (v instanceof RObject) {
        throw new RegoError(
          "REGO_TYPE_ERROR",
          "incompatible destructuring patterns: both sides must be arrays or objects with matching structure",
          t.loc,
        );
      }
      if (Array.isArray(v)) {
        if (v.length !== t.items.length) {
          throw new RegoError(
            "REGO_TYPE_ERROR",
            `mismatch in number of array elements: pattern has ${t.items.length}, value has ${v.length}`,
            t.loc,
          );
        }
        t.items.forEach((x, i) => {
          this.checkPattern(x, (v as readonly Value[])[i] as Value, f);
        });
      }
    }
  }

  /** regorus reports destructuring mismatches in `:=` as errors rather than failing silently. */
  private checkDestructure(left: Term, v: Value, loc: Location): void {
    if (left.t === "array") {
      if (!Array.isArray(v)) {
        throw new RegoError("REGO_TYPE_ERROR", `Cannot bind pattern of type \`array\` to a ${typeNameOf(v)}`, loc);
      }
      if (v.length !== left.items.length) {
        throw new RegoError(
          "REGO_TYPE_ERROR",
          `mismatch in number of array elements: left has ${left.items.length}, right has ${v.length}`,
          loc,
        );
      }
    }
    if (left.t === "object" && v instanceof RObject && left.entries.length !== v.size) {
      throw new RegoError(
        "REGO_TYPE_ERROR",
        `object field count mismatch in assignment: left has ${left.entries.length} fields, right has ${v.size} fields`,
        loc,
      );
    }
  }

  private withModifiers(lit: Exclude<Literal, { kind: "some" }>, f: Frame, k: Cont): Stop {
    const parent = this.ctx;
    let input = parent.input;
    const overrides = [...parent.dataOverrides];
    const mocks = new Map(parent.mocks);
    for (const w of lit.with) {
      const target = this.withTarget(w, f);
      if ("key" in target) {
        const fnName = this.functionRef(w.value, f);
        if (fnName !== undefined) mocks.set(target.key, { fn: fnName, scope: f.scope });
        else {
          const v = this.evalSingle(w.value, f);
          if (v !== undefined) mocks.set(target.key, { value: v, scope: f.scope });
        }
      } else if (target.kind === "input") {
        const v = this.evalSingle(w.value, f);
        input = v === undefined ? undefined : setPath(input, target.path, v);
      } else {
        const v = this.evalSingle(w.value, f);
        if (v !== undefined) overrides.push([target.path, v]);
      }
    }
    const child = new Ctx(input, parent.data, overrides, mocks);
    this.ctx = child;
    try {
      return this.evalLiteralCore(lit, f, () => {
        this.ctx = parent;
        try {
          return k();
        } finally {
          this.ctx = child;
        }
      });
    } finally {
      this.ctx = parent;
    }
  }

  private withTarget(
    w: WithModifier,
    f: Frame,
  ): { kind: "input" | "data"; path: string[] } | { kind: "fn"; key: string } {
    const names = staticNames(w.target);
    if (names === undefined) throw new RegoError("REGO_COMPILE_ERROR", "invalid `with` target", w.loc);
    const [head, ...rest] = names as [string, ...string[]];
    if (head === "input") return { kind: "input", path: rest };
    if (head === "data") {
      const g = this.groupAt([...rest]);
      if (g !== undefined && g.kind === "function") return { kind: "fn", key: `data.${rest.join(".")}` };
      return { kind: "data", path: rest };
    }
    const imp = f.scope.imports.get(head);
    if (imp !== undefined) {
      const full = [...imp, ...rest];
      if (full[0] === "input") return { kind: "input", path: full.slice(1) };
      const g = this.groupAt(full.slice(1));
      if (g !== undefined && g.kind === "function") return { kind: "fn", key: `data.${full.slice(1).join(".")}` };
      return { kind: "data", path: full.slice(1) };
    }
    const local = [...f.scope.package, ...names];
    const g = this.groupAt(local);
    if (g !== undefined) {
      if (g.kind === "function") return { kind: "fn", key: `data.${local.join(".")}` };
      return { kind: "data", path: local };
    }
    const name = names.join(".");
    if (this.builtinFor(name) !== undefined) return { kind: "fn", key: name };
    throw new RegoError("REGO_COMPILE_ERROR", `invalid \`with\` target ${name}`, w.loc);
  }

  /** The function a `with ... as <value>` names, if it names one. */
  private functionRef(t: Term, f: Frame): string[] | undefined {
    const names = staticNames(t);
    if (names === undefined) return undefined;
    if (t.t === "var" && getVar(f, t.name) !== undefined) return undefined;
    try {
      const fn = this.resolveFunction(names, f, t.loc);
      return fn.kind === "user" && fn.group.kind !== "function" ? undefined : names;
    } catch {
      return undefined;
    }
  }

  private evalSingle(t: Term, f: Frame): Value | undefined {
    let out: Value | undefined;
    this.evalTerm(t, f, (v) => {
      out = v;
      return true;
    });
    return out;
  }

  // ------------------------------------------------------------------ unification

  private unify(a: Term, b: Term, f: Frame, k: Cont): Stop {
    if (a.t === "array" && b.t === "array") {
      if (a.items.length !== b.items.length) {
        throw new RegoError(
          "REGO_TYPE_ERROR",
          `mismatch in number of array elements: left has ${a.items.length}, right has ${b.items.length}`,
          a.loc,
        );
      }
      return this.unifyItems(a.items, b.items, 0, f, k);
    }
    if (a.t === "object" && b.t === "object") {
      const ka = staticKeys(a);
      const kb = staticKeys(b);
      if (ka !== undefined && kb !== undefined) {
        if (ka.length !== kb.length) {
          throw new RegoError(
            "REGO_TYPE_ERROR",
            `object field count mismatch in assignment: left has ${ka.length} fields, right has ${kb.length} fields`,
            a.loc,
          );
        }
        const missing = kb.find((k2) => !ka.some((x) => equal(x, k2)));
        if (missing !== undefined) {
          throw new RegoError(
            "REGO_TYPE_ERROR",
            `key ${formatValue(missing)} not found in left-hand side object during destructuring; object literal keys mismatch. Expected keys [${ka.map(formatValue).join(", ")}] got [${kb.map(formatValue).join(", ")}].`,
            a.loc,
          );
        }
        const left = ka.map(
          (key) => (a.entries.find(([kt]) => equal((kt as { value: Value }).value, key)) as [Term, Term])[1],
        );
        const right = ka.map(
          (key) => (b.entries.find(([kt]) => equal((kt as { value: Value }).value, key)) as [Term, Term])[1],
        );
        return this.unifyItems(left, right, 0, f, k);
      }
    }
    // A pattern against a computed value fails to match when the shapes differ, as in OPA
    // (`[x, _] = data.xs[i]` skips the elements of other lengths); against a literal of another
    // shape it is an error, a mistake both OPA's type checker and regorus report.
    if (this.isPattern(a, f)) {
      return this.evalTerm(b, f, (v) => {
        if (isCollectionLiteral(b)) this.checkPattern(a, v, f);
        return this.match(a, v, f, k);
      });
    }
    if (this.isPattern(b, f)) {
      return this.evalTerm(a, f, (v) => {
        if (isCollectionLiteral(a)) this.checkPattern(b, v, f);
        return this.match(b, v, f, k);
      });
    }
    return this.evalTerm(a, f, (va) => this.evalTerm(b, f, (vb) => (equal(va, vb) ? k() : false)));
  }

  private unifyItems(xs: readonly Term[], ys: readonly Term[], i: number, f: Frame, k: Cont): Stop {
    if (i === xs.length) return k();
    return this.unify(xs[i] as Term, ys[i] as Term, f, () => this.unifyItems(xs, ys, i + 1, f, k));
  }

  /** Whether a term has variables that unification would bind. */
  private isPattern(t: Term, f: Frame): boolean {
    switch (t.t) {
      case "var":
        return this.isUnbound(t.name, f);
      case "array":
        return t.items.some((x) => this.isPattern(x, f));
      case "object":
        return t.entries.some(([, v]) => this.isPattern(v, f));
      default:
        return false;
    }
  }

  private isUnbound(name: string, f: Frame): boolean {
    if (name === "_") return true;
    const s = getVar(f, name);
    if (s !== undefined) return s === UNBOUND;
    return !this.isGlobal(name, f);
  }

  /** Matches a term against a value, binding the term's unbound variables. */
  private match(t: Term, v: Value, f: Frame, k: Cont): Stop {
    switch (t.t) {
      case "var": {
        if (t.name === "_") return k();
        const slot = slotOf(t, f);
        const s = f.slots[slot];
        if (s === UNBOUND) return this.bind(slot, v, f, k);
        if (s !== undefined) return equal(s, v) ? k() : false;
        if (!this.isGlobal(t.name, f)) return this.bind(slot, v, f, k);
        return this.evalTerm(t, f, (x) => (equal(x, v) ? k() : false));
      }
      case "array": {
        if (!Array.isArray(v) || v.length !== t.items.length) return false;
        const arr = v as readonly Value[];
        const step = (i: number): Stop =>
          i === arr.length ? k() : this.match(t.items[i] as Term, arr[i] as Value, f, () => step(i + 1));
        return step(0);
      }
      case "object": {
        if (!(v instanceof RObject) || v.size !== t.entries.length) return false;
        const step = (i: number): Stop => {
          if (i === t.entries.length) return k();
          const [kt, vt] = t.entries[i] as readonly [Term, Term];
          return this.evalTerm(kt, f, (key) => {
            const x = v.get(key);
            return x === undefined ? false : this.match(vt, x, f, () => step(i + 1));
          });
        };
        return step(0);
      }
      default:
        return this.evalTerm(t, f, (x) => (equal(x, v) ? k() : false));
    }
  }

  // ------------------------------------------------------------------ terms

  evalTerm(t: Term, f: Frame, k: VCont): Stop {
    if (t.t === "scalar") return k(t.value);
    if (this.isDirect(t, f)) {
      const v = this.value(t, f);
      return v === undefined ? false : k(v);
    }
    switch (t.t) {
      case "var": {
        const s = f.slots[slotOf(t, f)];
        if (s !== undefined) {
          if (s === UNBOUND) throw unsafe(t.name, t.loc);
          return k(s);
        }
        const g = this.resolveGlobal(t.name, f);
        if (g === undefined) throw unsafe(t.name, t.loc);
        if (g instanceof DataPath) return this.walkData(g.path, k);
        return k(g);
      }
      case "ref":
        return this.evalRef(t, f, k);
      case "call":
        return this.evalCall(t, f, k);
      case "array":
      case "set":
      case "object": {
        const c = constantOf(t);
        if (c !== undefined) return k(c);
        if (t.t === "array") return this.evalItems(t.items, 0, [], f, (items) => k(items));
        if (t.t === "set") return this.evalItems(t.items, 0, [], f, (items) => k(RSet.from(items)));
        return this.evalEntries(t.entries, 0, new ObjectBuilder(), f, k);
      }
      case "arraycompr":
      case "setcompr":
      case "objectcompr":
        return k(this.comprehensionValue(t, f));
      case "binop":
        // `x == xs[x]`: the right operand binds the left one, so it runs first (as in OPA).
        if (t.left.t === "var" && t.right.t !== "var" && f.slots[slotOf(t.left, f)] === UNBOUND) {
          return this.evalTerm(t.right, f, (b) =>
            this.evalTerm(t.left, f, (a) => {
              const r = this.binop(t.op, a, b, t.loc);
              return r === undefined ? false : k(r);
            }),
          );
        }
        return this.evalTerm(t.left, f, (a) =>
          this.evalTerm(t.right, f, (b) => {
            const r = this.binop(t.op, a, b, t.loc);
            return r === undefined ? false : k(r);
          }),
        );
      case "neg":
        return this.evalTerm(t.term, f, (v) => {
          if (typeof v !== "number") {
            throw new RegoError("REGO_TYPE_ERROR", "unary - can only be used with numeric literals", t.loc);
          }
          return k(-v);
        });
      case "in":
        return this.evalTerm(t.coll, f, (coll) => {
          if (t.key === undefined) {
            return this.evalTerm(t.value, f, (v) => k(contains(coll, v)));
          }
          return this.evalTerm(t.key, f, (key) =>
            this.evalTerm(t.value, f, (v) => {
              const x = lookup(coll, key);
              return k(x !== undefined && equal(x, v));
            }),
          );
        });
      case "assign":
      case "unify": {
        // Nested inside an expression: true when it holds.
        return this.evalExpr(t, f, () => k(true));
      }
    }
  }

  private comprehension(body: Query, f: Frame, k: Cont): void {
    // Variables first bound inside the body are local to it; bind() restores them on the way out.
    this.evalQuery(body, 0, f, k);
  }

  private comprehensionValue(t: Extract<Term, { t: "arraycompr" | "setcompr" | "objectcompr" }>, f: Frame): Value {
    switch (t.t) {
      case "arraycompr": {
        const out: Value[] = [];
        this.comprehension(t.body, f, () =>
          this.evalTerm(t.term, f, (v) => {
            out.push(v);
            return false;
          }),
        );
        return out;
      }
      case "setcompr": {
        const out = new Map<string, Value>();
        this.comprehension(t.body, f, () =>
          this.evalTerm(t.term, f, (v) => {
            out.set(keyOf(v), v);
            return false;
          }),
        );
        return new RSet(out);
      }
      case "objectcompr": {
        const b = new ObjectBuilder();
        this.comprehension(t.body, f, () =>
          this.evalTerm(t.key, f, (key) =>
            this.evalTerm(t.value, f, (val) => {
              const prev = b.get(key);
              if (prev !== undefined && !equal(prev, val)) {
                throw new RegoError(
                  "REGO_CONFLICT",
                  `object keys must be unique: value for key \`${formatValue(key)}\` generated multiple times: \`${formatValue(prev)}\` and \`${formatValue(val)}\``,
                  t.loc,
                );
              }
              b.set(key, val);
              return false;
            }),
          ),
        );
        return b.build();
      }
    }
  }

  // ------------------------------------------------------------------ single values

  /**
   * The value of a term that has one value at most in this frame (see isDirect), or undefined.
   * It follows evalTerm case by case, in the same order, without a continuation per value.
   */
  private value(t: Term, f: Frame): Value | undefined {
    switch (t.t) {
      case "scalar":
        return t.value;
      case "var": {
        const s = f.slots[slotOf(t, f)];
        if (s !== undefined) {
          if (s === UNBOUND) throw unsafe(t.name, t.loc);
          return s;
        }
        const g = this.global(t, f);
        if (g === undefined) throw unsafe(t.name, t.loc);
        return g instanceof DataPath ? this.dataAt(g.path) : g;
      }
      case "ref":
        return this.refValue(t, f);
      case "call":
        return this.callValue(t, f);
      case "array":
      case "set": {
        const c = constantOf(t);
        if (c !== undefined) return c;
        const items: Value[] = [];
        for (const x of t.items) {
          const v = this.value(x, f);
          if (v === undefined) return undefined;
          items.push(v);
        }
        return t.t === "array" ? items : RSet.from(items);
      }
      case "object": {
        const c = constantOf(t);
        if (c !== undefined) return c;
        const b = new ObjectBuilder();
        for (const [kt, vt] of t.entries) {
          const key = this.value(kt, f);
          if (key === undefined) return undefined;
          const val = this.value(vt, f);
          if (val === undefined) return undefined;
          b.set(key, val);
        }
        return b.build();
      }
      case "arraycompr":
      case "setcompr":
      case "objectcompr":
        return this.comprehensionValue(t, f);
      case "binop": {
        const a = this.value(t.left, f);
        if (a === undefined) return undefined;
        const b = this.value(t.right, f);
        return b === undefined ? undefined : this.binop(t.op, a, b, t.loc);
      }
      case "neg": {
        const v = this.value(t.term, f);
        if (v === undefined) return undefined;
        if (typeof v !== "number") {
          throw new RegoError("REGO_TYPE_ERROR", "unary - can only be used with numeric literals", t.loc);
        }
        return -v;
      }
      case "in": {
        const coll = this.value(t.coll, f);
        if (coll === undefined) return undefined;
        if (t.key === undefined) {
          const v = this.value(t.value, f);
          return v === undefined ? undefined : contains(coll, v);
        }
        const key = this.value(t.key, f);
        if (key === undefined) return undefined;
        const v = this.value(t.value, f);
        if (v === undefined) return undefined;
        const x = lookup(coll, key);
        return x !== undefined && equal(x, v);
      }
      case "assign":
      case "unify":
        // Never direct (termInfo); kept total for the type checker.
        return this.evalSingle(t, f);
    }
  }

  private refValue(t: RefTerm, f: Frame): Value | undefined {
    const head = t.head;
    if (head.t === "var") {
      const s = f.slots[slotOf(head, f)];
      if (s !== undefined) {
        if (s === UNBOUND) throw unsafe(head.name, head.loc);
        return this.walkValueDirect(s, t.path, 0, f);
      }
      const g = this.global(head, f);
      if (g === undefined) throw unsafe(head.name, head.loc);
      if (g instanceof DataPath) return this.dataRefValue(g, t.path, f);
      return this.walkValueDirect(g, t.path, 0, f);
    }
    const v = this.value(head, f);
    return v === undefined ? undefined : this.walkValueDirect(v, t.path, 0, f);
  }

  /** walkValue for segments that do not enumerate. */
  private walkValueDirect(v: Value, path: readonly Term[], from: number, f: Frame): Value | undefined {
    let cur: Value | undefined = v;
    for (let i = from; i < path.length; i++) {
      const seg = path[i] as Term;
      let key: Value | undefined;
      if (seg.t === "scalar") key = seg.value;
      else {
        const s = seg.t === "var" ? f.slots[slotOf(seg, f)] : undefined;
        key = s !== undefined && s !== UNBOUND ? s : this.value(seg, f);
        if (key === undefined) return undefined;
      }
      cur = lookup(cur, key);
      if (cur === undefined) return undefined;
    }
    return cur;
  }

  /** walkDataRef for segments that do not enumerate. */
  private dataRefValue(prefix: DataPath, path: readonly Term[], f: Frame): Value | undefined {
    if (this.ctx.dataOverrides.length === 0) {
      const rule = prefix.ruleIn(this.compiled.root);
      if (rule !== null) {
        // dataAt would stop at this rule (the usual `policy_data.x` case): take its value and
        // apply the rest of the prefix and the segments, without building the name list.
        const v = this.groupValue(rule.group);
        const at = v === undefined ? undefined : getPathFrom(v, prefix.path, rule.index + 1);
        return at === undefined ? undefined : this.walkValueDirect(at, path, 0, f);
      }
    }
    let node = prefix.nodeIn(this.compiled.root);
    let names: string[] | undefined;
    let i = 0;
    for (; i < path.length; i++) {
      const key = dataKey(this.knownKey(path[i] as Term, f));
      if (key === undefined) break;
      names ??= [...prefix.path];
      names.push(key);
      // Stop at a rule: its value is computed, then the rest of the path applies to the value.
      // Below the rule tree, in base data, keys go on as names: data.x[1] reads the key "1", as
      // OPA's storage paths are strings.
      node = node?.children.get(key);
      if (node?.group !== undefined) {
        i++;
        break;
      }
    }
    const v = this.dataAt(names ?? prefix.path);
    return v === undefined ? undefined : this.walkValueDirect(v, path, i, f);
  }

  private callValue(t: CallTerm, f: Frame): Value | undefined {
    if (this.print === undefined && t.fn.length === 1 && t.fn[0] === "print" && !f.scope.imports.has("print")) {
      return true;
    }
    if (t.fn.length === 2 && t.fn[0] === "internal" && t.fn[1] === "template_string") return this.templateString(t, f);
    const fn = this.resolveCall(t, f);
    if (fn.arity >= 0 && t.args.length !== fn.arity) throw arityError(t, fn);
    if (fn.kind === "builtin" && fn.name === "print") {
      this.doPrint(t.args, f, t.loc, () => false);
      return true;
    }
    // Sized up front: an empty array grows to 16 slots on its first push.
    const n = t.args.length;
    const args = new Array<Value>(n);
    for (let i = 0; i < n; i++) {
      const v = this.value(t.args[i] as Term, f);
      if (v === undefined) return undefined;
      args[i] = v;
    }
    return this.invoke(fn, args, f, t.loc);
  }

  private evalItems(items: readonly Term[], i: number, acc: Value[], f: Frame, k: (xs: Value[]) => Stop): Stop {
    if (i === items.length) return k(acc.slice());
    return this.evalTerm(items[i] as Term, f, (v) => {
      acc.push(v);
      try {
        return this.evalItems(items, i + 1, acc, f, k);
      } finally {
        acc.pop();
      }
    });
  }

  private evalEntries(
    entries: readonly (readonly [Term, Term])[],
    i: number,
    b: ObjectBuilder,
    f: Frame,
    k: VCont,
  ): Stop {
    if (i === entries.length) return k(b.build());
    const [kt, vt] = entries[i] as readonly [Term, Term];
    return this.evalTerm(kt, f, (key) =>
      this.evalTerm(vt, f, (val) => {
        // Builders are consumed by build(); copy for each alternative.
        const nb = new ObjectBuilder();
        for (const [k2, v2] of b.build().unsortedEntries()) nb.set(k2, v2);
        nb.set(key, val);
        return this.evalEntries(entries, i + 1, nb, f, k);
      }),
    );
  }

  private binop(op: string, a: Value, b: Value, loc: Location): Value | undefined {
    switch (op) {
      case "==":
        return equal(a, b);
      case "!=":
        return !equal(a, b);
      case "<":
        return compare(a, b) < 0;
      case "<=":
        return compare(a, b) <= 0;
      case ">":
        return compare(a, b) > 0;
      case ">=":
        return compare(a, b) >= 0;
      case "|":
      case "&":
        return this.operator(op, a, b, loc, true);
      case "-":
        if (a instanceof RSet && b instanceof RSet) return setOp("-", a, b);
        return this.operator(op, a, b, loc, false);
      default:
        return this.operator(op, a, b, loc, false);
    }
  }

  /**
   * Runs a set or arithmetic operator: its error is fatal in strict mode, undefined otherwise.
   * (No closure: binop runs for most comparisons, and a closure would allocate on each.)
   */
  private operator(op: string, a: Value, b: Value, loc: Location, set: boolean): Value | undefined {
    try {
      return set ? setOp(op as "|" | "&", a, b) : arith(op, a, b);
    } catch (e) {
      if (e instanceof BuiltinError) {
        if (this.strict) throw e.at(loc);
        return undefined;
      }
      throw e;
    }
  }

  private builtinFail(message: string, loc: Location): undefined {
    if (this.strict) throw new BuiltinError(message, loc);
    return undefined;
  }

  // ------------------------------------------------------------------ refs

  private evalRef(t: Extract<Term, { t: "ref" }>, f: Frame, k: VCont): Stop {
    const head = t.head;
    if (head.t === "var") {
      const s = f.slots[slotOf(head, f)];
      if (s !== undefined) {
        if (s === UNBOUND) throw unsafe(head.name, head.loc);
        return this.walkValue(s, t.path, 0, f, k);
      }
      const g = this.resolveGlobal(head.name, f);
      if (g === undefined) throw unsafe(head.name, head.loc);
      if (g instanceof DataPath) return this.walkDataRef(this.compiled.root, g.path, t.path, f, k);
      return this.walkValue(g, t.path, 0, f, k);
    }
    return this.evalTerm(head, f, (v) => this.walkValue(v, t.path, 0, f, k));
  }

  /** A ref segment's value when it is known without enumeration: a scalar or a bound variable. */
  private knownKey(seg: Term, f: Frame): Value | undefined {
    if (seg.t === "scalar") return seg.value;
    if (seg.t === "var") {
      const s = f.slots[slotOf(seg, f)];
      if (s !== undefined && s !== UNBOUND) return s;
    }
    return undefined;
  }

  /** Walks static names of the data tree, then the ref's own segments. */
  private walkDataRef(root: VNode, prefix: readonly string[], path: readonly Term[], f: Frame, k: VCont): Stop {
    // Resolve as many leading segments as are known strings, without materialising anything.
    const names = [...prefix];
    let i = 0;
    for (; i < path.length; i++) {
      const key = dataKey(this.knownKey(path[i] as Term, f));
      if (key === undefined) break;
      // Stop at a rule: its value is computed, then the rest of the path applies to the value.
      names.push(key);
      const node = nodeAt(root, names);
      if (node?.group !== undefined) {
        i++;
        break;
      }
    }
    return this.walkData(names, (v) => this.walkValue(v, path, i, f, k));
  }

  /** The value of the data document at `names`, combining base data, overrides and rules. */
  private walkData(names: readonly string[], k: VCont): Stop {
    const v = this.dataAt(names);
    return v === undefined ? false : k(v);
  }

  /** The data document at `names` (one value at most), or undefined. */
  private dataAt(names: readonly string[]): Value | undefined {
    const ovs = this.ctx.dataOverrides;
    if (ovs.length === 0) return this.dataAtUnderneath(names);
    const ov = this.overrideFor(names);
    if (ov !== undefined) return getPath(ov[1], names.slice(ov[0].length));
    // `with data.a.b as x` also shows in data.a, and in data.a when base data has no `a`.
    let v = this.dataAtUnderneath(names);
    for (const [p, x] of ovs) {
      if (p.length > names.length && names.every((s, i) => s === p[i])) v = setPath(v, p.slice(names.length), x);
    }
    return v;
  }

  /** dataAt without the overrides strictly below `names` (materialize applies those of rules' siblings). */
  private dataAtUnderneath(names: readonly string[]): Value | undefined {
    let node: VNode | undefined = this.compiled.root;
    let base: Value | undefined = this.ctx.data;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      base = base === undefined ? undefined : lookup(base, name);
      node = node?.children.get(name);
      if (node?.group !== undefined) {
        const v = this.groupValue(node.group);
        return v === undefined ? undefined : getPathFrom(v, names, i + 1);
      }
      if (node === undefined) return base === undefined ? undefined : getPathFrom(base, names, i + 1);
    }
    return this.materialize(node as VNode, base, names);
  }

  private overrideFor(names: readonly string[]): readonly [readonly string[], Value] | undefined {
    const ovs = this.ctx.dataOverrides;
    for (let j = ovs.length - 1; j >= 0; j--) {
      const ov = ovs[j] as readonly [readonly string[], Value];
      const p = ov[0];
      if (p.length <= names.length && p.every((s, i) => s === names[i])) return ov;
    }
    return undefined;
  }

  /** Builds the object for a node of the data tree: base data plus the documents of rules. */
  private materialize(node: VNode, base: Value | undefined, names: readonly string[]): Value | undefined {
    const b = new ObjectBuilder();
    if (base instanceof RObject) for (const [k2, v2] of base.unsortedEntries()) b.set(k2, v2);
    else if (base !== undefined && node.children.size === 0) return base;
    for (const [name, child] of node.children) {
      const path = [...names, name];
      const ov = this.overrideFor(path);
      if (ov !== undefined) {
        const v = getPath(ov[1], path.slice(ov[0].length));
        if (v !== undefined) b.set(name, v);
        continue;
      }
      if (child.group !== undefined) {
        if (child.group.kind === "function" && child.group.arity > 0) continue;
        // Where base data and a rule both define a key, the enclosing document shows base data's (OPA).
        if (base instanceof RObject && base.getString(name) !== undefined) continue;
        const v = this.groupValue(child.group);
        if (v !== undefined) b.set(name, v);
        continue;
      }
      const cb = base === undefined ? undefined : lookup(base, name);
      const v = this.materialize(child, cb, path);
      if (v !== undefined) b.set(name, v);
    }
    // Overrides strictly below this node of paths that have no rule node.
    for (const [p, v] of this.ctx.dataOverrides) {
      if (p.length > names.length && names.every((s, i) => s === p[i])) {
        const name = p[names.length] as string;
        if (!node.children.has(name)) {
          const cur = b.get(name);
          b.set(name, setPath(cur, p.slice(names.length + 1), v));
        }
      }
    }
    // Every node of the rule tree is part of its package's extent: an object even when no rule
    // below it is defined (`buz["quz"] := 3 if false` still makes `buz` an empty object).
    return b.build();
  }

  /** Applies ref segments (from index i) to a concrete value. */
  private walkValue(v: Value, path: readonly Term[], i: number, f: Frame, k: VCont): Stop {
    if (i === path.length) return k(v);
    const seg = path[i] as Term;
    if (seg.t === "scalar") {
      const x = lookup(v, seg.value);
      return x === undefined ? false : this.walkValue(x, path, i + 1, f, k);
    }
    if (seg.t === "var") {
      if (seg.name === "_") return forEach(v, (_key, val) => this.walkValue(val, path, i + 1, f, k));
      const slot = slotOf(seg, f);
      const s = f.slots[slot];
      if (s !== undefined && s !== UNBOUND) {
        const x = lookup(v, s);
        return x === undefined ? false : this.walkValue(x, path, i + 1, f, k);
      }
      if (s === UNBOUND || !this.isGlobal(seg.name, f)) {
        return forEach(v, (key, val) => this.bind(slot, key, f, () => this.walkValue(val, path, i + 1, f, k)));
      }
    }
    if (this.isPattern(seg, f)) {
      return forEach(v, (key, val) => this.match(seg, key, f, () => this.walkValue(val, path, i + 1, f, k)));
    }
    return this.evalTerm(seg, f, (key) => {
      const x = lookup(v, key);
      return x === undefined ? false : this.walkValue(x, path, i + 1, f, k);
    });
  }

  // ------------------------------------------------------------------ names

  /**
   * A name that is not a local variable: input, data, an import, or a rule of the module's
   * package. Undefined when the name is free (an output variable).
   */
  private resolveGlobal(name: string, f: Frame): Value | DataPath | undefined {
    if (name === "input") return this.ctx.input === undefined ? new DataPath(["\u0000input"]) : this.ctx.input;
    if (name === "data") return new DataPath([]);
    const imp = f.scope.imports.get(name);
    if (imp !== undefined) {
      if (imp[0] === "data") return new DataPath(imp.slice(1));
      const v = this.ctx.input === undefined ? undefined : getPath(this.ctx.input, imp.slice(1));
      return v === undefined ? new DataPath(["\u0000input"]) : v;
    }
    if (this.packageNode(f.scope)?.children.has(name)) return new DataPath([...f.scope.package, name]);
    return undefined;
  }

  /** Whether a name resolves as resolveGlobal would, without allocating. */
  private isGlobal(name: string, f: Frame): boolean {
    if (name === "input" || name === "data" || f.scope.imports.has(name)) return true;
    return this.packageNode(f.scope)?.children.has(name) === true;
  }

  /**
   * resolveGlobal for a var term (or a ref's head), remembering on the term a resolution to a data
   * document: that depends only on the module, while input-based ones change per query.
   */
  private global(t: VarTerm, f: Frame): Value | DataPath | undefined {
    const name = t.name;
    if (name === "input") return this.resolveGlobal(name, f);
    const info = varInfo(t);
    const hit = info.global;
    if (hit !== undefined && hit.scope === f.scope) return hit.path as DataPath;
    const g = this.resolveGlobal(name, f);
    if (g instanceof DataPath && g.path[0] !== "\u0000input") info.global = { scope: f.scope, path: g };
    return g;
  }

  private packageNode(scope: ModuleScope): VNode | undefined {
    this.pkgNodes ??= new Map();
    let n = this.pkgNodes.get(scope);
    if (n === undefined) {
      n = nodeAt(this.compiled.root, scope.package) ?? null;
      this.pkgNodes.set(scope, n);
    }
    return n ?? undefined;
  }

  private groupAt(path: readonly string[]): RuleGroup | undefined {
    return nodeAt(this.compiled.root, path)?.group;
  }

  // ------------------------------------------------------------------ rules

  private enter(g: RuleGroup, loc: Location | undefined): void {
    if (this.active[g.id] === 1) {
      throw new RegoError("REGO_RECURSION", `recursion detected when evaluating ${g.path.join(".")}`, loc);
    }
    if (++this.depth > this.maxDepth) {
      this.depth--;
      throw new RegoError("REGO_LIMIT_EXCEEDED", `evaluation nested deeper than ${this.maxDepth} rules`, loc);
    }
    this.active[g.id] = 1;
  }

  private leave(g: RuleGroup): void {
    this.active[g.id] = 0;
    this.depth--;
  }

  /** The value of a rule's document, memoised for the query. */
  private groupValue(g: RuleGroup): Value | undefined {
    const cache = this.ctx.cache;
    if (cache.has(g.id)) return cache.get(g.id);
    this.enter(g, g.defs[0]?.rule.loc ?? g.defaultDef?.rule.loc);
    let v: Value | undefined;
    try {
      switch (g.kind) {
        case "complete":
          v = this.evalComplete(g);
          break;
        case "set":
          v = this.evalSet(g);
          break;
        case "object":
          v = this.evalObject(g);
          break;
        case "function":
          v = g.arity === 0 ? this.callUserNoCache(g, [], undefined) : undefined;
          break;
      }
    } finally {
      this.leave(g);
    }
    cache.set(g.id, v);
    return v;
  }

  private newFrame(def: RuleDef): Frame {
    return newFrame(def.layout, def.scope);
  }

  private evalComplete(g: RuleGroup): Value | undefined {
    let result: Value | undefined;
    let resultLoc: Location | undefined;
    for (const def of g.defs) {
      const stop = this.evalRuleBodies(def, this.newFrame(def), (v) => {
        if (result === undefined) {
          result = v;
          resultLoc = def.rule.loc;
        } else if (!equal(result, v)) {
          throw new RegoError(
            "REGO_CONFLICT",
            `complete rules must not produce multiple outputs (rule conflicts with the following rule): ${g.path.join(".")} is both ${formatValue(result)} and ${formatValue(v)}`,
            def.rule.loc,
            { details: { first: resultLoc } },
          );
        }
        return g.constant;
      });
      if (stop) break;
    }
    if (result === undefined && g.defaultDef !== undefined) {
      result = this.evalSingle(g.defaultDef.rule.head.value as Term, this.newFrame(g.defaultDef));
    }
    return result;
  }

  /** Runs a rule's body and else chain; `k` receives each value of the head. */
  private evalRuleBodies(def: RuleDef, f: Frame, k: VCont): Stop {
    const rule = def.rule;
    let found = false;
    const value = rule.head.value;
    const onSolution = (): Stop => {
      // A body whose value is undefined counts as failed, so an else branch may apply.
      if (value === undefined) {
        found = true;
        return k(true);
      }
      if (this.isDirect(value, f)) {
        const v = this.value(value, f);
        if (v === undefined) return false;
        found = true;
        return k(v);
      }
      return this.evalTerm(value, f, (v) => {
        found = true;
        return k(v);
      });
    };
    const stop = rule.body === undefined ? onSolution() : this.evalQuery(rule.body, 0, f, onSolution);
    if (stop || found) return stop;
    for (let e: ElseClause | undefined = rule.else; e !== undefined; e = e.else) {
      let elseFound = false;
      const ev = e.value;
      const s = this.evalQuery(e.body, 0, f, () => {
        if (ev === undefined) {
          elseFound = true;
          return k(true);
        }
        return this.evalTerm(ev, f, (v) => {
          elseFound = true;
          return k(v);
        });
      });
      if (s || elseFound) return s;
    }
    return false;
  }

  private evalSet(g: RuleGroup): Value {
    const out = new Map<string, Value>();
    for (const def of g.defs) {
      const f = this.newFrame(def);
      const elem = def.rule.head.contains as Term;
      // A constant element needs one solution of the body: later ones cannot add anything.
      const once = elem.t === "scalar";
      const onSolution = () =>
        this.evalTerm(elem, f, (v) => {
          out.set(keyOf(v), v);
          return once;
        });
      if (def.rule.body === undefined) onSolution();
      else this.evalQuery(def.rule.body, 0, f, onSolution);
    }
    return new RSet(out);
  }

  private evalObject(g: RuleGroup): Value {
    const root = new Map<string, { key: Value; value: Value | Map<string, unknown> }>();
    type Tree = Map<string, { key: Value; value: Value | Tree }>;
    const put = (tree: Tree, keys: Value[], v: Value, loc: Location, isSet = false): false => {
      const [first, ...rest] = keys as [Value, ...Value[]];
      const ck = keyOf(first);
      const cur = tree.get(ck);
      if (rest.length === 0 && isSet) {
        // `p[a][b] contains x`: the leaf is a set that collects elements.
        let leaf = cur?.value;
        if (!(leaf instanceof Map)) {
          leaf = new Map<string, Value>() as unknown as Tree;
          tree.set(ck, { key: first, value: leaf });
          setLeaves.add(leaf);
        }
        (leaf as unknown as Map<string, Value>).set(keyOf(v), v);
        return false;
      }
      if (rest.length === 0) {
        if (cur !== undefined) {
          const prev = cur.value instanceof Map ? treeToValue(cur.value as Tree) : (cur.value as Value);
          if (!equal(prev, v)) {
            throw new RegoError(
              "REGO_CONFLICT",
              `rules must not produce multiple outputs: object keys must be unique, ${g.path.join(".")}[${formatValue(first)}] is both ${formatValue(prev)} and ${formatValue(v)}`,
              loc,
            );
          }
          return false;
        }
        tree.set(ck, { key: first, value: v });
        return false;
      }
      let sub: Tree;
      if (cur === undefined) {
        sub = new Map();
        tree.set(ck, { key: first, value: sub });
      } else if (cur.value instanceof Map) sub = cur.value as Tree;
      else {
        throw new RegoError(
          "REGO_CONFLICT",
          `rules should not produce multiple outputs: ${g.path.join(".")}[${formatValue(first)}] is both a value and an object`,
          loc,
        );
      }
      return put(sub, rest, v, loc, isSet);
    };
    const setLeaves = new Set<unknown>();
    const treeToValue = (tree: Tree): Value => {
      if (setLeaves.has(tree)) return new RSet(tree as unknown as Map<string, Value>);
      const b = new ObjectBuilder();
      for (const { key, value } of tree.values()) b.set(key, value instanceof Map ? treeToValue(value as Tree) : value);
      return b.build();
    };
    for (const def of g.defs) {
      const f = this.newFrame(def);
      const value = def.rule.head.value;
      const once =
        def.keys.every((t) => t.t === "scalar") &&
        def.rule.head.contains === undefined &&
        (value === undefined || value.t === "scalar");
      const onSolution = (): Stop => {
        if (once) {
          // Constant keys and value: one solution of the body settles the entry.
          const v = value === undefined ? true : (value as { value: Value }).value;
          this.evalItems(def.keys, 0, [], f, (keys) => put(root as Tree, keys, v, def.rule.loc));
          return true;
        }
        return this.evalItems(def.keys, 0, [], f, (keys) =>
          def.rule.head.contains !== undefined
            ? this.evalTerm(def.rule.head.contains, f, (v) => put(root as Tree, keys, v, def.rule.loc, true))
            : def.rule.head.value === undefined
              ? put(root as Tree, keys, true, def.rule.loc)
              : this.evalTerm(def.rule.head.value, f, (v) => {
                  put(root as Tree, keys, v, def.rule.loc);
                  return false;
                }),
        );
      };
      if (def.rule.body === undefined) onSolution();
      else this.evalQuery(def.rule.body, 0, f, onSolution);
    }
    // `default p[k] := v`: the entry at constant keys k when no rule defined one.
    for (const def of g.keyDefaults) {
      const keys = def.keys.map((t) => (t as { value: Value }).value);
      let tree: Tree | undefined = root as Tree;
      for (const k of keys) {
        const e: { value: Value | Tree } | undefined = tree?.get(keyOf(k));
        tree = e?.value instanceof Map ? (e.value as Tree) : undefined;
        if (e === undefined) {
          const v = this.evalSingle(def.rule.head.value as Term, this.newFrame(def));
          if (v !== undefined) put(root as Tree, keys, v, def.rule.loc);
          break;
        }
      }
    }
    return treeToValue(root as Tree);
  }

  // ------------------------------------------------------------------ functions

  private evalCall(t: Extract<Term, { t: "call" }>, f: Frame, k: VCont): Stop {
    if (this.print === undefined && t.fn.length === 1 && t.fn[0] === "print" && !f.scope.imports.has("print")) {
      return k(true);
    }
    if (t.fn.length === 2 && t.fn[0] === "internal" && t.fn[1] === "template_string") {
      const s = this.templateString(t, f);
      return s === undefined ? false : k(s);
    }
    if (t.fn.length === 1 && t.fn[0] === "walk" && t.args.length === 1 && !f.scope.imports.has("walk")) {
      // `[path, value] := walk(x)`: one [path, value] pair per sub-document, as walk(x, out) relates.
      return this.evalTerm(t.args[0] as Term, f, (root) => walkDocument(root, k));
    }
    const fn = this.resolveCall(t, f);
    if (fn.arity >= 0 && t.args.length !== fn.arity) throw arityError(t, fn);
    if (fn.kind === "builtin" && fn.name === "print") return this.doPrint(t.args, f, t.loc, k);
    return this.evalArgs(t.args, 0, t.args.length, [], f, (args) => {
      const r = this.invoke(fn, args, f, t.loc);
      return r === undefined ? false : k(r);
    });
  }

  /**
   * A template string from its pieces (see the parser): texts as they are, each expression's first
   * value (strings unquoted, other values as print shows them), "<undefined>" when it has none.
   */
  private templateString(t: CallTerm, f: Frame): string | undefined {
    const pieces = this.value(t.args[0] as Term, f);
    if (!Array.isArray(pieces)) return undefined;
    let out = "";
    for (const p of pieces as readonly Value[]) {
      if (typeof p === "string") out += p;
      else if (Array.isArray(p)) {
        const v = (p as readonly Value[])[0];
        out += v === undefined ? "<undefined>" : typeof v === "string" ? v : formatValueWith(v, "set()");
      }
    }
    return out;
  }

  private doPrint(args: readonly Term[], f: Frame, loc: Location, k: VCont): Stop {
    const parts = args.map((a) => {
      let v: Value | undefined;
      try {
        this.evalTerm(a, f, (x) => {
          v = x;
          return true;
        });
      } catch (e) {
        if (!(e instanceof RegoError)) throw e;
      }
      return v === undefined ? "<undefined>" : typeof v === "string" ? v : formatValue(v);
    });
    this.print?.(`${loc.file}:${loc.line}: ${parts.join(" ")}`);
    return k(true);
  }

  private evalArgs(
    args: readonly Term[],
    i: number,
    n: number,
    acc: Value[],
    f: Frame,
    k: (xs: Value[]) => Stop,
  ): Stop {
    if (i === n) return k(acc.slice());
    return this.evalTerm(args[i] as Term, f, (v) => {
      acc.push(v);
      try {
        return this.evalArgs(args, i + 1, n, acc, f, k);
      } finally {
        acc.pop();
      }
    });
  }

  /** A built-in by name, if this evaluation may call it. */
  private builtinFor(name: string): ReturnType<typeof lookupBuiltin> {
    if (this.builtins !== undefined && name !== "print" && !this.builtins.has(name)) return undefined;
    return lookupBuiltin(name);
  }

  /**
   * resolveFunction for a call term, remembered on the term: a term belongs to one module, so its
   * resolution only changes while `with` mocks functions.
   */
  private resolveCall(t: CallTerm, f: Frame): ResolvedFn {
    if (this.ctx.mocks.size > 0) return this.resolveFunctionUncached(t.fn, f, t.loc);
    const info = callInfo(t);
    const hit = info.call;
    if (hit !== undefined && hit.scope === f.scope) return hit.fn as ResolvedFn;
    const fn = this.resolveFunctionUncached(t.fn, f, t.loc);
    info.call = { scope: f.scope, fn };
    return fn;
  }

  /** Finds what a call's name denotes: a user function (through imports and packages) or a built-in. */
  resolveFunction(names: readonly string[], f: Frame, loc: Location): ResolvedFn {
    if (this.ctx.mocks.size > 0) return this.resolveFunctionUncached(names, f, loc);
    this.fnCache ??= new Map();
    let perScope = this.fnCache.get(f.scope);
    if (perScope === undefined) {
      perScope = new Map();
      this.fnCache.set(f.scope, perScope);
    }
    const key = names.length === 1 ? (names[0] as string) : names.join(".");
    let fn = perScope.get(key);
    if (fn === undefined) {
      fn = this.resolveFunctionUncached(names, f, loc);
      perScope.set(key, fn);
    }
    return fn;
  }

  private resolveFunctionUncached(names: readonly string[], f: Frame, loc: Location): ResolvedFn {
    const mockKey = (key: string): ResolvedFn | undefined => {
      const m = this.ctx.mocks.get(key);
      return m === undefined ? undefined : { kind: "mock", mock: m, arity: -1, name: key };
    };
    const [head, ...rest] = names as [string, ...string[]];
    let path: string[] | undefined;
    if (head === "data") path = rest;
    else {
      const imp = f.scope.imports.get(head);
      if (imp !== undefined && imp[0] === "data") path = [...imp.slice(1), ...rest];
      else {
        const pkgNode = nodeAt(this.compiled.root, f.scope.package);
        if (pkgNode?.children.has(head)) path = [...f.scope.package, ...names];
      }
    }
    if (path !== undefined) {
      const mocked = mockKey(`data.${path.join(".")}`);
      const g = this.groupAt(path);
      if (g !== undefined && g.kind === "function") {
        if (mocked !== undefined) return { ...mocked, arity: g.arity };
        return { kind: "user", group: g, arity: g.arity, name: path.join(".") };
      }
      if (head === "data" || f.scope.imports.has(head)) {
        throw new RegoError("REGO_UNKNOWN_FUNCTION", `could not find function ${names.join(".")}`, loc);
      }
    }
    const name = names.join(".");
    const b = this.builtinFor(name);
    if (b !== undefined && !(f.scope.v1 && isDeprecatedBuiltin(name))) {
      const mocked = mockKey(name);
      if (mocked !== undefined) return { ...mocked, arity: b.arity };
      return { kind: "builtin", fn: b.fn, arity: b.arity, name };
    }
    throw new RegoError("REGO_UNKNOWN_FUNCTION", `could not find function ${name}`, loc);
  }

  private invoke(fn: ResolvedFn, args: Value[], f: Frame, loc: Location): Value | undefined {
    switch (fn.kind) {
      case "builtin":
        try {
          return fn.fn(args, this.builtinCtx);
        } catch (e) {
          if (e instanceof BuiltinError) {
            if (this.strict) throw e.at(loc);
            return undefined;
          }
          throw e;
        }
      case "user":
        return this.callUser(fn.group, args, loc);
      case "mock": {
        const m = fn.mock;
        if (m.value !== undefined) return m.value;
        // Run the replacement without any mock, as OPA does: a mock may call what it replaces,
        // and one mock does not reach another.
        const saved = this.ctx;
        const inner = new Ctx(saved.input, saved.data, saved.dataOverrides, new Map());
        this.ctx = inner;
        try {
          const target = this.resolveFunction(m.fn as string[], newFrame(new Layout(), m.scope), loc);
          return this.invoke(target, args, f, loc);
        } finally {
          this.ctx = saved;
        }
      }
    }
  }

  private callUser(g: RuleGroup, args: Value[], loc: Location): Value | undefined {
    this.enter(g, loc);
    try {
      return this.callUserNoCache(g, args, loc);
    } finally {
      this.leave(g);
    }
  }

  private callUserNoCache(g: RuleGroup, args: Value[], loc: Location | undefined): Value | undefined {
    let result: Value | undefined;
    let def = g.defs[0] as RuleDef;
    // One closure per call, not per definition: `def` is the definition being evaluated.
    const onValue = (v: Value): Stop => {
      if (result === undefined) result = v;
      else if (!equal(result, v)) {
        throw new RegoError(
          "REGO_CONFLICT",
          `${g.arity === 0 ? "rules should not produce multiple outputs" : "functions must not produce multiple outputs for same inputs"}: ${g.path.join(".")} returned ${formatValue(result)} and ${formatValue(v)}`,
          loc ?? def.rule.loc,
        );
      }
      return g.constant;
    };
    for (let d = 0; d < g.defs.length; d++) {
      def = g.defs[d] as RuleDef;
      const f = this.newFrame(def);
      // The frame is fresh: parameters shadow rules of the same name, nothing to restore.
      const plain = plainParams(def);
      let stop: Stop;
      if (plain !== null) {
        // Distinct variables (the common case): bind each argument in place, nothing can fail.
        for (let i = 0; i < plain.length; i++) {
          const slot = plain[i] as number;
          if (slot >= 0) f.slots[slot] = args[i] as Value;
        }
        stop = this.evalRuleBodies(def, f, onValue);
      } else {
        for (const n of paramVars(def)) f.slots[f.layout.slot(n)] = UNBOUND;
        const params = def.rule.head.args ?? [];
        const current = def;
        // A parameter that computes a value (`f($"{x}")`, `f(concat("", [x]))`) may use variables
        // the body binds: it is compared after the body, as OPA orders it.
        const later = computedParams(def);
        const checkLater = (j: number, v: Value): Stop =>
          j === later.length
            ? onValue(v)
            : this.match(params[later[j] as number] as Term, args[later[j] as number] as Value, f, () =>
                checkLater(j + 1, v),
              );
        const bindArgs = (i: number): Stop =>
          i === params.length
            ? this.evalRuleBodies(current, f, later.length === 0 ? onValue : (v) => checkLater(0, v))
            : later.includes(i)
              ? bindArgs(i + 1)
              : this.match(params[i] as Term, args[i] as Value, f, () => bindArgs(i + 1));
        stop = bindArgs(0);
      }
      if (stop) break;
    }
    if (result === undefined && g.defaultDef !== undefined) {
      result = this.evalSingle(g.defaultDef.rule.head.value as Term, this.newFrame(g.defaultDef));
    }
    return result;
  }
}

export type ResolvedFn =
  | { kind: "builtin"; fn: BuiltinFn; arity: number; name: string }
  | { kind: "user"; group: RuleGroup; arity: number; name: string }
  | { kind: "mock"; mock: Mock; arity: number; name: string };

// -------------------------------------------------------------------- helpers

function staticKeys(t: Extract<Term, { t: "object" }>): Value[] | undefined {
  const out: Value[] = [];
  for (const [k] of t.entries) {
    if (k.t !== "scalar") return undefined;
    out.push(k.value);
  }
  return out;
}

const constants = new WeakMap<Term, Value | null>();

/**
 * The value of a literal made only of scalars, arrays, sets and objects, computed once per AST
 * node: a generated policy's data (policy_data) is one such literal, thousands of terms deep.
 */
function constantOf(t: Term): Value | undefined {
  if (t.t === "scalar") return t.value;
  if (t.t !== "array" && t.t !== "set" && t.t !== "object") return undefined;
  const hit = constants.get(t);
  if (hit !== undefined) return hit === null ? undefined : hit;
  let v: Value | undefined;
  if (t.t === "array" || t.t === "set") {
    const items: Value[] = [];
    for (const x of t.items) {
      const c = constantOf(x);
      if (c === undefined) break;
      items.push(c);
    }
    if (items.length === t.items.length) v = t.t === "array" ? items : RSet.from(items);
  } else {
    const b = new ObjectBuilder();
    let ok = true;
    for (const [kt, vt] of t.entries) {
      const kc = constantOf(kt);
      const vc = kc === undefined ? undefined : constantOf(vt);
      if (kc === undefined || vc === undefined) {
        ok = false;
        break;
      }
      b.set(kc, vc);
    }
    if (ok) v = b.build();
  }
  constants.set(t, v === undefined ? null : v);
  return v;
}

const inVarsCache = new WeakMap<Literal, readonly string[]>();

/** The variables that `some k, v in xs` and `every k, v in xs` declare. */
function inVars(lit: Extract<Literal, { kind: "somein" | "every" }>): readonly string[] {
  let names = inVarsCache.get(lit);
  if (names === undefined) {
    names = [...patternVars(lit.value), ...(lit.key ? patternVars(lit.key) : [])];
    inVarsCache.set(lit, names);
  }
  return names;
}

const paramCache = new WeakMap<RuleDef, string[]>();

const plainCache = new WeakMap<RuleDef, readonly number[] | null>();

/**
 * A function's parameter slots (-1 for `_`) when every parameter is a distinct variable, else
 * null (patterns and repeated names are matched).
 */
function plainParams(def: RuleDef): readonly number[] | null {
  let slots = plainCache.get(def);
  if (slots === undefined) {
    const params = def.rule.head.args ?? [];
    const names: string[] = [];
    for (const p of params) {
      if (p.t !== "var" || (p.name !== "_" && names.includes(p.name))) break;
      names.push(p.name);
    }
    slots = names.length === params.length ? names.map((n) => (n === "_" ? -1 : def.layout.slot(n))) : null;
    plainCache.set(def, slots);
  }
  return slots;
}

function paramVars(def: RuleDef): string[] {
  let names = paramCache.get(def);
  if (names === undefined) {
    names = (def.rule.head.args ?? []).flatMap(patternVars);
    paramCache.set(def, names);
  }
  return names;
}

function isPrint(lit: Literal, f: Frame): boolean {
  return (
    lit.kind === "expr" &&
    !lit.negated &&
    lit.with.length === 0 &&
    lit.expr.t === "call" &&
    lit.expr.fn.length === 1 &&
    lit.expr.fn[0] === "print" &&
    !f.scope.imports.has("print")
  );
}

function isPlainTerm(t: Term): boolean {
  return t.t !== "assign" && t.t !== "unify" && t.t !== "call";
}

function arityError(t: CallTerm, fn: ResolvedFn): RegoError {
  return new RegoError(
    "REGO_COMPILE_ERROR",
    `\`${t.fn.join(".")}\` expects ${fn.arity} argument${fn.arity === 1 ? "" : "s"}, got ${t.args.length}`,
    t.loc,
  );
}

/**
 * A key of the data tree (package and rule names, then base data): `data[1]` means `data["1"]`,
 * as in regorus. Other values are not names of the tree.
 */
function dataKey(key: Value | undefined): string | undefined {
  if (typeof key === "string") return key;
  return typeof key === "number" ? String(key) : undefined;
}

function unsafe(name: string, loc: Location): RegoError {
  return new RegoError("REGO_COMPILE_ERROR", `var \`${name}\` is unsafe: it is used before definition`, loc);
}

function typeNameOf(v: Value): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof RSet) return "set";
  if (v instanceof RObject) return "object";
  return typeof v;
}

export function nodeAt(root: VNode, path: readonly string[]): VNode | undefined {
  let n: VNode | undefined = root;
  for (const p of path) {
    n = n.children.get(p);
    if (n === undefined) return undefined;
  }
  return n;
}

/** Names of the variables a pattern would bind. */
export function patternVars(t: Term): string[] {
  switch (t.t) {
    case "var":
      return t.name === "_" ? [] : [t.name];
    case "array":
      return t.items.flatMap(patternVars);
    case "object":
      return t.entries.flatMap(([, v]) => patternVars(v));
    default:
      return [];
  }
}

function staticNames(t: Term): string[] | undefined {
  if (t.t === "var") return [t.name];
  if (t.t !== "ref" || t.head.t !== "var") return undefined;
  const out = [t.head.name];
  for (const p of t.path) {
    if (p.t !== "scalar" || typeof p.value !== "string") return undefined;
    out.push(p.value);
  }
  return out;
}

function isCollection(v: Value): boolean {
  return Array.isArray(v) || v instanceof RSet || v instanceof RObject;
}

/** The element of a collection at a key (an array index, an object key, a set member). */
export function lookup(v: Value, key: Value): Value | undefined {
  if (v instanceof RObject) return typeof key === "string" ? v.getString(key) : v.get(key);
  if (Array.isArray(v)) {
    if (typeof key !== "number" || !Number.isInteger(key) || key < 0) return undefined;
    return (v as readonly Value[])[key];
  }
  if (v instanceof RSet) return v.has(key) ? key : undefined;
  return undefined;
}

/** getPath(v, path.slice(from)) without the copy. */
function getPathFrom(v: Value, path: readonly string[], from: number): Value | undefined {
  let cur: Value | undefined = v;
  for (let i = from; i < path.length && cur !== undefined; i++) cur = lookupName(cur, path[i] as string);
  return cur;
}

/** A data path name applied to a value: an array takes a name like "2" as its index. */
function lookupName(v: Value, name: string): Value | undefined {
  if (Array.isArray(v)) return /^(0|[1-9][0-9]*)$/.test(name) ? (v as readonly Value[])[Number(name)] : undefined;
  return lookup(v, name);
}

function getPath(v: Value, path: readonly string[]): Value | undefined {
  let cur: Value | undefined = v;
  for (const p of path) {
    if (cur === undefined) return undefined;
    cur = lookupName(cur, p);
  }
  return cur;
}

function setPath(base: Value | undefined, path: readonly string[], v: Value): Value {
  if (path.length === 0) return v;
  const [first, ...rest] = path as [string, ...string[]];
  const b = new ObjectBuilder();
  if (base instanceof RObject) for (const [k, x] of base.unsortedEntries()) b.set(k, x);
  b.set(first, setPath(base instanceof RObject ? base.getString(first) : undefined, rest, v));
  return b.build();
}

function contains(coll: Value, v: Value): boolean {
  if (Array.isArray(coll)) return (coll as readonly Value[]).some((x) => equal(x, v));
  if (coll instanceof RSet) return coll.has(v);
  if (coll instanceof RObject) {
    for (const x of coll.unsortedValues()) if (equal(x, v)) return true;
  }
  return false;
}

/** Calls `k(key, value)` for each element in Rego order; stops when k returns true. */
export function forEach(v: Value, k: (key: Value, val: Value) => Stop): Stop {
  if (Array.isArray(v)) {
    const arr = v as readonly Value[];
    for (let i = 0; i < arr.length; i++) if (k(i, arr[i] as Value)) return true;
    return false;
  }
  if (v instanceof RSet) {
    for (const x of v.values()) if (k(x, x)) return true;
    return false;
  }
  if (v instanceof RObject) {
    for (const [key, x] of v.entries()) if (k(key, x)) return true;
  }
  return false;
}

function isCollectionLiteral(t: Term): boolean {
  return t.t === "array" || t.t === "object" || t.t === "set";
}

/** Calls k([path, v]) for a document and each of its sub-documents, itself first; stops when k does. */
function walkDocument(root: Value, k: (pair: Value) => Stop): Stop {
  const path: Value[] = [];
  const visit = (v: Value): Stop => {
    if (k([path.slice(), v])) return true;
    return forEach(v, (key, child) => {
      path.push(key);
      try {
        return visit(child);
      } finally {
        path.pop();
      }
    });
  };
  return visit(root);
}

/** Whether one of a negated literal's deferring variables is still unbound. */
function mustDefer(vars: readonly VarTerm[], f: Frame): boolean {
  for (let i = 0; i < vars.length; i++) {
    const s: Slot | undefined = f.slots[slotOf(vars[i] as VarTerm, f)];
    if (s === undefined || s === UNBOUND) return true;
  }
  return false;
}

/** Calls `k` for each variable term of a literal (comprehension bodies included), `_` excepted. */
function collectLiteralVars(lit: Literal, k: (v: VarTerm) => void): void {
  const term = (t: Term): void => {
    switch (t.t) {
      case "var":
        if (t.name !== "_") k(t);
        return;
      case "ref":
        term(t.head);
        for (const p of t.path) term(p);
        return;
      case "call":
        for (const a of t.args) term(a);
        return;
      case "array":
      case "set":
        for (const x of t.items) term(x);
        return;
      case "object":
        for (const [a, b] of t.entries) {
          term(a);
          term(b);
        }
        return;
      case "arraycompr":
      case "setcompr":
        term(t.term);
        for (const l of t.body) collectLiteralVars(l, k);
        return;
      case "objectcompr":
        term(t.key);
        term(t.value);
        for (const l of t.body) collectLiteralVars(l, k);
        return;
      case "binop":
      case "assign":
      case "unify":
        term(t.left);
        term(t.right);
        return;
      case "neg":
        term(t.term);
        return;
      case "in":
        if (t.key !== undefined) term(t.key);
        term(t.value);
        term(t.coll);
        return;
      default:
        return;
    }
  };
  switch (lit.kind) {
    case "some":
      return;
    case "expr":
      term(lit.expr);
      break;
    case "somein":
      if (lit.key !== undefined) term(lit.key);
      term(lit.value);
      term(lit.coll);
      break;
    case "every":
      if (lit.key !== undefined) term(lit.key);
      term(lit.value);
      term(lit.coll);
      for (const l of lit.body) collectLiteralVars(l, k);
      break;
  }
  for (const w of lit.with) {
    term(w.target);
    term(w.value);
  }
}

const COMPUTED_PARAMS = new WeakMap<RuleDef, readonly number[]>();

/** The indexes of a function definition's parameters that compute a value, found once. */
function computedParams(def: RuleDef): readonly number[] {
  let out = COMPUTED_PARAMS.get(def);
  if (out === undefined) {
    const params = def.rule.head.args ?? [];
    out = params.map((_, i) => i).filter((i) => hasCall(params[i] as Term));
    COMPUTED_PARAMS.set(def, out);
  }
  return out;
}

/** Whether a term calls a function somewhere (outside comprehension bodies too). */
function hasCall(t: Term): boolean {
  switch (t.t) {
    case "call":
      return true;
    case "ref":
      return hasCall(t.head) || t.path.some(hasCall);
    case "array":
    case "set":
      return t.items.some(hasCall);
    case "object":
      return t.entries.some(([a, b]) => hasCall(a) || hasCall(b));
    case "binop":
      return true;
    default:
      return false;
  }
}
