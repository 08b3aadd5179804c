import type { Location } from "./errors.js";

export type ScalarValue = null | boolean | number | string;

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "&" | "|" | "==" | "!=" | "<" | "<=" | ">" | ">=";

/** A term or an expression; Rego's grammar nests both freely. */
export type Term =
  | { readonly t: "scalar"; readonly value: ScalarValue; readonly raw?: boolean; readonly loc: Location }
  | { readonly t: "var"; readonly name: string; readonly loc: Location }
  | { readonly t: "ref"; readonly head: Term; readonly path: readonly Term[]; readonly loc: Location }
  | { readonly t: "call"; readonly fn: readonly string[]; readonly args: readonly Term[]; readonly loc: Location }
  | { readonly t: "array"; readonly items: readonly Term[]; readonly loc: Location }
  | { readonly t: "set"; readonly items: readonly Term[]; readonly loc: Location }
  | { readonly t: "object"; readonly entries: readonly (readonly [Term, Term])[]; readonly loc: Location }
  | { readonly t: "arraycompr"; readonly term: Term; readonly body: Query; readonly loc: Location }
  | { readonly t: "setcompr"; readonly term: Term; readonly body: Query; readonly loc: Location }
  | {
      readonly t: "objectcompr";
      readonly key: Term;
      readonly value: Term;
      readonly body: Query;
      readonly loc: Location;
    }
  | { readonly t: "binop"; readonly op: BinaryOp; readonly left: Term; readonly right: Term; readonly loc: Location }
  | { readonly t: "neg"; readonly term: Term; readonly loc: Location }
  | {
      readonly t: "in";
      readonly key: Term | undefined;
      readonly value: Term;
      readonly coll: Term;
      readonly loc: Location;
    }
  | { readonly t: "assign"; readonly left: Term; readonly right: Term; readonly loc: Location }
  | { readonly t: "unify"; readonly left: Term; readonly right: Term; readonly loc: Location };

export interface WithModifier {
  readonly target: Term;
  readonly value: Term;
  readonly loc: Location;
}

export type Literal =
  | {
      readonly kind: "expr";
      readonly negated: boolean;
      readonly expr: Term;
      readonly with: readonly WithModifier[];
      readonly loc: Location;
    }
  | { readonly kind: "some"; readonly vars: readonly string[]; readonly loc: Location }
  | {
      readonly kind: "somein";
      readonly key: Term | undefined;
      readonly value: Term;
      readonly coll: Term;
      readonly with: readonly WithModifier[];
      readonly loc: Location;
    }
  | {
      readonly kind: "every";
      readonly key: Term | undefined;
      readonly value: Term;
      readonly coll: Term;
      readonly body: Query;
      readonly with: readonly WithModifier[];
      readonly loc: Location;
    };

export type Query = readonly Literal[];

export interface RuleHead {
  /** The head's reference: a name followed by `.name` or `[term]` segments. */
  readonly name: string;
  readonly path: readonly Term[];
  readonly args: readonly Term[] | undefined;
  /** `p contains x` (or v0 `p[x]` without a value): the element. */
  readonly contains: Term | undefined;
  readonly value: Term | undefined;
  readonly assign: ":=" | "=" | undefined;
  readonly loc: Location;
}

export interface ElseClause {
  readonly value: Term | undefined;
  readonly assign: ":=" | "=" | undefined;
  readonly body: Query;
  /** Whether the body was written with `if` (absent: it was not). */
  readonly usesIf?: boolean;
  readonly else: ElseClause | undefined;
  readonly loc: Location;
}

export interface Rule {
  readonly default: boolean;
  readonly head: RuleHead;
  /** Undefined for rules without a body (always true). */
  readonly body: Query | undefined;
  /** Whether the body was written with `if`. */
  readonly usesIf: boolean;
  readonly else: ElseClause | undefined;
  readonly loc: Location;
}

export interface Import {
  /** The imported ref as names, e.g. ["data", "foo", "bar"] or ["future", "keywords", "in"]. */
  readonly path: readonly string[];
  readonly alias: string | undefined;
  readonly loc: Location;
}

export interface Module {
  readonly file: string;
  readonly package: readonly string[];
  readonly imports: readonly Import[];
  readonly rules: readonly Rule[];
  /** True when the module is Rego v1: `import rego.v1`, or parsed in v1 mode. */
  readonly v1: boolean;
  readonly loc: Location;
}
