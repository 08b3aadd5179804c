import { equal, ObjectBuilder, RObject, RSet, type Value } from "../values.js";
import { array, type BuiltinTable, fail, failOperand, failType, got, object, typeName } from "./registry.js";

/** A failed patch step: the whole json.patch call is undefined. */
class PatchFailed extends Error {}

function segments(path: Value): Value[] {
  if (Array.isArray(path)) return [...(path as readonly Value[])];
  if (typeof path !== "string") throw new PatchFailed();
  if (path === "") return [];
  // OPA also takes a pointer without its leading slash ("foo/b").
  return (path.startsWith("/") ? path.slice(1) : path).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function index(seg: Value, len: number, forAdd: boolean): number {
  if (typeof seg === "number") {
    if (!Number.isInteger(seg) || seg < 0 || seg > (forAdd ? len : len - 1)) throw new PatchFailed();
    return seg;
  }
  if (typeof seg !== "string") throw new PatchFailed();
  if (forAdd && seg === "-") return len;
  if (!/^(0|[1-9][0-9]*)$/.test(seg)) throw new PatchFailed();
  const i = Number(seg);
  if (i > (forAdd ? len : len - 1)) throw new PatchFailed();
  return i;
}

function getAt(doc: Value | undefined, segs: readonly Value[]): Value {
  let cur = doc;
  for (const s of segs) {
    if (cur instanceof RObject) cur = cur.get(s);
    else if (Array.isArray(cur)) cur = (cur as readonly Value[])[index(s, cur.length, false)];
    else if (cur instanceof RSet) cur = cur.has(s) ? s : undefined;
    else cur = undefined;
    if (cur === undefined) throw new PatchFailed();
  }
  if (cur === undefined) throw new PatchFailed();
  return cur;
}

/** Rebuilds `doc` with `fn` applied to the container at segs[0..-1] and the last segment. */
function update(doc: Value | undefined, segs: readonly Value[], fn: (parent: Value, last: Value) => Value): Value {
  if (doc === undefined) throw new PatchFailed();
  if (segs.length === 1) return fn(doc, segs[0] as Value);
  const [first, ...rest] = segs as [Value, ...Value[]];
  if (doc instanceof RObject) {
    const child = doc.get(first);
    const b = copyObject(doc);
    b.set(first, update(child, rest, fn));
    return b.build();
  }
  if (Array.isArray(doc)) {
    const i = index(first, doc.length, false);
    const out = [...(doc as readonly Value[])];
    out[i] = update(out[i], rest, fn);
    return out;
  }
  if (doc instanceof RSet) {
    // A path through a set addresses the member by value; the updated member replaces it.
    if (!doc.has(first)) throw new PatchFailed();
    const member = update(first, rest, fn);
    return RSet.from([...doc.unsortedValues()].map((x) => (equal(x, first) ? member : x)));
  }
  throw new PatchFailed();
}

function copyObject(o: RObject): ObjectBuilder {
  const b = new ObjectBuilder();
  for (const [k, v] of o.unsortedEntries()) b.set(k, v);
  return b;
}

function add(doc: Value | undefined, segs: readonly Value[], v: Value): Value {
  if (segs.length === 0) return v;
  return update(doc, segs, (parent, last) => {
    if (parent instanceof RObject) {
      const b = copyObject(parent);
      b.set(last, v);
      return b.build();
    }
    if (Array.isArray(parent)) {
      const out = [...(parent as readonly Value[])];
      out.splice(index(last, out.length, true), 0, v);
      return out;
    }
    if (parent instanceof RSet) {
      if (!equal(last, v)) throw new PatchFailed();
      return RSet.from([...parent.unsortedValues(), v]);
    }
    throw new PatchFailed();
  });
}

function remove(doc: Value | undefined, segs: readonly Value[]): Value | undefined {
  if (segs.length === 0) return undefined;
  return update(doc, segs, (parent, last) => {
    if (parent instanceof RObject) {
      if (!parent.has(last)) throw new PatchFailed();
      return RObject.from([...parent.unsortedEntries()].filter(([k]) => !equal(k, last)));
    }
    if (Array.isArray(parent)) {
      const out = [...(parent as readonly Value[])];
      out.splice(index(last, out.length, false), 1);
      return out;
    }
    if (parent instanceof RSet) {
      if (!parent.has(last)) throw new PatchFailed();
      return RSet.from([...parent.unsortedValues()].filter((x) => !equal(x, last)));
    }
    throw new PatchFailed();
  });
}

/** RFC 6902 JSON Patch over Rego values; paths are JSON pointers or arrays of keys. */
export function jsonPatch(target: Value, patches: readonly Value[]): Value | undefined {
  let doc: Value | undefined = target;
  try {
    for (const p of patches) {
      if (!(p instanceof RObject)) fail(`\`json.patch\` expects an array of patch objects. ${got(p)}`);
      const op = p.getString("op");
      const path = p.getString("path");
      if (path === undefined) throw new PatchFailed();
      const segs = segments(path);
      const value = p.getString("value");
      switch (op) {
        case "add":
          if (value === undefined) throw new PatchFailed();
          doc = add(doc, segs, value);
          break;
        case "remove":
          doc = remove(doc, segs);
          break;
        case "replace": {
          if (value === undefined) throw new PatchFailed();
          const parent = segs.length === 0 ? undefined : getAt(doc, segs.slice(0, -1));
          if (parent instanceof RSet) throw new PatchFailed();
          getAt(doc, segs);
          doc = add(remove(doc, segs), segs, value);
          break;
        }
        case "move": {
          const fromPath = p.getString("from");
          if (fromPath === undefined) throw new PatchFailed();
          const from = segments(fromPath);
          const v = getAt(doc, from);
          doc = add(remove(doc, from), segs, v);
          break;
        }
        case "copy": {
          const fromPath = p.getString("from");
          if (fromPath === undefined) throw new PatchFailed();
          doc = add(doc, segs, getAt(doc, segments(fromPath)));
          break;
        }
        case "test":
          if (value === undefined || !equal(getAt(doc, segs), value)) throw new PatchFailed();
          break;
        default:
          throw new PatchFailed();
      }
    }
  } catch (e) {
    if (e instanceof PatchFailed) return undefined;
    throw e;
  }
  return doc;
}

/**
 * Splits json.filter / json.remove paths: JSON pointers ("a/b", leading slashes dropped, `~1` and
 * `~0` unescaped; "" is the whole document) or arrays of keys.
 */
function pathList(name: string, v: Value): Value[][] {
  const xs = Array.isArray(v)
    ? (v as readonly Value[])
    : v instanceof RSet
      ? v.values()
      : failType(name, 2, ["set", "array"], v, `\`${name}\` expects array/set argument. ${got(v)}`);
  return xs.map((p) => {
    if (typeof p === "string") {
      if (p === "") return [];
      return p
        .replace(/^\/+/, "")
        .split("/")
        .map((seg) => seg.replaceAll("~1", "/").replaceAll("~0", "~"));
    }
    if (Array.isArray(p)) return [...(p as readonly Value[])];
    return failOperand(
      name,
      2,
      `must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`,
      `\`${name}\` expects string or array paths. ${got(p)}`,
    );
  });
}

interface PathTree {
  readonly leaf: boolean;
  readonly children: Map<string, { key: Value; tree: PathTree }>;
}

function buildTree(paths: Value[][]): PathTree {
  const root: PathTree = { leaf: false, children: new Map() };
  for (const p of paths) {
    let node = root;
    for (const seg of p) {
      const k = JSON.stringify(seg);
      let next = node.children.get(k);
      if (next === undefined) {
        next = { key: seg, tree: { leaf: false, children: new Map() } };
        node.children.set(k, next);
      }
      node = next.tree;
    }
    (node as { leaf: boolean }).leaf = true;
  }
  return root;
}

/**
 * The array indexes a path tree names, with their subtrees, in index order. As in regorus, an
 * array index in a json.filter path is a string ("a/0" or ["a", "0"]); a number matches nothing.
 */
function arrayChildren(tree: PathTree, len: number): [number, PathTree][] {
  const out: [number, PathTree][] = [];
  for (const { key, tree: sub } of tree.children.values()) {
    if (typeof key !== "string" || !/^(0|[1-9][0-9]*)$/.test(key)) continue;
    const i = Number(key);
    if (i < len) out.push([i, sub]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

function filter(v: Value, tree: PathTree): Value | undefined {
  if (tree.leaf) return v;
  if (v instanceof RObject) {
    const b = new ObjectBuilder();
    for (const { key, tree: sub } of tree.children.values()) {
      const x = v.get(key);
      if (x === undefined) continue;
      const f = filter(x, sub);
      if (f !== undefined) b.set(key, f);
    }
    return b.build();
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (const [i, sub] of arrayChildren(tree, v.length)) {
      const f = filter((v as readonly Value[])[i] as Value, sub);
      if (f !== undefined) out.push(f);
    }
    return out;
  }
  if (v instanceof RSet) {
    return RSet.from(
      [...tree.children.values()].flatMap(({ key, tree: sub }) => {
        if (!v.has(key)) return [];
        const f = filter(key, sub);
        return f === undefined ? [] : [f];
      }),
    );
  }
  return undefined;
}

function removePaths(v: Value, tree: PathTree): Value | undefined {
  if (tree.leaf) return undefined;
  if (v instanceof RObject) {
    const b = new ObjectBuilder();
    for (const [k, x] of v.unsortedEntries()) {
      const sub = tree.children.get(JSON.stringify(k));
      if (sub === undefined) b.set(k, x);
      else {
        const r = removePaths(x, sub.tree);
        if (r !== undefined) b.set(k, r);
      }
    }
    return b.build();
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    (v as readonly Value[]).forEach((x, i) => {
      const sub = tree.children.get(JSON.stringify(String(i))) ?? tree.children.get(JSON.stringify(i));
      if (sub === undefined) out.push(x);
      else {
        const r = removePaths(x, sub.tree);
        if (r !== undefined) out.push(r);
      }
    });
    return out;
  }
  if (v instanceof RSet) {
    return RSet.from([...v.unsortedValues()].filter((x) => tree.children.get(JSON.stringify(x))?.tree.leaf !== true));
  }
  return v;
}

export const PATCH_BUILTINS: BuiltinTable = {
  "json.patch": { arity: 2, fn: (a) => jsonPatch(a[0] as Value, array("json.patch", a, 1)) },
  "json.filter": {
    arity: 2,
    fn: (a) => filter(object("json.filter", a, 0), buildTree(pathList("json.filter", a[1] as Value))),
  },
  "json.remove": {
    arity: 2,
    fn: (a) => removePaths(object("json.remove", a, 0), buildTree(pathList("json.remove", a[1] as Value))),
  },
};
