import { RObject, RSet, type Value } from "./values.js";

/**
 * Rego's text form of a value, as `print` and error messages show it: JSON scalars, `[a, b]`
 * arrays, `{a, b}` sets and `{"k": v}` objects (keys of any type), with ", " and ": " separators.
 * An empty set shows as `emptySet`: `{}` as regorus prints it, `set()` in OPA's template strings.
 */
export function formatValue(v: Value): string {
  return formatValueWith(v, "{}");
}

export function formatValueWith(v: Value, emptySet: string): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return formatNumber(v);
    case "string":
      return JSON.stringify(v);
  }
  const f = (x: Value) => formatValueWith(x, emptySet);
  if (Array.isArray(v)) return `[${(v as readonly Value[]).map(f).join(", ")}]`;
  if (v instanceof RSet) return v.size === 0 ? emptySet : `{${v.values().map(f).join(", ")}}`;
  const o = v as RObject;
  return `{${o
    .entries()
    .map(([k, x]) => `${f(k)}: ${f(x)}`)
    .join(", ")}}`;
}

/** Numbers print as JSON does, without a sign on zero. */
export function formatNumber(n: number): string {
  if (Object.is(n, -0)) return "0";
  return String(n);
}

export function isRObject(v: Value): v is RObject {
  return v instanceof RObject;
}
