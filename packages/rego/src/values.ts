import { compareUtf8, type JsonValue } from "@contrast/core";
import { RegoError } from "./errors.js";

/**
 * A Rego value. Scalars are JS primitives, arrays are frozen-by-convention JS arrays, sets and
 * objects are classes backed by Maps keyed by a canonical string, so that keys such as
 * "__proto__" are plain data and any value (not only a string) can be an object key.
 * `undefined` is Rego's "undefined" and is never stored inside a value.
 */
export type Value = null | boolean | number | string | readonly Value[] | RSet | RObject;

const TAG = "\u0001";

/** Type rank in Rego's total order (regorus' order: sets sort before objects). */
export function rank(v: Value): number {
  if (v === null) return 0;
  switch (typeof v) {
    case "boolean":
      return 1;
    case "number":
      return 2;
    case "string":
      return 3;
  }
  if (Array.isArray(v)) return 4;
  return v instanceof RSet ? 5 : 6;
}

const keyCache = new WeakMap<object, string>();

/**
 * A string that identifies a value up to Rego equality (1 and 1.0 share one key). Plain strings
 * are their own key, which keeps lookups on string-keyed objects free of allocation.
 */
export function keyOf(v: Value): string {
  if (typeof v === "string") return v.charCodeAt(0) === 1 ? `${TAG}s${v}` : v;
  if (v === null) return `${TAG}z`;
  if (typeof v === "boolean") return v ? `${TAG}t` : `${TAG}f`;
  if (typeof v === "number") return `${TAG}n${v === 0 ? 0 : v}`;
  const cached = keyCache.get(v);
  if (cached !== undefined) return cached;
  let k: string;
  if (Array.isArray(v)) k = `${TAG}a${JSON.stringify((v as readonly Value[]).map(keyOf))}`;
  else if (v instanceof RSet) k = `${TAG}S${JSON.stringify(v.values().map(keyOf))}`;
  else {
    const parts: string[] = [];
    for (const [key, val] of (v as RObject).entries()) parts.push(keyOf(key), keyOf(val));
    k = `${TAG}o${JSON.stringify(parts)}`;
  }
  keyCache.set(v, k);
  return k;
}

/** Rego's total order over values. */
export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return a === b ? 0 : a ? 1 : -1;
    case 2:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 3:
      return compareUtf8(a as string, b as string);
    case 4: {
      const x = a as readonly Value[];
      const y = b as readonly Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i] as Value, y[i] as Value);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 5: {
      const x = (a as RSet).values();
      const y = (b as RSet).values();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i] as Value, y[i] as Value);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default: {
      const x = (a as RObject).entries();
      const y = (b as RObject).entries();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const [xk, xv] = x[i] as [Value, Value];
        const [yk, yv] = y[i] as [Value, Value];
        const c = compare(xk, yk) || compare(xv, yv);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ra = rank(a);
  if (ra !== rank(b)) return false;
  if (ra < 4) return false; // distinct primitives (numbers compare with ===, -0 === 0)
  if (ra === 4) {
    const x = a as readonly Value[];
    const y = b as readonly Value[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!equal(x[i] as Value, y[i] as Value)) return false;
    return true;
  }
  if (ra === 5) return (a as RSet).sameAs(b as RSet);
  return (a as RObject).sameAs(b as RObject);
}

/** An immutable set; iteration is in Rego order. Build with `RSet.from` or a `SetBuilder`. */
export class RSet {
  private readonly map: Map<string, Value>;
  private sorted: Value[] | undefined;

  constructor(map: Map<string, Value> = new Map()) {
    this.map = map;
  }

  static from(items: Iterable<Value>): RSet {
    const m = new Map<string, Value>();
    for (const v of items) m.set(keyOf(v), v);
    return new RSet(m);
  }

  get size(): number {
    return this.map.size;
  }

  has(v: Value): boolean {
    return this.map.has(keyOf(v));
  }

  /** Elements in Rego order. */
  values(): readonly Value[] {
    if (this.sorted === undefined) this.sorted = [...this.map.values()].sort(compare);
    return this.sorted;
  }

  /** Elements in insertion order, for checks whose result does not depend on order. */
  unsortedValues(): IterableIterator<Value> {
    return this.map.values();
  }

  /** Set equality: canonical keys identify elements up to equality, so compare the key sets. */
  sameAs(other: RSet): boolean {
    if (this.map.size !== other.map.size) return false;
    for (const ck of this.map.keys()) if (!other.map.has(ck)) return false;
    return true;
  }
}

/** An immutable object with keys of any type; iteration is in Rego key order. */
export class RObject {
  private readonly map: Map<string, Value>;
  /** Keys that are not their own canonical key (everything but most strings). */
  private readonly odd: Map<string, Value> | undefined;
  private sorted: [Value, Value][] | undefined;

  constructor(map: Map<string, Value> = new Map(), odd?: Map<string, Value>) {
    this.map = map;
    this.odd = odd !== undefined && odd.size > 0 ? odd : undefined;
  }

  static from(entries: Iterable<readonly [Value, Value]>): RObject {
    const b = new ObjectBuilder();
    for (const [k, v] of entries) b.set(k, v);
    return b.build();
  }

  get size(): number {
    return this.map.size;
  }

  get(k: Value): Value | undefined {
    return this.map.get(keyOf(k));
  }

  /** Lookup by a string key, the common case. */
  getString(k: string): Value | undefined {
    return this.map.get(k.charCodeAt(0) === 1 ? `${TAG}s${k}` : k);
  }

  has(k: Value): boolean {
    return this.map.has(keyOf(k));
  }

  entries(): readonly [Value, Value][] {
    if (this.sorted === undefined) {
      this.sorted = [...this.unsortedEntries()].sort((a, b) => compare(a[0], b[0]));
    }
    return this.sorted;
  }

  keys(): Value[] {
    return this.entries().map((e) => e[0]);
  }

  /** Values in insertion order, for checks whose result does not depend on order. */
  unsortedValues(): IterableIterator<Value> {
    return this.map.values();
  }

  /**
   * Object equality, walking the canonical keys directly (equal keys share one canonical key), so
   * that comparing two objects allocates nothing.
   */
  sameAs(other: RObject): boolean {
    if (this.map.size !== other.map.size) return false;
    for (const [ck, v] of this.map) {
      const w = other.map.get(ck);
      if (w === undefined || !equal(v, w)) return false;
    }
    return true;
  }

  *unsortedEntries(): IterableIterator<[Value, Value]> {
    for (const [ck, v] of this.map) yield [this.keyFor(ck), v];
  }

  private keyFor(ck: string): Value {
    if (ck.charCodeAt(0) !== 1) return ck;
    if (ck.charCodeAt(1) === 0x73 /* s */) return ck.slice(2);
    return this.odd?.get(ck) as Value;
  }
}

export class ObjectBuilder {
  private readonly map = new Map<string, Value>();
  private odd: Map<string, Value> | undefined;

  get size(): number {
    return this.map.size;
  }

  get(k: Value): Value | undefined {
    return this.map.get(keyOf(k));
  }

  set(k: Value, v: Value): void {
    const ck = keyOf(k);
    if (typeof k !== "string" && !this.map.has(ck)) {
      this.odd ??= new Map();
      this.odd.set(ck, k);
    }
    this.map.set(ck, v);
  }

  build(): RObject {
    return new RObject(this.map, this.odd);
  }
}

export const EMPTY_OBJECT = new RObject();
export const EMPTY_SET = new RSet();

export function isObject(v: Value | undefined): v is RObject {
  return v instanceof RObject;
}
export function isSet(v: Value | undefined): v is RSet {
  return v instanceof RSet;
}
export function isArray(v: Value | undefined): v is readonly Value[] {
  return Array.isArray(v);
}

export function typeName(v: Value): string {
  switch (rank(v)) {
    case 0:
      return "null";
    case 1:
      return "boolean";
    case 2:
      return "number";
    case 3:
      return "string";
    case 4:
      return "array";
    case 5:
      return "set";
    default:
      return "object";
  }
}

export interface FromJsonOptions {
  /** Deepest nesting accepted. Default 256. */
  readonly maxDepth?: number;
}

/**
 * Converts a JSON value (as produced by JSON.parse or core's parseJson) to a Rego value. Only own
 * enumerable keys are read, so an inherited or prototype property never becomes data.
 */
export function fromJson(value: unknown, options: FromJsonOptions = {}): Value {
  const maxDepth = options.maxDepth ?? 256;
  const walk = (v: unknown, depth: number): Value => {
    if (depth > maxDepth) {
      throw new RegoError("REGO_LIMIT_EXCEEDED", `value nested deeper than ${maxDepth} levels`);
    }
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new RegoError("REGO_INVALID_INPUT", `non-finite number ${v} is not a JSON value`);
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v instanceof RSet || v instanceof RObject) return v;
    if (typeof v === "object") {
      const b = new ObjectBuilder();
      for (const k of Object.keys(v)) b.set(k, walk((v as Record<string, unknown>)[k], depth + 1));
      return b.build();
    }
    throw new RegoError("REGO_INVALID_INPUT", `a ${typeof v} is not a JSON value`);
  };
  return walk(value, 0);
}

/**
 * Converts a Rego value to plain JSON: sets become sorted arrays, object keys that are not
 * strings become their JSON text. Objects are ordinary objects whose keys are own data
 * properties ("__proto__" included), in Rego key order.
 */
export function toJson(v: Value): JsonValue {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return (v as readonly Value[]).map(toJson);
  if (v instanceof RSet) return v.values().map(toJson);
  const out: Record<string, JsonValue> = {};
  for (const [k, val] of (v as RObject).entries()) {
    const key = typeof k === "string" ? k : JSON.stringify(toJson(k));
    Object.defineProperty(out, key, { value: toJson(val), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
