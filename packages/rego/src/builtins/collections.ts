import { compare, equal, keyOf, ObjectBuilder, RObject, RSet, type Value } from "../values.js";
import {
  array,
  type BuiltinTable,
  failElement,
  failType,
  failTypeText,
  got,
  items,
  num,
  object,
  set,
} from "./registry.js";

function numbers(name: string, args: readonly Value[]): number[] {
  return items(name, args, 0, ["set", "array"]).map((v) => {
    if (typeof v !== "number") {
      failElement(name, 1, args[0] as Value, "number", v, `\`${name}\` requires array/set of numbers. ${got(v)}`);
    }
    return v;
  });
}

/** A key list for object.remove/filter: an array, a set, or the keys of an object. */
function keyList(name: string, v: Value): Value[] {
  if (Array.isArray(v)) return [...(v as readonly Value[])];
  if (v instanceof RSet) return [...v.values()];
  if (v instanceof RObject) return v.keys();
  return failType(name, 2, ["object", "set", "array"], v, `\`${name}\` expects array/set/object argument. ${got(v)}`);
}

function union(a: RObject, b: RObject): RObject {
  const out = new ObjectBuilder();
  for (const [k, v] of a.unsortedEntries()) out.set(k, v);
  for (const [k, v] of b.unsortedEntries()) {
    const prev = a.get(k);
    out.set(k, prev instanceof RObject && v instanceof RObject ? union(prev, v) : v);
  }
  return out.build();
}

/** object.subset of two values of the same kind; nested objects, sets and arrays recurse. */
function subsetOf(sup: Value, sub: Value): boolean | undefined {
  if (sup instanceof RObject && sub instanceof RObject) {
    for (const [k, v] of sub.unsortedEntries()) {
      const x = sup.get(k);
      if (x === undefined) return false;
      if (!equal(x, v) && subsetOf(x, v) !== true) return false;
    }
    return true;
  }
  if (sup instanceof RSet && sub instanceof RSet) {
    for (const v of sub.unsortedValues()) if (!sup.has(v)) return false;
    return true;
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    // A contiguous sub-array.
    const a = sup as readonly Value[];
    const b = sub as readonly Value[];
    if (b.length === 0) return true;
    for (let i = 0; i + b.length <= a.length; i++) if (b.every((x, j) => equal(x, a[i + j] as Value))) return true;
    return false;
  }
  return undefined;
}

function isSubset(sup: Value, sub: Value): boolean {
  const r = subsetOf(sup, sub);
  if (r !== undefined) return r;
  if (Array.isArray(sup) && sub instanceof RSet) {
    // Every member occurs in the array. (OPA: an empty set is no subset of an empty array.)
    if (sub.size === 0) return sup.length > 0;
    return sub.values().every((x) => (sup as readonly Value[]).some((y) => equal(x, y)));
  }
  return failTypeText("object.subset", "both arguments object.subset must be of the same type or array and set");
}

export const COLLECTION_BUILTINS: BuiltinTable = {
  count: {
    arity: 1,
    fn: (a) => {
      const v = a[0] as Value;
      if (typeof v === "string") return Array.from(v).length;
      if (Array.isArray(v)) return v.length;
      if (v instanceof RSet || v instanceof RObject) return v.size;
      return failType(
        "count",
        1,
        ["array", "object", "set", "string"],
        v,
        `\`count\` requires array/object/set/string argument. ${got(v)}`,
      );
    },
  },
  sum: { arity: 1, fn: (a) => numbers("sum", a).reduce((x, y) => x + y, 0) },
  product: { arity: 1, fn: (a) => numbers("product", a).reduce((x, y) => x * y, 1) },
  max: {
    arity: 1,
    fn: (a) => {
      const xs = items("max", a, 0, ["set", "array"]);
      if (xs.length === 0) return undefined;
      return xs.reduce((m, x) => (compare(x, m) > 0 ? x : m));
    },
  },
  min: {
    arity: 1,
    fn: (a) => {
      const xs = items("min", a, 0, ["set", "array"]);
      if (xs.length === 0) return undefined;
      return xs.reduce((m, x) => (compare(x, m) < 0 ? x : m));
    },
  },
  sort: { arity: 1, fn: (a) => [...items("sort", a, 0)].sort(compare) },
  "array.concat": {
    arity: 2,
    fn: (a) => [...array("array.concat", a, 0), ...array("array.concat", a, 1)],
  },
  "array.flatten": {
    arity: 1,
    fn: (a) => {
      // One level: elements that are arrays are spliced in, others kept.
      const out: Value[] = [];
      for (const x of array("array.flatten", a, 0)) {
        if (Array.isArray(x)) out.push(...(x as readonly Value[]));
        else out.push(x);
      }
      return out;
    },
  },
  "array.reverse": { arity: 1, fn: (a) => [...array("array.reverse", a, 0)].reverse() },
  "array.slice": {
    arity: 3,
    fn: (a) => {
      const xs = array("array.slice", a, 0);
      let from = num("array.slice", a, 1);
      let to = num("array.slice", a, 2);
      if (!Number.isInteger(from) || !Number.isInteger(to)) return undefined;
      if (from < 0) from = 0;
      if (to > xs.length) to = xs.length;
      if (from >= to) return [];
      return xs.slice(from, to);
    },
  },
  intersection: {
    arity: 1,
    fn: (a) => {
      const sets = set("intersection", a, 0).values();
      if (sets.length === 0) return new RSet();
      const all = sets.map((s) => {
        if (!(s instanceof RSet))
          failType("intersection", 1, "set", s, `\`intersection\` expects set of sets. ${got(s)}`);
        return s;
      });
      const [first, ...rest] = all as [RSet, ...RSet[]];
      return RSet.from([...first.unsortedValues()].filter((v) => rest.every((s) => s.has(v))));
    },
  },
  union: {
    arity: 1,
    fn: (a) => {
      const m = new Map<string, Value>();
      for (const s of set("union", a, 0).values()) {
        if (!(s instanceof RSet)) failType("union", 1, "set", s, `\`union\` expects set of sets. ${got(s)}`);
        for (const v of s.unsortedValues()) m.set(keyOf(v), v);
      }
      return new RSet(m);
    },
  },
  "object.get": {
    arity: 3,
    fn: (a) => {
      const o = object("object.get", a, 0);
      const key = a[1] as Value;
      const dflt = a[2] as Value;
      if (Array.isArray(key)) {
        let cur: Value | undefined = o;
        for (const k of key as readonly Value[]) {
          if (cur instanceof RObject) cur = cur.get(k);
          else if (Array.isArray(cur) && typeof k === "number") cur = (cur as readonly Value[])[k];
          else if (cur instanceof RSet) cur = cur.has(k) ? k : undefined;
          else cur = undefined;
          if (cur === undefined) return dflt;
        }
        return cur;
      }
      return o.get(key) ?? dflt;
    },
  },
  "object.keys": { arity: 1, fn: (a) => RSet.from(object("object.keys", a, 0).keys()) },
  "object.remove": {
    arity: 2,
    fn: (a) => {
      const o = object("object.remove", a, 0);
      const drop = RSet.from(keyList("object.remove", a[1] as Value));
      return RObject.from([...o.unsortedEntries()].filter(([k]) => !drop.has(k)));
    },
  },
  "object.filter": {
    arity: 2,
    fn: (a) => {
      const o = object("object.filter", a, 0);
      const keep = RSet.from(keyList("object.filter", a[1] as Value));
      return RObject.from([...o.unsortedEntries()].filter(([k]) => keep.has(k)));
    },
  },
  "object.union": { arity: 2, fn: (a) => union(object("object.union", a, 0), object("object.union", a, 1)) },
  "object.union_n": {
    arity: 1,
    fn: (a) =>
      array("object.union_n", a, 0).reduce<RObject>((acc, o) => {
        if (!(o instanceof RObject)) {
          failElement(
            "object.union_n",
            1,
            a[0] as Value,
            "object",
            o,
            `\`object.union_n\` expects array of objects. ${got(o)}`,
          );
        }
        return union(acc, o);
      }, new RObject()),
  },
  "object.subset": { arity: 2, fn: (a) => isSubset(a[0] as Value, a[1] as Value) },
  is_number: { arity: 1, fn: (a) => typeof a[0] === "number" },
  is_string: { arity: 1, fn: (a) => typeof a[0] === "string" },
  is_boolean: { arity: 1, fn: (a) => typeof a[0] === "boolean" },
  is_array: { arity: 1, fn: (a) => Array.isArray(a[0]) },
  is_set: { arity: 1, fn: (a) => a[0] instanceof RSet },
  is_object: { arity: 1, fn: (a) => a[0] instanceof RObject },
  is_null: { arity: 1, fn: (a) => a[0] === null },
  type_name: {
    arity: 1,
    fn: (a) => {
      const v = a[0] as Value;
      if (v === null) return "null";
      if (Array.isArray(v)) return "array";
      if (v instanceof RSet) return "set";
      if (v instanceof RObject) return "object";
      return typeof v;
    },
  },
};
