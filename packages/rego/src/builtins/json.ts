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

/** Go's json.MarshalIndent: each element on its own line, `prefix` + `indent` per level. */
export function toJsonIndent(v: Value, prefix: string, indent: string, depth = 0): string {
  const pad = (d: number) => `\n${prefix}${indent.repeat(d)}`;
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const items: string[] = [];
  if (Array.isArray(v) || v instanceof RSet) {
    const xs = Array.isArray(v) ? (v as readonly Value[]) : v.values();
    if (xs.length === 0) return "[]";
    for (const x of xs) items.push(pad(depth + 1) + toJsonIndent(x, prefix, indent, depth + 1));
    return `[${items.join(",")}${pad(depth)}]`;
  }
  const entries = (v as RObject).entries();
  if (entries.length === 0) return "{}";
  for (const [k, x] of entries) {
    const key = JSON.stringify(typeof k === "string" ? k : toJsonText(k));
    items.push(`${pad(depth + 1)}${key}: ${toJsonIndent(x, prefix, indent, depth + 1)}`);
  }
  return `{${items.join(",")}${pad(depth)}}`;
}
