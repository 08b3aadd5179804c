import { type RObject, RSet, type Value } from "../values.js";

/** Compact JSON text of a value: sets become sorted arrays, non-string keys their JSON text. */
export function toJsonText(v: Value): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly Value[]).map(toJsonText).join(",")}]`;
  if (v instanceof RSet) return `[${v.values().map(toJsonText).join(",")}]`;
  const parts: string[] = [];
  for (const [k, x] of (v as RObject).entries()) {
    parts.push(`${JSON.stringify(typeof k === "string" ? k : toJsonText(k))}:${toJsonText(x)}`);
  }
  return `{${parts.join(",")}}`;
}
