import { keyOf, type RObject, RSet, type Value } from "../values.js";
import { type BuiltinTable, failType, object } from "./registry.js";

/** The neighbours of a node: an edge list that is neither an array nor a set has none. */
function neighbours(edges: Value): readonly Value[] {
  if (Array.isArray(edges)) return edges as readonly Value[];
  if (edges instanceof RSet) return edges.values();
  return [];
}

function starts(name: string, v: Value): readonly Value[] {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RSet) return v.values();
  return failType(name, 2, "{array, set}", v);
}

/** graph.reachable: every node of the graph reachable from the start nodes (those included). */
function reachable(graph: RObject, from: readonly Value[]): RSet {
  const reached = new Map<string, Value>();
  const queue = [...from];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as Value;
    const edges = graph.get(node);
    if (edges === undefined) continue;
    reached.set(keyOf(node), node);
    for (const n of neighbours(edges)) if (!reached.has(keyOf(n))) queue.push(n);
  }
  return new RSet(reached);
}

/**
 * graph.reachable_paths: every maximal path from a start node, each ending where the graph has
 * no edges or a node would repeat. A path stops before a node that is not in the graph at all.
 */
function reachablePaths(graph: RObject, from: readonly Value[]): RSet {
  const out = new Map<string, Value>();
  const add = (path: readonly Value[]) => {
    const p = [...path];
    out.set(keyOf(p), p);
  };
  const walk = (node: Value, path: Value[], seen: ReadonlySet<string>): void => {
    const edges = graph.get(node);
    if (edges === undefined) {
      add(path);
      return;
    }
    const here = [...path, node];
    const next = neighbours(edges);
    if (next.length === 0) {
      add(here);
      return;
    }
    const seenHere = new Set(seen).add(keyOf(node));
    for (const n of next) {
      if (seenHere.has(keyOf(n))) add(here);
      else walk(n, here, seenHere);
    }
  };
  for (const node of from) {
    const edges = graph.get(node);
    if (edges === undefined) continue;
    const next = neighbours(edges);
    if (next.length === 0) add([node]);
    else for (const n of next) walk(n, [node], new Set([keyOf(node)]));
  }
  return new RSet(out);
}

export const GRAPH_BUILTINS: BuiltinTable = {
  "graph.reachable": {
    arity: 2,
    fn: (a) => reachable(object("graph.reachable", a, 0), starts("graph.reachable", a[1] as Value)),
  },
  "graph.reachable_paths": {
    arity: 2,
    fn: (a) => reachablePaths(object("graph.reachable_paths", a, 0), starts("graph.reachable_paths", a[1] as Value)),
  },
};
