import { ContrastError } from "../error.js";
import { compareUtf8, quoteGo } from "./go-strings.js";

/**
 * A value the writer accepts. A `Map` is written in insertion order (a Go struct: fixed field
 * order); a plain object is written with its keys sorted by UTF-8 bytes (a Go map). `undefined`
 * members are skipped, which expresses `omitempty`.
 */
export type JsonWritable =
  | null
  | boolean
  | number
  | string
  | undefined
  | readonly JsonWritable[]
  | ReadonlyMap<string, JsonWritable>
  | { readonly [key: string]: JsonWritable };

export interface StringifyJsonOptions {
  /** Spaces per indentation level; 0 writes compact JSON. Default 2. */
  readonly indent?: number;
  /** Escape <, > and & as Go's encoder does by default. Default true. */
  readonly escapeHtml?: boolean;
}

/**
 * Writes JSON byte-for-byte as Go's `json.MarshalIndent(v, "", "  ")` does, so documents that
 * upstream Contrast hashes (manifests, seed shares) come out identical.
 */
export function stringifyJson(value: JsonWritable, options: StringifyJsonOptions = {}): string {
  const w = new Writer(" ".repeat(options.indent ?? 2), options.escapeHtml ?? true);
  w.value(value, "");
  return w.out;
}

// Appends to one string: V8 builds it as a rope, which beats collecting parts and joining them.
class Writer {
  out = "";
  private readonly seen = new Set<object>();
  private readonly nl: string;
  private readonly sep: string;

  constructor(
    private readonly indent: string,
    private readonly escapeHtml: boolean,
  ) {
    this.nl = indent === "" ? "" : "\n";
    this.sep = indent === "" ? ":" : ": ";
  }

  value(value: JsonWritable, current: string): void {
    if (value === null) {
      this.out += "null";
      return;
    }
    switch (typeof value) {
      case "boolean":
        this.out += value ? "true" : "false";
        return;
      case "number":
        if (!Number.isFinite(value)) throw unsupported(`non-finite number ${value}`);
        this.out += Object.is(value, -0) ? "0" : String(value);
        return;
      case "string":
        this.out += quoteGo(value, this.escapeHtml);
        return;
      case "undefined":
        throw unsupported("undefined outside an object");
    }
    if (this.seen.has(value)) throw unsupported("cyclic structure");
    this.seen.add(value);
    const inner = current + this.indent;
    if (Array.isArray(value)) this.array(value as readonly JsonWritable[], current, inner);
    else if (value instanceof Map) this.members((value as ReadonlyMap<string, JsonWritable>).entries(), current, inner);
    else {
      const obj = value as { readonly [key: string]: JsonWritable };
      const keys = Object.keys(obj).sort(compareUtf8);
      this.members(
        keys.map((k): [string, JsonWritable] => [k, obj[k]]),
        current,
        inner,
      );
    }
    this.seen.delete(value);
  }

  private array(items: readonly JsonWritable[], current: string, inner: string): void {
    if (items.length === 0) {
      this.out += "[]";
      return;
    }
    this.out += "[";
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.out += ",";
      this.out += this.nl + inner;
      const item = items[i];
      this.value(item === undefined ? null : item, inner);
    }
    this.out += `${this.nl + current}]`;
  }

  private members(entries: Iterable<[string, JsonWritable]>, current: string, inner: string): void {
    let first = true;
    for (const [k, v] of entries) {
      if (v === undefined) continue;
      this.out += `${first ? "{" : ","}${this.nl}${inner}${quoteGo(k, this.escapeHtml)}${this.sep}`;
      first = false;
      this.value(v, inner);
    }
    this.out += first ? "{}" : `${this.nl + current}}`;
  }
}

function unsupported(what: string): ContrastError {
  return new ContrastError("JSON_UNSUPPORTED_VALUE", `cannot write ${what} as JSON`, {
    kind: "internal",
    hint: "This is a bug in contrast. Please report it.",
  });
}
