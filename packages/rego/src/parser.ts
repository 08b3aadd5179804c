import type {
  BinaryOp,
  ElseClause,
  Import,
  Literal,
  Module,
  Query,
  Rule,
  RuleHead,
  Term,
  WithModifier,
} from "./ast.js";
import { type Location, RegoParseError } from "./errors.js";
import { type Token, tokenize } from "./lexer.js";

export interface ParseOptions {
  /** File name for locations and messages. Default "policy.rego". */
  readonly file?: string;
  /**
   * Parse as Rego v1 (`if` and `contains` required, keywords always on). Default false: Rego v0,
   * as Kata agent policies are written; a module can opt into v1 with `import rego.v1`.
   */
  readonly v1?: boolean;
  /** Deepest nesting of terms. Default 200. */
  readonly maxDepth?: number;
}

const RELATIONAL = new Set(["==", "!=", "<", "<=", ">", ">="]);
const ARITH = new Set(["+", "-"]);
const FACTOR = new Set(["*", "/", "%"]);
const UNION = new Set(["|"]);
const INTERSECTION = new Set(["&"]);
/** Words that cannot name a variable. */
const RESERVED = new Set([
  "package",
  "import",
  "default",
  "not",
  "with",
  "as",
  "some",
  "every",
  "in",
  "if",
  "contains",
  "else",
  "true",
  "false",
  "null",
]);

type ExprLiteral = Extract<Literal, { kind: "expr" }>;

/** Parses one Rego module. */
export function parseModule(source: string, options: ParseOptions = {}): Module {
  const p = new Parser(source, options);
  return p.module();
}

/** Parses a query: literals separated by `;` or new lines. */
export function parseQuery(source: string, options: ParseOptions = {}): Query {
  const p = new Parser(source, { ...options, file: options.file ?? "<query>" });
  return p.topQuery();
}

class Parser {
  private readonly toks: Token[];
  private i = 0;
  private readonly file: string;
  private v1: boolean;
  /** `not { ... }` negates a body: `import future.keywords.not` opts in. */
  private notBody = false;
  /** `and` / `or` between literals: `import future.keywords.and` / `.or` opt in. */
  private logicAnd = false;
  private logicOr = false;
  private depth = 0;
  private readonly maxDepth: number;

  constructor(source: string, options: ParseOptions) {
    this.file = options.file ?? "policy.rego";
    this.toks = tokenize(source, this.file);
    this.v1 = options.v1 ?? false;
    this.maxDepth = options.maxDepth ?? 200;
  }

  // ---- token helpers

  private get tok(): Token {
    return this.toks[this.i] as Token;
  }

  private loc(t: Token = this.tok): Location {
    return { file: this.file, line: t.line, column: t.column };
  }

  private err(msg: string, t: Token = this.tok): RegoParseError {
    return new RegoParseError(msg, this.loc(t));
  }

  private isOp(text: string, t: Token = this.tok): boolean {
    return t.kind === "op" && t.text === text;
  }

  /** The keyword `text` here; a keyword that starts a reference (`in.foo`, `true.x`) is a name. */
  private isKw(text: string, t: Token = this.tok): boolean {
    return t.kind === "ident" && t.text === text && !(t === this.tok && this.keywordRef());
  }

  /**
   * Whether the current token is a word followed directly by `.name`: OPA reads any keyword in
   * that position as the first part of a reference (`as.foo := 1`, `default.x`, `true.y`).
   */
  private keywordRef(): boolean {
    const dot = this.toks[this.i + 1];
    const name = this.toks[this.i + 2];
    return (
      dot !== undefined &&
      name !== undefined &&
      this.isOp(".", dot) &&
      !dot.spaceBefore &&
      name.kind === "ident" &&
      !name.spaceBefore
    );
  }

  private next(): Token {
    const t = this.tok;
    if (t.kind !== "eof") this.i++;
    return t;
  }

  private expectOp(text: string): Token {
    if (!this.isOp(text)) throw this.err(`expecting \`${text}\`, found ${this.describe()}`);
    return this.next();
  }

  private describe(t: Token = this.tok): string {
    if (t.kind === "eof") return "end of input";
    if (t.kind === "string") return JSON.stringify(t.text);
    return `\`${t.text}\``;
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) throw this.err(`expression nested deeper than ${this.maxDepth} levels`);
  }

  // ---- module

  module(): Module {
    const start = this.tok;
    if (!this.isKw("package")) throw this.err("expecting `package`");
    this.next();
    const pkg = this.packagePath();
    const imports: Import[] = [];
    const rules: Rule[] = [];
    let sawRegoV1 = false;
    let sawFuture = false;
    while (this.tok.kind !== "eof") {
      if (this.isKw("import")) {
        if (rules.length > 0) throw this.err("unexpected keyword `import`: imports must come before rules");
        const imp = this.importDecl();
        const joined = imp.path.join(".");
        if (joined === "rego.v1") {
          if (sawRegoV1 || sawFuture) throw this.err("this import shadows previous import", this.toks[this.i - 1]);
          sawRegoV1 = true;
          this.v1 = true;
        } else if (imp.path[0] === "future") {
          if (sawRegoV1) throw this.err("this import shadows previous import", this.toks[this.i - 1]);
          sawFuture = true;
          if (imp.path[2] === "not") this.notBody = true;
          if (imp.path[2] === "and") this.logicAnd = true;
          if (imp.path[2] === "or") this.logicOr = true;
        }
        imports.push(imp);
        continue;
      }
      if (this.isKw("package")) throw this.err("unexpected keyword `package`");
      rules.push(...this.ruleDecl());
    }
    return { file: this.file, package: pkg, imports, rules, v1: this.v1, loc: this.loc(start) };
  }

  private packagePath(): string[] {
    const out: string[] = [];
    const first = this.next();
    if (first.kind !== "ident") throw this.err("expecting package name", first);
    out.push(first.text);
    for (;;) {
      if (this.isOp(".") && !this.tok.spaceBefore) {
        this.next();
        const t = this.next();
        if (t.kind !== "ident") throw this.err("expecting identifier after `.`", t);
        if (t.spaceBefore) throw this.err("invalid whitespace between . and identifier", t);
        out.push(t.text);
      } else if (this.isOp("[") && !this.tok.spaceBefore) {
        this.next();
        const t = this.next();
        if (t.kind !== "string" && t.kind !== "rawstring") throw this.err("expected string literal", t);
        out.push(t.text);
        this.expectOp("]");
      } else break;
    }
    return out;
  }

  private importDecl(): Import {
    const start = this.next(); // import
    const path: string[] = [];
    const first = this.next();
    if (first.kind !== "ident") throw this.err("expecting import path", first);
    path.push(first.text);
    while ((this.isOp(".") || this.isOp("[")) && !this.tok.spaceBefore) {
      if (this.next().text === ".") {
        const t = this.next();
        if (t.kind !== "ident") throw this.err("expecting identifier", t);
        path.push(t.text);
      } else {
        const t = this.next();
        if (t.kind !== "string" && t.kind !== "rawstring") throw this.err("expected string literal", t);
        path.push(t.text);
        this.expectOp("]");
      }
    }
    if (!["data", "input", "future", "rego"].includes(first.text)) {
      throw this.err("import path must begin with one of: {data, future, input, rego}", first);
    }
    if (first.text === "future" && (path[1] !== "keywords" || path.length > 3)) {
      throw this.err("invalid import of future keywords", first);
    }
    let alias: string | undefined;
    if (this.isKw("as") && !this.tok.newlineBefore) {
      this.next();
      const a = this.next();
      if (a.kind !== "ident") throw this.err("expecting alias name", a);
      alias = a.text;
    }
    return { path, alias, loc: this.loc(start) };
  }

  // ---- rules

  private ruleDecl(): Rule[] {
    const start = this.tok;
    let isDefault = false;
    if (this.isKw("default")) {
      isDefault = true;
      this.next();
    }
    const head = this.ruleHead(isDefault);
    if (isDefault) {
      if (head.value === undefined) throw this.err("default rule must have a value", start);
      this.checkDefaultValue(head.value);
      return [{ default: true, head, body: undefined, usesIf: false, else: undefined, loc: this.loc(start) }];
    }
    const rules: Rule[] = [];
    let usesIf = false;
    let body: Query | undefined;
    if (this.isKw("if") && !this.tok.newlineBefore) {
      this.next();
      usesIf = true;
      body = this.ifBody();
    } else if (this.isOp("{") && !this.tok.newlineBefore) {
      if (this.v1) throw this.err("`if` keyword is required before rule body");
      body = this.braceQuery();
    }
    if (body === undefined && head.value === undefined && head.contains === undefined && head.args === undefined) {
      if (head.path.length === 0) throw this.err("rule must have a body or assignment", start);
      if (this.v1) {
        throw this.err(
          head.path.length === 1
            ? "`contains` keyword is required for partial set rules"
            : "rule must have a body or assignment",
          start,
        );
      }
    }
    if (body === undefined && head.args !== undefined && head.value === undefined) {
      throw this.err("rule must have a body", start);
    }
    const elseClause = this.elseChain();
    rules.push({ default: false, head, body, usesIf, else: elseClause, loc: this.loc(start) });
    // v0: `p { a } { b }` defines p twice.
    while (this.isOp("{") && !this.v1 && body !== undefined && elseClause === undefined) {
      const extra = this.braceQuery();
      rules.push({ default: false, head, body: extra, usesIf: false, else: undefined, loc: this.loc(start) });
    }
    return rules;
  }

  private ifBody(): Query {
    if (this.isOp("{")) {
      // `if {x: i | ...}` is a one-expression body whose term is a comprehension (or object, set):
      // what does not parse as a body parses as a literal, as in OPA.
      const save = this.i;
      const depth = this.depth;
      try {
        return this.braceQuery();
      } catch (e) {
        if (!(e instanceof RegoParseError)) throw e;
        this.i = save;
        this.depth = depth;
        try {
          return [this.literal()];
        } catch {
          throw e;
        }
      }
    }
    const lit = this.literal();
    return [lit];
  }

  private elseChain(): ElseClause | undefined {
    if (!this.isKw("else")) return undefined;
    const start = this.next();
    let value: Term | undefined;
    let assign: ":=" | "=" | undefined;
    if (this.isOp("=") || this.isOp(":=")) {
      assign = this.next().text as ":=" | "=";
      value = this.expr();
    }
    let body: Query;
    let usesIf = false;
    if (this.isKw("if")) {
      this.next();
      usesIf = true;
      body = this.ifBody();
    } else if (this.isOp("{")) {
      if (this.v1) throw this.err("`if` keyword is required before rule body");
      body = this.braceQuery();
    } else {
      body = [];
    }
    return { value, assign, body, ...(usesIf ? { usesIf } : {}), else: this.elseChain(), loc: this.loc(start) };
  }

  private checkDefaultValue(t: Term): void {
    const bad = invalidInDefault(t);
    if (bad !== undefined) throw new RegoParseError(`invalid \`${bad[0]}\` in default value`, bad[1].loc);
  }

  private ruleHead(isDefault: boolean): RuleHead {
    const start = this.tok;
    const keywordName = this.keywordRef();
    const nameTok = this.next();
    if (nameTok.kind !== "ident") throw this.err(`unexpected ${this.describe(nameTok)}: expecting a rule`, nameTok);
    if (RESERVED.has(nameTok.text) && nameTok.text !== "contains" && nameTok.text !== "if" && !keywordName) {
      throw this.err(`unexpected keyword \`${nameTok.text}\``, nameTok);
    }
    const path: Term[] = [];
    for (;;) {
      if (this.isOp(".") && !this.tok.spaceBefore) {
        this.next();
        const t = this.next();
        if (t.kind !== "ident") throw this.err("expecting identifier after `.`", t);
        if (t.spaceBefore) throw this.err("invalid whitespace between . and identifier", t);
        path.push({ t: "scalar", value: t.text, loc: this.loc(t) });
      } else if (this.isOp("[") && !this.tok.spaceBefore) {
        this.next();
        path.push(this.expr());
        this.expectOp("]");
      } else break;
    }
    let args: Term[] | undefined;
    if (this.isOp("(") && !this.tok.spaceBefore) {
      this.next();
      args = this.callArgs();
    }
    let contains: Term | undefined;
    let value: Term | undefined;
    let assign: ":=" | "=" | undefined;
    if (this.isKw("contains") && !this.tok.newlineBefore && !isDefault) {
      this.next();
      contains = this.expr();
    } else if ((this.isOp("=") || this.isOp(":=")) && !this.tok.newlineBefore) {
      assign = this.next().text as ":=" | "=";
      value = this.expr();
    }
    // v0: `p[x] { ... }` without a value is a partial set rule.
    const last = path[path.length - 1];
    if (
      !this.v1 &&
      !isDefault &&
      contains === undefined &&
      value === undefined &&
      args === undefined &&
      path.length === 1 &&
      last?.t === "scalar" &&
      this.lastSegmentWasDot() &&
      this.isOp("{")
    ) {
      // v0: `x.a { ... }` adds "a" to the set x (regorus and OPA v0 read it so).
      return { name: nameTok.text, path: [], args, contains: last, value, assign, loc: this.loc(start) };
    }
    if (
      contains === undefined &&
      value === undefined &&
      args === undefined &&
      last !== undefined &&
      !isDefault &&
      !this.v1 &&
      path.length === 1 &&
      !this.isKw("if") &&
      !(last.t === "scalar" && this.lastSegmentWasDot())
    ) {
      contains = last;
      path.pop();
    } else if (this.v1 && contains === undefined && value === undefined && args === undefined && last !== undefined) {
      if (!(last.t === "scalar" && this.lastSegmentWasDot()) && !this.isKw("if")) {
        throw this.err("`contains` keyword is required for partial set rules", start);
      }
    }
    return { name: nameTok.text, path, args, contains, value, assign, loc: this.loc(start) };
  }

  /** Whether the head's last segment was written `.name` (a rule name) rather than `[term]`. */
  private lastSegmentWasDot(): boolean {
    // Walk back over the tokens of the head: `]` means a bracket segment.
    const j = this.i - 1;
    while (j >= 0) {
      const t = this.toks[j] as Token;
      if (t.kind === "op" && t.text === "]") return false;
      if (t.kind === "ident") return j > 0 && this.isOp(".", this.toks[j - 1]);
      return false;
    }
    return false;
  }

  // ---- queries

  topQuery(): Query {
    const out: Literal[] = [];
    while (this.tok.kind !== "eof") {
      out.push(this.literal());
      if (this.isOp(";")) {
        this.next();
        continue;
      }
      if ((this.tok as Token).kind === "eof") break;
      if (!this.tok.newlineBefore) throw this.err(`expecting EOF, found ${this.describe()}`);
    }
    if (out.length === 0) throw this.err("empty query");
    return out;
  }

  private braceQuery(): Query {
    this.expectOp("{");
    const out: Literal[] = [];
    while (!this.isOp("}")) {
      if ((this.tok as Token).kind === "eof") throw this.err("expecting `}`, found end of input");
      out.push(this.literal());
      if (this.isOp(";")) {
        this.next();
        continue;
      }
      if (this.isOp("}")) break;
      if (!this.tok.newlineBefore) throw this.err(`unexpected ${this.describe()}: expecting \`;\` or a new line`);
    }
    this.next();
    if (out.length === 0) throw this.err("empty rule body", this.toks[this.i - 1]);
    return out;
  }

  private literal(): Literal {
    const start = this.tok;
    const loc = this.loc(start);
    if (this.isKw("some") || this.isKw("every")) {
      const isEvery = this.next().text === "every";
      const terms: Term[] = [this.relation()];
      while (this.isOp(",")) {
        this.next();
        terms.push(this.relation());
      }
      if (this.isKw("in")) {
        if (terms.length > 2) throw this.err("expecting `in` after one or two terms");
        this.next();
        const coll = this.relation();
        const key = terms.length === 2 ? terms[0] : undefined;
        const value = terms[terms.length - 1] as Term;
        if (!isEvery) return { kind: "somein", key, value, coll, with: this.withMods(), loc };
        if (key !== undefined) this.varName(key);
        this.varName(value);
        const body = this.braceQuery();
        return { kind: "every", key, value, coll, body, with: this.withMods(), loc };
      }
      if (isEvery) throw this.err("expecting `in` in every");
      return { kind: "some", vars: terms.map((t) => this.varName(t)), loc };
    }
    if (this.logicAnd || this.logicOr) return this.logicLiteral(loc);
    return { ...this.exprLiteral(loc), with: this.withMods() };
  }

  /**
   * `a and b`, `a or b` (`not` binds tighter, then `and`, then `or`); an operand is an expression,
   * `not` an operand, or a `{ body }`. Each operand is a test that holds at most once and keeps its
   * variables to itself, so the operators are built from existence tests over comprehensions:
   * `A and B` holds when each has a solution, `A or B` as `not { not A; not B }`, which leaves B
   * unevaluated once A holds. A trailing `with` applies to the whole expression.
   */
  private logicLiteral(loc: Location): Literal {
    const [q, combined] = this.logicDisjunction(loc);
    const mods = this.withMods();
    const only = q[0] as Literal;
    if (q.length === 1 && only.kind === "expr") return { ...(only as ExprLiteral), with: [...only.with, ...mods] };
    return combined ? { ...existsLiteral(q, loc), with: mods } : only;
  }

  private logicDisjunction(loc: Location): [Query, boolean] {
    const first = this.logicConjunction(loc);
    if (!this.logicOr || !this.isKw("or")) return first;
    const parts = [first[0]];
    while (this.isKw("or")) {
      this.next();
      parts.push(this.logicConjunction(loc, true)[0]);
    }
    return [
      [
        negatedLiteral(
          parts.map((p) => negatedLiteral(p, loc)),
          loc,
        ),
      ],
      true,
    ];
  }

  private logicConjunction(loc: Location, operand = false): [Query, boolean] {
    const first = this.logicOperand(loc, operand);
    if (!this.logicAnd || !this.isKw("and")) return [first, false];
    const parts = [first];
    while (this.isKw("and")) {
      this.next();
      parts.push(this.logicOperand(loc, true));
    }
    return [parts.map((p) => existsLiteral(p, loc)), true];
  }

  /** `operand`: after `and`/`or`, where a `{` always starts a body. */
  private logicOperand(loc: Location, operand = false): Query {
    this.enter();
    try {
      return this.logicOperandInner(loc, operand);
    } finally {
      this.depth--;
    }
  }

  private logicOperandInner(loc: Location, operand: boolean): Query {
    if (this.isKw("not") && !this.isOp("{", this.toks[this.i + 1])) {
      this.next();
      const inner = this.logicOperand(loc, operand);
      const only = inner[0];
      if (inner.length === 1 && only?.kind === "expr" && !only.negated) return [{ ...only, negated: true }];
      return [negatedLiteral(inner, loc)];
    }
    if (this.isOp("(")) {
      // `(a or b) and c`, `not (a or b)`, `(a with ...) and b`: a group of operands when the
      // closing parenthesis ends the operand; otherwise the parentheses belong to an expression.
      const save = this.i;
      const depth = this.depth;
      try {
        this.next();
        const [q] = this.logicDisjunction(loc);
        const mods = this.withMods();
        if (this.isOp(")")) {
          this.next();
          const ends = this.tok.kind === "eof" || this.tok.newlineBefore || this.isKw("and") || this.isKw("or");
          if (ends || this.isOp(")") || this.isOp("}") || this.isOp(";") || this.isOp("]") || this.isKw("with")) {
            const only = q[0] as Literal;
            if (mods.length === 0) return q;
            return [
              q.length === 1 && only.kind === "expr"
                ? { ...(only as ExprLiteral), with: [...only.with, ...mods] }
                : { ...existsLiteral(q, loc), with: mods },
            ];
          }
        }
      } catch (e) {
        if (!(e instanceof RegoParseError)) throw e;
      }
      this.i = save;
      this.depth = depth;
    }
    if (this.isOp("{")) {
      // `{ body } and ...`: an explicit body; otherwise the brace starts a set or object term.
      const save = this.i;
      const depth = this.depth;
      try {
        const body = this.braceQuery();
        if (operand || this.isKw("and") || this.isKw("or")) return body;
      } catch (e) {
        if (!(e instanceof RegoParseError)) throw e;
      }
      this.i = save;
      this.depth = depth;
    }
    return [this.exprLiteral(loc)];
  }

  /** An expression literal without its `with` modifiers: `not { body }`, `not e`, `e`, `k, v in xs`. */
  private exprLiteral(loc: Location): ExprLiteral {
    let negated = false;
    if (this.isKw("not")) {
      this.next();
      negated = true;
      if (this.notBody && this.isOp("{")) {
        // `not { body }` holds when the body has no solution: the negation of a comprehension's
        // first element, whose body sees the enclosing variables as a comprehension's does.
        this.enter();
        try {
          return negatedLiteral(this.braceQuery(), loc);
        } finally {
          this.depth--;
        }
      }
    }
    let expr = this.expr();
    if (!negated && this.isOp(",")) {
      // `k, v in coll` as an expression, also on the right of `:=`/`=` (`x := k, v in coll`);
      // a further `in` takes its result as the element (`k, v in xs in ys`).
      this.next();
      const v = this.relation();
      if (!this.isKw("in")) throw this.err("expecting `in`");
      this.next();
      const coll = this.relation();
      const bound = expr.t === "assign" || expr.t === "unify" ? expr : undefined;
      let m: Term = { t: "in", key: bound?.right ?? expr, value: v, coll, loc: (bound?.right ?? expr).loc };
      while (this.isKw("in")) {
        this.next();
        m = { t: "in", key: undefined, value: m, coll: this.relation(), loc: m.loc };
      }
      expr = bound === undefined ? m : { ...bound, right: m };
    }
    return { kind: "expr", negated, expr, with: [], loc };
  }

  private varName(t: Term): string {
    if (t.t !== "var") throw new RegoParseError("expecting a variable", t.loc);
    return t.name;
  }

  private withMods(): WithModifier[] {
    const out: WithModifier[] = [];
    while (this.isKw("with")) {
      const start = this.next();
      const target = this.term();
      if (!this.isKw("as")) throw this.err("expecting `as`");
      this.next();
      const value = this.relation();
      out.push({ target, value, loc: this.loc(start) });
    }
    return out;
  }

  // ---- expressions

  /** An expression; `noIn` stops before `in` (for `some x in xs`, which parses `in` itself). */
  expr(noIn = false): Term {
    const left = noIn ? this.membership(true) : this.membership(false);
    if (this.isOp(":=") || this.isOp("=")) {
      const op = this.next().text;
      const right = this.membership(false);
      return op === ":=" ? { t: "assign", left, right, loc: left.loc } : { t: "unify", left, right, loc: left.loc };
    }
    return left;
  }

  private membership(single: boolean): Term {
    let left = this.relation();
    while (this.isKw("in")) {
      this.next();
      const coll = this.relation();
      left = { t: "in", key: undefined, value: left, coll, loc: left.loc };
      if (single) break;
    }
    return left;
  }

  private relation(): Term {
    return this.binaryLevel(RELATIONAL, () => this.union());
  }

  private union(): Term {
    return this.binaryLevel(UNION, () => this.intersection());
  }

  private intersection(): Term {
    return this.binaryLevel(INTERSECTION, () => this.arith());
  }

  private arith(): Term {
    return this.binaryLevel(ARITH, () => this.factor());
  }

  private factor(): Term {
    return this.binaryLevel(FACTOR, () => this.unary());
  }

  /** Arguments after "(": expressions separated by commas, then ")". */
  private callArgs(): Term[] {
    const args: Term[] = [];
    if (!this.isOp(")")) {
      for (;;) {
        args.push(this.expr());
        if (!this.isOp(",")) break;
        this.next();
        if (this.isOp(")")) break; // a trailing comma, as OPA allows
      }
    }
    this.expectOp(")");
    return args;
  }

  /** One left-associative precedence level: operand (op operand)*. */
  private binaryLevel(ops: ReadonlySet<string>, operand: () => Term): Term {
    let left = operand();
    while (this.tok.kind === "op" && ops.has(this.tok.text)) {
      const op = this.next().text as BinaryOp;
      const right = operand();
      left = { t: "binop", op, left, right, loc: left.loc };
    }
    return left;
  }

  private unary(): Term {
    if (this.isOp("-")) {
      const minus = this.next();
      if (this.tok.kind !== "number") throw this.err("unary - can only be used with numeric literals", minus);
      const t = this.next();
      return this.refSuffix({ t: "scalar", value: -Number(t.text), loc: this.loc(minus) });
    }
    return this.term();
  }

  term(): Term {
    this.enter();
    try {
      return this.refSuffix(this.primary());
    } finally {
      this.depth--;
    }
  }

  private primary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    switch (t.kind) {
      case "number": {
        this.next();
        const n = Number(t.text);
        if (!Number.isFinite(n)) throw this.err("number literal out of range", t);
        return { t: "scalar", value: n, loc };
      }
      case "string":
        this.next();
        return { t: "scalar", value: t.text, loc };
      case "rawstring":
        this.next();
        return { t: "scalar", value: t.text, raw: true, loc };
      case "template":
        this.next();
        return this.templateString(t, loc);
      case "ident": {
        if (this.keywordRef()) {
          this.next();
          return { t: "var", name: t.text, loc };
        }
        if (t.text === "true" || t.text === "false") {
          this.next();
          return { t: "scalar", value: t.text === "true", loc };
        }
        if (t.text === "null") {
          this.next();
          return { t: "scalar", value: null, loc };
        }
        if (RESERVED.has(t.text) && t.text !== "contains" && t.text !== "if") {
          throw this.err(`unexpected keyword \`${t.text}\``);
        }
        this.next();
        return { t: "var", name: t.text, loc };
      }
      case "op":
        break;
      case "eof":
        throw this.err("unexpected end of input: expecting a term");
    }
    if (t.text === "(") {
      this.next();
      let inner = this.expr();
      if (this.isOp(",")) {
        // `(k, v in xs)`: membership with a key, as a term.
        this.next();
        const value = this.relation();
        if (!this.isKw("in")) throw this.err("expecting `in`");
        this.next();
        inner = { t: "in", key: inner, value, coll: this.relation(), loc: inner.loc };
      }
      this.expectOp(")");
      return inner;
    }
    if (t.text === "[") return this.arrayOrCompr();
    if (t.text === "{") return this.objectOrSet();
    throw this.err(`unexpected ${this.describe()}: expecting a term`);
  }

  /**
   * `$"a {x} b"`: a call of internal.template_string with one array of pieces, each literal text
   * as a string and each `{expr}` (or `{expr with ...}`) as the comprehension of its values, so
   * that an undefined expression shows as "<undefined>" instead of making the string undefined.
   */
  private templateString(t: Token, loc: Location): Term {
    const items: Term[] = (t.parts ?? []).map((part) => {
      if ("text" in part) return { t: "scalar", value: part.text, loc };
      const sub = new Parser(part.source, { file: this.file, v1: this.v1, maxDepth: this.maxDepth - this.depth });
      const expr = sub.expr();
      const mods = sub.withMods();
      if (sub.tok.kind !== "eof") throw this.err(`unexpected ${sub.describe()} in template expression`, t);
      const value: Term = { t: "var", name: "__template_value", loc };
      const body: Literal = {
        kind: "expr",
        negated: false,
        expr: { t: "assign", left: value, right: expr, loc },
        with: mods,
        loc,
      };
      return { t: "arraycompr", term: value, body: [body], loc };
    });
    return { t: "call", fn: ["internal", "template_string"], args: [{ t: "array", items, loc }], loc };
  }

  private refSuffix(head: Term): Term {
    let path: Term[] = [];
    let current = head;
    for (;;) {
      const t = this.tok;
      if (t.spaceBefore) break;
      if (this.isOp(".")) {
        this.next();
        const name = this.tok;
        if (name.kind !== "ident") throw this.err("expecting identifier after `.`");
        if (name.spaceBefore) throw this.err("invalid whitespace between . and identifier");
        this.next();
        path.push({ t: "scalar", value: name.text, loc: this.loc(name) });
      } else if (this.isOp("[")) {
        this.next();
        path.push(this.expr());
        this.expectOp("]");
      } else if (this.isOp("(")) {
        const fn = this.callName(current, path);
        if (fn === undefined) throw this.err("invalid function name");
        this.next();
        const args = this.callArgs();
        current =
          fn.length === 1 && fn[0] === "set" && args.length === 0
            ? { t: "set", items: [], loc: current.loc }
            : { t: "call", fn, args, loc: current.loc };
        path = [];
      } else break;
      // keep `current` as the head; path accumulates
    }
    if (path.length === 0) return current;
    if (current.t === "ref")
      return { t: "ref", head: current.head, path: [...current.path, ...path], loc: current.loc };
    return { t: "ref", head: current, path, loc: current.loc };
  }

  private callName(head: Term, path: Term[]): string[] | undefined {
    if (head.t !== "var") return undefined;
    const out = [head.name];
    for (const p of path) {
      if (p.t !== "scalar" || typeof p.value !== "string") return undefined;
      out.push(p.value);
    }
    return out;
  }

  private arrayOrCompr(): Term {
    const start = this.next(); // [
    const loc = this.loc(start);
    if (this.isOp("]")) {
      this.next();
      return { t: "array", items: [], loc };
    }
    let first = this.exprNoUnion();
    if (this.isOp("|")) {
      const save = this.i;
      this.next();
      try {
        const body = this.comprBody("]");
        return { t: "arraycompr", term: first, body, loc };
      } catch (e) {
        // `[x | y, 5]` is an array whose first item is a set union, as regorus reads it.
        if (!(e instanceof RegoParseError)) throw e;
        this.i = save;
        while (this.isOp("|")) {
          this.next();
          first = { t: "binop", op: "|", left: first, right: this.intersection(), loc: first.loc };
        }
      }
    }
    return { t: "array", items: this.restItems(first, "]"), loc };
  }

  /** The items of a collection literal after its first one, up to and including `close`. */
  private restItems(first: Term, close: string): Term[] {
    const items = [first];
    while (this.isOp(",")) {
      this.next();
      if (this.isOp(close)) break;
      items.push(this.expr());
    }
    this.expectOp(close);
    return items;
  }

  private comprBody(close: string): Query {
    const out: Literal[] = [];
    while (!this.isOp(close)) {
      out.push(this.literal());
      if (this.isOp(";")) {
        this.next();
        continue;
      }
      if (this.isOp(close)) break;
      if (!this.tok.newlineBefore) throw this.err(`expecting \`${close}\`, found ${this.describe()}`);
    }
    this.next();
    if (out.length === 0) throw this.err("empty comprehension body");
    return out;
  }

  private objectOrSet(): Term {
    const start = this.next(); // {
    const loc = this.loc(start);
    if (this.isOp("}")) {
      this.next();
      return { t: "object", entries: [], loc };
    }
    // Parse the first item below `|`, which would otherwise read as set union.
    const first = this.exprNoUnion();
    if (this.isOp(":")) {
      this.next();
      const v = this.exprNoUnion();
      if (this.isOp("|")) {
        this.next();
        const body = this.comprBody("}");
        return { t: "objectcompr", key: first, value: v, body, loc };
      }
      const entries: [Term, Term][] = [[first, v]];
      while (this.isOp(",")) {
        this.next();
        if (this.isOp("}")) break;
        const k = this.expr();
        this.expectOp(":");
        entries.push([k, this.expr()]);
      }
      this.expectOp("}");
      return { t: "object", entries, loc };
    }
    if (this.isOp("|")) {
      this.next();
      const body = this.comprBody("}");
      return { t: "setcompr", term: first, body, loc };
    }
    return { t: "set", items: this.restItems(first, "}"), loc };
  }

  /** An expression in which a top-level `|` ends the term (comprehension bodies follow it). */
  private exprNoUnion(): Term {
    let left = this.intersection();
    while (this.tok.kind === "op" && RELATIONAL.has(this.tok.text)) {
      const op = this.next().text as BinaryOp;
      const right = this.intersection();
      left = { t: "binop", op, left, right, loc: left.loc };
    }
    while (this.isKw("in")) {
      this.next();
      left = { t: "in", key: undefined, value: left, coll: this.intersection(), loc: left.loc };
    }
    if (this.isOp(":=") || this.isOp("=")) {
      const op = this.next().text;
      const right = this.intersection();
      return op === ":=" ? { t: "assign", left, right, loc: left.loc } : { t: "unify", left, right, loc: left.loc };
    }
    return left;
  }
}

/** The first construct that a default value may not contain: defaults are constants. */
function invalidInDefault(x: Term): [string, Term] | undefined {
  switch (x.t) {
    case "scalar":
      return undefined;
    case "array":
    case "set":
      for (const i of x.items) {
        const r = invalidInDefault(i);
        if (r !== undefined) return r;
      }
      return undefined;
    case "object":
      for (const [k, v] of x.entries) {
        const r = invalidInDefault(k) ?? invalidInDefault(v);
        if (r !== undefined) return r;
      }
      return undefined;
    case "var":
      return ["var", x];
    case "ref":
      return ["ref", x];
    case "call":
      return ["call", x];
    case "neg":
      return ["unaryexpr", x];
    case "binop":
      return [RELATIONAL.has(x.op) ? "boolexpr" : x.op === "|" || x.op === "&" ? "binexpr" : "arithexpr", x];
    case "in":
      return ["membership", x];
    default:
      return undefined;
  }
}

/** `[true | q][0]`: defined, once, when the query has a solution. */
function firstSolution(q: Query, loc: Location): Term {
  const compr: Term = { t: "arraycompr", term: { t: "scalar", value: true, loc }, body: q, loc };
  return { t: "ref", head: compr, path: [{ t: "scalar", value: 0, loc }], loc };
}

/** A literal that holds once when the query has a solution. */
function existsLiteral(q: Query, loc: Location): ExprLiteral {
  return { kind: "expr", negated: false, expr: firstSolution(q, loc), with: [], loc };
}

/** A literal that holds when the query has no solution. */
function negatedLiteral(q: Query, loc: Location): ExprLiteral {
  return { kind: "expr", negated: true, expr: firstSolution(q, loc), with: [], loc };
}
