import type { Module, Rule, Term } from "./ast.js";
import { RegoError } from "./errors.js";
import { Layout } from "./frame.js";
import { checkModuleVars, packageGlobals } from "./safety.js";

/** The per-module facts that name resolution needs. */
export interface ModuleScope {
  readonly package: readonly string[];
  /** Import alias -> absolute path starting with "data" or "input". */
  readonly imports: ReadonlyMap<string, readonly string[]>;
  readonly v1: boolean;
}

export type GroupKind = "complete" | "set" | "object" | "function";

export interface RuleDef {
  readonly rule: Rule;
  readonly scope: ModuleScope;
  /** Dynamic key terms of a partial object rule (`p[a][b] := v` has two). */
  readonly keys: readonly Term[];
  /** The variable slots of this definition's frames. */
  readonly layout: Layout;
}

/** All definitions of one document: a path under `data` with one kind. */
export interface RuleGroup {
  readonly id: number;
  readonly path: readonly string[];
  readonly kind: GroupKind;
  readonly arity: number;
  readonly defs: RuleDef[];
  defaultDef: RuleDef | undefined;
  /** Defaults of an object rule's entries (`default p["k"] := v`), one per constant key. */
  readonly keyDefaults: RuleDef[];
  /** When every definition yields one constant value, evaluation can stop at the first success. */
  constant: boolean;
}

/** A node of the virtual document tree under `data`. */
export interface VNode {
  readonly children: Map<string, VNode>;
  group: RuleGroup | undefined;
  /** True for a package node (materialises as an object even when empty). */
  isPackage: boolean;
}

export interface CompiledModules {
  readonly root: VNode;
  readonly groups: readonly RuleGroup[];
  readonly modules: readonly Module[];
}

function newNode(): VNode {
  return { children: new Map(), group: undefined, isPackage: false };
}

/** Builds the rule tree; checks what can be checked before evaluation. */
export function compileModules(modules: readonly Module[]): CompiledModules {
  const root = newNode();
  const groups: RuleGroup[] = [];
  const nodeAt = (path: readonly string[]): VNode => {
    let n = root;
    for (const seg of path) {
      let c = n.children.get(seg);
      if (c === undefined) {
        c = newNode();
        n.children.set(seg, c);
      }
      n = c;
    }
    return n;
  };

  for (const m of modules) {
    const imports = new Map<string, readonly string[]>();
    for (const imp of m.imports) {
      const root0 = imp.path[0];
      if (root0 !== "data" && root0 !== "input") continue;
      const alias = imp.alias ?? (imp.path[imp.path.length - 1] as string);
      if ((alias === "input" && root0 === "data") || (imp.alias === "input" && root0 === "input")) {
        throw new RegoError("REGO_COMPILE_ERROR", "input cannot be shadowed", imp.loc);
      }
      if (alias === "data" && imp.path.length > 1) {
        throw new RegoError("REGO_COMPILE_ERROR", "data cannot be shadowed", imp.loc);
      }
      if (imp.path.length === 1 && imp.alias === undefined) continue; // `import input`: nothing to alias
      imports.set(alias, imp.path);
    }
    const scope: ModuleScope = { package: m.package, imports, v1: m.v1 };
    nodeAt(m.package).isPackage = true;

    for (const rule of m.rules) {
      const h = rule.head;
      if ((h.name === "input" || h.name === "data") && m.v1 && h.path.length === 0) {
        throw new RegoError("REGO_COMPILE_ERROR", `${h.name} cannot be shadowed`, h.loc);
      }
      // Split the head path into static names and dynamic keys.
      const stat: string[] = [h.name];
      let i = 0;
      for (; i < h.path.length; i++) {
        const seg = h.path[i] as Term;
        if (seg.t === "scalar" && typeof seg.value === "string") stat.push(seg.value);
        else break;
      }
      let keys = h.path.slice(i);
      let kind: GroupKind;
      let arity = 0;
      if (h.args !== undefined) {
        kind = "function";
        arity = h.args.length;
        if (keys.length > 0)
          throw new RegoError("REGO_COMPILE_ERROR", "function heads cannot have dynamic keys", h.loc);
      } else if (h.contains !== undefined && keys.length === 0) {
        kind = "set";
      } else if (keys.length > 0) {
        kind = "object";
      } else {
        kind = "complete";
      }
      // A partial object whose key is a constant string in v0 (`p["a"] = 1`) stays a partial
      // object of p; with a static path it is the same document either way.
      if (kind === "object" && keys.length === 0) keys = [];
      const path = [...m.package, ...stat];
      const node = nodeAt(path);
      let g = node.group;
      if (g === undefined) {
        g = { id: groups.length, path, kind, arity, defs: [], defaultDef: undefined, keyDefaults: [], constant: true };
        groups.push(g);
        node.group = g;
      } else if (g.kind !== kind || g.arity !== arity) {
        if (!(rule.default && (g.kind === "complete" || g.kind === "function"))) {
          throw new RegoError(
            "REGO_COMPILE_ERROR",
            `rule conflicts with the following rule: ${path.join(".")} is defined as both ${describeKind(g)} and ${describeKind({ kind, arity })}`,
            h.loc,
          );
        }
      }
      const def: RuleDef = { rule, scope, keys, layout: new Layout() };
      if (rule.default && g.kind === "object") addKeyDefault(g, def);
      else if (rule.default) {
        if (g.defaultDef !== undefined) {
          throw new RegoError("REGO_COMPILE_ERROR", `multiple default rules ${path.join(".")} found`, h.loc);
        }
        g.defaultDef = def;
      } else g.defs.push(def);
    }
  }

  absorbEntries(root);
  for (const g of groups) {
    if (g.kind === "complete" && g.defs.length === 0 && g.defaultDef === undefined) continue;
    g.constant = g.kind === "complete" || g.kind === "function" ? constantValue(g) : false;
  }
  // A node may not be both a rule and a prefix of another rule with a value of its own.
  checkPrefixes(root, []);
  const globals = packageGlobals(modules);
  for (const m of modules) checkModuleVars(m, globals.get(m.package.join("\u0000")) ?? new Set());
  return { root, groups, modules };
}

/** A default of one entry of an object rule: its keys must be constants, distinct per default. */
function addKeyDefault(g: RuleGroup, def: RuleDef): void {
  const loc = def.rule.head.loc;
  if (!def.keys.every((k) => k.t === "scalar")) {
    throw new RegoError("REGO_COMPILE_ERROR", `default rule ${g.path.join(".")} must have constant keys`, loc);
  }
  const text = (d: RuleDef) => JSON.stringify(d.keys.map((k) => (k as { value: unknown }).value));
  if (g.keyDefaults.some((d) => text(d) === text(def))) {
    throw new RegoError("REGO_COMPILE_ERROR", `multiple default rules ${g.path.join(".")}${text(def)} found`, loc);
  }
  g.keyDefaults.push(def);
}

/**
 * Rules below an object rule (`p["a"] := 1` or `p.a contains 1` next to `p[x] := 2`) define
 * entries of its document: their definitions move into the object rule, the static segments
 * becoming constant keys (a set rule's elements collect in a set at its keys).
 */
function absorbEntries(node: VNode): void {
  const g = node.group;
  if (g?.kind !== "object") {
    for (const child of node.children.values()) absorbEntries(child);
    return;
  }
  // Returns whether a rule that cannot be an entry (a function) stays below n.
  const below = (n: VNode, segs: readonly Term[]): boolean => {
    let kept = false;
    for (const [name, child] of n.children) {
      const cg = child.group;
      const loc = cg?.defs[0]?.rule.loc ?? cg?.defaultDef?.rule.loc ?? g.defs[0]?.rule.loc;
      const at: Term[] = [...segs, { t: "scalar", value: name, loc: loc ?? { file: "", line: 0, column: 0 } }];
      if (cg !== undefined && (cg.kind === "complete" || cg.kind === "object" || cg.kind === "set")) {
        const moved = (d: RuleDef): RuleDef => ({ ...d, keys: [...at, ...d.keys] });
        g.defs.push(...cg.defs.map(moved));
        for (const d of [...(cg.defaultDef === undefined ? [] : [cg.defaultDef]), ...cg.keyDefaults]) {
          addKeyDefault(g, moved(d));
        }
        child.group = undefined;
      }
      const keep = below(child, at) || child.group !== undefined || child.isPackage;
      if (!keep) n.children.delete(name);
      kept ||= keep;
    }
    return kept;
  };
  below(node, []);
}

function describeKind(g: { kind: GroupKind; arity: number }): string {
  return g.kind === "function" ? `a function of ${g.arity} arguments` : `a ${g.kind} rule`;
}

function checkPrefixes(node: VNode, path: string[]): void {
  for (const [name, child] of node.children) {
    if (node.group !== undefined && node.group.kind !== "object" && node.group.kind !== "complete") {
      throw new RegoError("REGO_COMPILE_ERROR", `rule conflicts with the following rule: ${[...path, name].join(".")}`);
    }
    checkPrefixes(child, [...path, name]);
  }
}

/** Whether every definition (and its else branches) has the same literal value. */
function constantValue(g: RuleGroup): boolean {
  let seen: string | undefined;
  const check = (t: Term | undefined): boolean => {
    const text = t === undefined ? "true" : literalText(t);
    if (text === undefined) return false;
    if (seen === undefined) seen = text;
    return seen === text;
  };
  for (const d of g.defs) {
    if (!check(d.rule.head.value)) return false;
    for (let e = d.rule.else; e !== undefined; e = e.else) if (!check(e.value)) return false;
  }
  return true;
}

function literalText(t: Term): string | undefined {
  if (t.t === "scalar") return JSON.stringify(t.value);
  return undefined;
}
