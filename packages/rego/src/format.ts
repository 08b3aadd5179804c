import { RObject, RSet, type Value } from "./values.js";

/**
 * Rego's text form of a value, as `print` and error messages show it: JSON scalars, `[a, b]`
 * arrays, `{a, b}` sets and `{"k": v}` objects (keys of any type), with ", " and ": " separators.
 */
export function formatValue(v: Value): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return formatNumber(v);
    case "string":
      return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${(v as readonly Value[]).map(formatValue).join(", ")}]`;
  if (v instanceof RSet) return `{${v.values().map(formatValue).join(", ")}}`;
  const o = v as RObject;
  return `{${o
    .entries()
    .map(([k, x]) => `${formatValue(k)}: ${formatValue(x)}`)
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
