import type { ElseClause, Literal, Module, Query, Rule, Term, WithModifier } from "./ast.js";
import { formatNumber } from "./format.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Prints an AST back to Rego text that parses to the same AST (up to locations). Every compound
 * expression is parenthesised, so precedence never needs to be reconstructed.
 */
export function printModule(m: Module): string {
  const lines: string[] = [`package ${m.package.map((p, i) => (i === 0 || !IDENT.test(p) ? p : p)).join(".")}`];
  for (const imp of m.imports) {
    lines.push(`import ${imp.path.join(".")}${imp.alias === undefined ? "" : ` as ${imp.alias}`}`);
  }
  for (const r of m.rules) lines.push(printRule(r, m.v1));
  return `${lines.join("\n")}\n`;
}

function printRule(r: Rule, v1: boolean): string {
  const h = r.head;
  let out = r.default ? "default " : "";
  out += h.name;
  for (const seg of h.path) {
    out +=
      seg.t === "scalar" && typeof seg.value === "string" && IDENT.test(seg.value)
        ? `.${seg.value}`
        : `[${printTerm(seg)}]`;
  }
  if (h.args !== undefined) out += `(${h.args.map(printTerm).join(", ")})`;
  if (h.contains !== undefined) {
    out += v1 || r.usesIf || h.path.length === 0 ? ` contains ${printTerm(h.contains)}` : `[${printTerm(h.contains)}]`;
  }
  if (h.value !== undefined) out += ` ${h.assign ?? "="} ${printTerm(h.value)}`;
  if (r.body !== undefined) out += `${r.usesIf ? " if" : ""} ${printBody(r.body)}`;
  for (let e: ElseClause | undefined = r.else; e !== undefined; e = e.else) {
    out += " else";
    if (e.value !== undefined) out += ` ${e.assign ?? "="} ${printTerm(e.value)}`;
    out += `${r.usesIf || v1 ? " if" : ""} ${printBody(e.body)}`;
  }
  return out;
}

function printBody(q: Query): string {
  return `{\n${q.map((l) => `  ${printLiteral(l)}`).join("\n")}\n}`;
}

export function printQuery(q: Query): string {
  return q.map(printLiteral).join("; ");
}

function printWith(w: readonly WithModifier[]): string {
  return w.map((m) => ` with ${printTerm(m.target)} as ${printTerm(m.value)}`).join("");
}

function printLiteral(l: Literal): string {
  switch (l.kind) {
    case "some":
      return `some ${l.vars.join(", ")}`;
    case "somein":
      return `some ${l.key === undefined ? "" : `${printTerm(l.key)}, `}${printTerm(l.value)} in ${printTerm(l.coll)}${printWith(l.with)}`;
    case "every":
      return `every ${l.key === undefined ? "" : `${printTerm(l.key)}, `}${printTerm(l.value)} in ${printTerm(l.coll)} { ${printQuery(l.body)} }${printWith(l.with)}`;
    case "expr":
      return `${l.negated ? "not " : ""}${printTerm(l.expr)}${printWith(l.with)}`;
  }
}

function printScalar(v: null | boolean | number | string): string {
  if (typeof v === "number") return formatNumber(v);
  return JSON.stringify(v);
}

export function printTerm(t: Term): string {
  switch (t.t) {
    case "scalar":
      if (typeof t.value === "number" && t.value < 0) return `(${printScalar(t.value)})`;
      return printScalar(t.value);
    case "var":
      return t.name;
    case "ref": {
      let out = t.head.t === "var" || t.head.t === "call" ? printTerm(t.head) : `(${printTerm(t.head)})`;
      for (const seg of t.path) {
        out +=
          seg.t === "scalar" && typeof seg.value === "string" && IDENT.test(seg.value)
            ? `.${seg.value}`
            : `[${printTerm(seg)}]`;
      }
      return out;
    }
    case "call":
      return `${t.fn.join(".")}(${t.args.map(printTerm).join(", ")})`;
    case "array":
      return `[${t.items.map(printTerm).join(", ")}]`;
    case "set":
      return t.items.length === 0 ? "set()" : `{${t.items.map(printTerm).join(", ")}}`;
    case "object":
      return `{${t.entries.map(([k, v]) => `${printTerm(k)}: ${printTerm(v)}`).join(", ")}}`;
    case "arraycompr":
      return `[${printTerm(t.term)} | ${printQuery(t.body)}]`;
    case "setcompr":
      return `{${printTerm(t.term)} | ${printQuery(t.body)}}`;
    case "objectcompr":
      return `{${printTerm(t.key)}: ${printTerm(t.value)} | ${printQuery(t.body)}}`;
    case "binop":
      return `(${printTerm(t.left)} ${t.op} ${printTerm(t.right)})`;
    case "neg":
      return `(-${printTerm(t.term)})`;
    case "in":
      return `(${t.key === undefined ? "" : `${printTerm(t.key)}, `}${printTerm(t.value)} in ${printTerm(t.coll)})`;
    case "assign":
      return `(${printTerm(t.left)} := ${printTerm(t.right)})`;
    case "unify":
      return `(${printTerm(t.left)} = ${printTerm(t.right)})`;
  }
}
