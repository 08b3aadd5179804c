import type { JsonValue } from "@contrast/core";
import type { Module, Query, Term } from "./ast.js";
import { type CompiledModules, compileModules } from "./compiler.js";
import { assertDialect, type RegoDialect, type RegoDialectId, regoDialect } from "./dialect.js";
import { RegoError } from "./errors.js";
import { type EvalLimits, Evaluator } from "./evaluator.js";
import { Layout, newFrame } from "./frame.js";
import { type ParseOptions, parseModule, parseQuery } from "./parser.js";
import { EMPTY_OBJECT, fromJson, ObjectBuilder, RObject, toJson, type Value } from "./values.js";

export interface PolicySource {
  /** Name used in locations and print output. */
  readonly file: string;
  readonly source: string;
}

export interface CompileOptions {
  /** Parse every module as Rego v1. Default false (v0, with `import rego.v1` opting in). */
  readonly v1?: boolean;
  /** Base data document (JSON). Rules and per-query data are layered over it. */
  readonly data?: unknown;
  /**
   * Refuse modules that another engine could not run (REGO_DIALECT_UNSUPPORTED), e.g.
   * "regorus-0.2.8-kata" for the Kata agent of Contrast v1.5. Default: our engine's full language.
   */
  readonly dialect?: RegoDialect | RegoDialectId;
  /**
   * Evaluate as that engine would: a call of a built-in it lacks is REGO_UNKNOWN_FUNCTION when
   * evaluation reaches it (regorus: "could not find function"), not before. Default: every
   * built-in of ours.
   */
  readonly emulate?: RegoDialect | RegoDialectId;
}

export interface EvalOptions extends EvalLimits {
  /** The input document (JSON). Absent means `input` is undefined. */
  readonly input?: unknown;
  /** Extra data (JSON) merged over the policy's data for this evaluation. */
  readonly data?: unknown;
  /** Built-in errors fail the evaluation (default true) or make the call undefined (false). */
  readonly strict?: boolean;
  /** Receives each `print` line as "<file>:<line>: <text>". */
  readonly print?: (line: string) => void;
  /** Nanoseconds since the epoch for time.now_ns; the library never reads the clock itself. */
  readonly nowNs?: number;
}

export interface QueryResult<V> {
  readonly bindings: Readonly<Record<string, V>>;
  readonly expressions: readonly V[];
}

const QUERY_SCOPE = { package: ["\u0000query"], imports: new Map<string, readonly string[]>(), v1: true };
const QUERY_CACHE_LIMIT = 256;

/** Compiled Rego modules: parse and compile once, evaluate many queries. */
export class Policy {
  readonly modules: readonly Module[];
  private readonly compiled: CompiledModules;
  private readonly data: Value;
  private readonly queries = new Map<string, Query>();
  private readonly paths = new Map<string, readonly string[]>();
  private readonly layouts = new WeakMap<Query, Layout>();

  private constructor(
    modules: readonly Module[],
    data: Value,
    private readonly builtins: ReadonlyMap<string, number> | undefined,
  ) {
    this.modules = modules;
    this.compiled = compileModules(modules);
    this.data = data;
  }

  /** Parses and compiles modules. A plain string is one module named "policy.rego". */
  static compile(sources: string | PolicySource | readonly PolicySource[], options: CompileOptions = {}): Policy {
    const list: readonly PolicySource[] =
      typeof sources === "string"
        ? [{ file: "policy.rego", source: sources }]
        : "file" in sources
          ? [sources]
          : sources;
    const parseOptions = (file: string): ParseOptions => ({
      file,
      ...(options.v1 === undefined ? {} : { v1: options.v1 }),
    });
    const modules = list.map((s) => parseModule(s.source, parseOptions(s.file)));
    if (options.dialect !== undefined) assertDialect(modules, options.dialect);
    const data = options.data === undefined ? EMPTY_OBJECT : fromJson(options.data);
    if (!(data instanceof RObject)) throw new RegoError("REGO_INVALID_INPUT", "data must be a JSON object");
    const emulate = typeof options.emulate === "string" ? regoDialect(options.emulate) : options.emulate;
    return new Policy(modules, data, emulate?.builtins);
  }

  /** The rules' package paths, e.g. ["agent_policy"]. */
  packages(): string[] {
    return [...new Set(this.modules.map((m) => m.package.join(".")))];
  }

  /**
   * Evaluates a document such as "data.agent_policy.CreateContainerRequest" and returns it as
   * JSON, or undefined when the document is undefined.
   */
  evalRule(path: string, options: EvalOptions = {}): JsonValue | undefined {
    const v = this.evalRuleValue(path, options);
    return v === undefined ? undefined : toJson(v);
  }

  /** Like evalRule, with the Rego value (sets stay sets). */
  evalRuleValue(path: string, options: EvalOptions = {}): Value | undefined {
    return this.evaluator(options).dataValue(this.rulePath(path));
  }

  /** The names under `data` of a rule path, checked once per distinct path. */
  private rulePath(path: string): readonly string[] {
    let names = this.paths.get(path);
    if (names === undefined) {
      const all = path.split(".");
      if (all[0] !== "data" || all.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) {
        throw new RegoError("REGO_INVALID_INPUT", `not a rule path: ${JSON.stringify(path)}`, undefined, {
          hint: 'Name a document as data.<package>.<rule>, e.g. "data.agent_policy.CreateContainerRequest".',
        });
      }
      names = all.slice(1);
      if (this.paths.size >= QUERY_CACHE_LIMIT) this.paths.clear();
      this.paths.set(path, names);
    }
    return names;
  }

  /** Evaluates a query; bindings and expression values come out as JSON. */
  query(query: string, options: EvalOptions = {}): QueryResult<JsonValue>[] {
    return this.queryValues(query, options).map((r) => {
      const bindings: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(r.bindings)) {
        Object.defineProperty(bindings, k, { value: toJson(v), enumerable: true, writable: true, configurable: true });
      }
      return { bindings, expressions: r.expressions.map(toJson) };
    });
  }

  /**
   * Evaluates a query with Rego values. A query of one plain expression reports its value even
   * when it is false (as regorus does); otherwise every expression must hold.
   */
  queryValues(query: string, options: EvalOptions = {}): QueryResult<Value>[] {
    const q = this.parseQueryCached(query);
    const ev = this.evaluator(options);
    const frame = newFrame(this.layoutOf(q), QUERY_SCOPE);
    const names = queryVars(q).filter((n) => ev.isFree(n, frame));
    const results: QueryResult<Value>[] = [];
    const collect = (expressions: Value[]) => {
      const bindings: Record<string, Value> = {};
      for (const n of names) {
        const v = Evaluator.slotValue(frame, n);
        if (v !== undefined) {
          Object.defineProperty(bindings, n, { value: v, enumerable: true, writable: true, configurable: true });
        }
      }
      results.push({ bindings, expressions });
      return false;
    };
    const only = q[0];
    if (
      q.length === 1 &&
      only !== undefined &&
      only.kind === "expr" &&
      !only.negated &&
      only.with.length === 0 &&
      only.expr.t !== "assign" &&
      only.expr.t !== "unify" &&
      only.expr.t !== "call"
    ) {
      ev.runTerm(only.expr, frame, (v) => collect([v]));
    } else {
      ev.runQueryCapturing(q, frame, collect);
    }
    return results;
  }

  /** A query's variable slots: one layout per parsed query, as its terms remember their slots. */
  private layoutOf(q: Query): Layout {
    let layout = this.layouts.get(q);
    if (layout === undefined) {
      layout = new Layout();
      this.layouts.set(q, layout);
    }
    return layout;
  }

  private parseQueryCached(query: string): Query {
    let q = this.queries.get(query);
    if (q === undefined) {
      q = parseQuery(query);
      if (this.queries.size >= QUERY_CACHE_LIMIT) this.queries.clear();
      this.queries.set(query, q);
    }
    return q;
  }

  private evaluator(options: EvalOptions): Evaluator {
    let data = this.data;
    if (options.data !== undefined) {
      const extra = fromJson(options.data);
      if (!(extra instanceof RObject)) throw new RegoError("REGO_INVALID_INPUT", "data must be a JSON object");
      data = mergeObjects(data as RObject, extra);
    }
    return new Evaluator(
      this.compiled,
      {
        input: options.input === undefined ? undefined : fromJson(options.input),
        data,
        ...(options.strict === undefined ? {} : { strict: options.strict }),
        ...(options.print === undefined ? {} : { print: options.print }),
        ...(options.nowNs === undefined ? {} : { nowNs: options.nowNs }),
        ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
        ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
      },
      this.builtins,
    );
  }
}

function mergeObjects(a: RObject, b: RObject): RObject {
  const out = new ObjectBuilder();
  for (const [k, v] of a.unsortedEntries()) out.set(k, v);
  for (const [k, v] of b.unsortedEntries()) {
    const prev = a.get(k);
    out.set(k, prev instanceof RObject && v instanceof RObject ? mergeObjects(prev, v) : v);
  }
  return out.build();
}

/** Variables a query mentions, in order of first appearance, outside comprehension bodies. */
function queryVars(q: Query): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (n: string) => {
    if (n === "_" || n.startsWith("__") || seen.has(n)) return;
    seen.add(n);
    out.push(n);
  };
  const term = (t: Term): void => {
    switch (t.t) {
      case "var":
        add(t.name);
        return;
      case "ref":
        term(t.head);
        t.path.forEach(term);
        return;
      case "call":
        t.args.forEach(term);
        return;
      case "array":
      case "set":
        t.items.forEach(term);
        return;
      case "object":
        for (const [k, v] of t.entries) {
          term(k);
          term(v);
        }
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
        if (t.key) term(t.key);
        term(t.value);
        term(t.coll);
        return;
      default:
        return;
    }
  };
  for (const lit of q) {
    if (lit.kind === "some") lit.vars.forEach(add);
    else if (lit.kind === "somein") {
      if (lit.key) term(lit.key);
      term(lit.value);
      term(lit.coll);
    } else if (lit.kind === "every") term(lit.coll);
    else if (!lit.negated) term(lit.expr);
  }
  return out.filter((n) => n !== "input" && n !== "data");
}
