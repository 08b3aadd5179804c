import { fromUtf8 } from "./bytes.js";
import { ContrastError } from "./error.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A path into a JSON document: object keys and array indices. */
export type JsonPath = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Formats a path as `Policies["ab12…"].SANs[0]`: dotted where the key is an identifier. */
export function formatJsonPath(path: JsonPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === "" ? "(root)" : out;
}

export interface ParseJsonOptions {
  /** Inputs larger than this are refused before parsing. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Deepest nesting of arrays and objects. Default 128. */
  readonly maxDepth?: number;
  /** Name of the input for messages, e.g. a file path. */
  readonly source?: string;
}

export const DEFAULT_JSON_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 128;

/**
 * Parses JSON strictly (RFC 8259): no comments, no trailing commas, no byte order mark, no
 * duplicate keys, bounded size and depth. JSON.parse would keep the last of two duplicate keys
 * silently, which lets a reviewer and a program read different values from one document.
 *
 * Objects are plain objects whose keys are defined as own data properties, so a key such as
 * "__proto__" is an ordinary key and cannot alter prototypes.
 */
export function parseJson(input: string | Uint8Array, options: ParseJsonOptions = {}): JsonValue {
  const maxBytes = options.maxBytes ?? DEFAULT_JSON_MAX_BYTES;
  const size = typeof input === "string" ? input.length : input.byteLength;
  if (size > maxBytes) {
    throw new ContrastError(
      "JSON_TOO_LARGE",
      `${prefix(options.source)}input is ${size} bytes, more than the limit of ${maxBytes}`,
      {
        hint: "Check that the right file was passed; documents of this kind are far smaller.",
        details: { size, maxBytes },
      },
    );
  }
  const text = typeof input === "string" ? input : fromUtf8(input);
  return new Parser(text, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.source).parseDocument();
}

function prefix(source: string | undefined): string {
  return source === undefined ? "" : `${source}: `;
}

class Parser {
  private pos = 0;
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly source: string | undefined,
  ) {}

  parseDocument(): JsonValue {
    if (this.text.charCodeAt(0) === 0xfeff) {
      throw this.syntax("byte order mark at start of input", "Save the file as UTF-8 without BOM.");
    }
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) throw this.syntax("unexpected data after the JSON value");
    return value;
  }

  private parseValue(depth: number): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b /* { */:
        return this.parseObject(depth + 1);
      case 0x5b /* [ */:
        return this.parseArray(depth + 1);
      case 0x22 /* " */:
        return this.parseString();
      case 0x74 /* t */:
        return this.parseLiteral("true", true);
      case 0x66 /* f */:
        return this.parseLiteral("false", false);
      case 0x6e /* n */:
        return this.parseLiteral("null", null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        if (Number.isNaN(c)) throw this.syntax("unexpected end of input");
        throw this.syntax(`unexpected character ${describeChar(this.text, this.pos)}`);
    }
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) {
      throw new ContrastError(
        "JSON_TOO_DEEP",
        `${prefix(this.source)}nesting deeper than ${this.maxDepth} levels at ${this.where()}`,
        { hint: "Documents of this kind are shallow; check that the right file was passed." },
      );
    }
  }

  private parseObject(depth: number): JsonObject {
    this.enter(depth);
    this.pos++; // {
    const obj: JsonObject = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) {
        throw this.syntax(
          this.text.charCodeAt(this.pos) === 0x7d ? "trailing comma before }" : "expected a string key",
        );
      }
      const keyStart = this.pos;
      const key = this.parseString();
      if (Object.hasOwn(obj, key)) {
        this.pos = keyStart;
        throw new ContrastError(
          "JSON_DUPLICATE_KEY",
          `${prefix(this.source)}duplicate key ${JSON.stringify(key)} in ${formatJsonPath(this.path)} at ${this.where()}`,
          {
            hint: "Remove one of the two entries; which one applies would be ambiguous.",
            details: { key, path: formatJsonPath(this.path) },
          },
        );
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) throw this.syntax('expected ":" after key');
      this.pos++;
      this.skipWhitespace();
      this.path.push(key);
      const value = this.parseValue(depth);
      this.path.pop();
      if (key === "__proto__") {
        // Plain assignment would replace the prototype instead of adding a key.
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      } else obj[key] = value;
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === 0x7d) {
        this.pos++;
        return obj;
      } else throw this.syntax('expected "," or "}"');
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.enter(depth);
    this.pos++; // [
    const arr: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) === 0x5d) throw this.syntax("trailing comma before ]");
      this.path.push(arr.length);
      arr.push(this.parseValue(depth));
      this.path.pop();
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === 0x5d) {
        this.pos++;
        return arr;
      } else throw this.syntax('expected "," or "]"');
    }
  }

  private parseString(): string {
    const text = this.text;
    const start = ++this.pos; // opening quote
    // Fast path: no escapes.
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return text.slice(start, i);
      }
      if (c === 0x5c || c < 0x20) break;
    }
    let out = "";
    let chunk = start;
    for (;;) {
      if (this.pos >= text.length) throw this.syntax("unterminated string");
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) {
        out += text.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) throw this.syntax("control character in string; escape it");
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += text.slice(chunk, this.pos);
      const e = text.charCodeAt(this.pos + 1);
      this.pos += 2;
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += "\\";
          break;
        case 0x2f:
          out += "/";
          break;
        case 0x62:
          out += "\b";
          break;
        case 0x66:
          out += "\f";
          break;
        case 0x6e:
          out += "\n";
          break;
        case 0x72:
          out += "\r";
          break;
        case 0x74:
          out += "\t";
          break;
        case 0x75: {
          const hex = text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos -= 2;
            throw this.syntax("invalid \\u escape");
          }
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.pos -= 2;
          throw this.syntax("invalid escape sequence");
      }
      chunk = this.pos;
    }
  }

  private parseNumber(): number {
    const start = this.pos;
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = start;
    const match = m.exec(this.text);
    if (!match) throw this.syntax("invalid number");
    this.pos = start + match[0].length;
    const next = this.text.charCodeAt(this.pos);
    if ((next >= 0x30 && next <= 0x39) || next === 0x2e || next === 0x65 || next === 0x45) {
      throw this.syntax("invalid number");
    }
    const value = Number(match[0]);
    if (!Number.isFinite(value)) {
      this.pos = start;
      throw new ContrastError(
        "JSON_NUMBER_OUT_OF_RANGE",
        `${prefix(this.source)}number ${match[0].slice(0, 40)} is out of range at ${this.where()}`,
        { hint: "Use a number within the range of a 64-bit float." },
      );
    }
    return value;
  }

  private parseLiteral<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) {
      throw this.syntax(`unexpected character ${describeChar(this.text, this.pos)}`);
    }
    this.pos += word.length;
    return value;
  }

  private skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
    this.pos = pos;
  }

  private where(): string {
    const { line, column } = lineColumn(this.text, this.pos);
    return `line ${line}, column ${column}`;
  }

  private syntax(message: string, hint?: string): ContrastError {
    const { line, column } = lineColumn(this.text, this.pos);
    return new ContrastError(
      "JSON_SYNTAX",
      `${prefix(this.source)}invalid JSON: ${message} at line ${line}, column ${column}`,
      {
        hint: hint ?? "Fix the JSON syntax at the position shown; `jq . <file>` shows it too.",
        details: { line, column, offset: this.pos },
      },
    );
  }
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(pos, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

function describeChar(text: string, pos: number): string {
  const cp = text.codePointAt(pos);
  if (cp === undefined) return "end of input";
  if (cp >= 0x20 && cp < 0x7f) return JSON.stringify(String.fromCodePoint(cp));
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

// ---------------------------------------------------------------------------------------------
// Writing

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

const HEX = "0123456789abcdef";

/** Quotes a string with Go's escaping rules (Go ≥ 1.22: \b and \f use short escapes). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what needs escaping
const NEEDS_ESCAPE_HTML = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what needs escaping
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u2028\u2029\ud800-\udfff]/;

export function quoteGo(s: string, escapeHtml = true): string {
  // Most strings (hex digests, names) need no escaping at all.
  if (!(escapeHtml ? NEEDS_ESCAPE_HTML : NEEDS_ESCAPE).test(s)) return `"${s}"`;
  let out = '"';
  let chunk = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) {
      rep =
        c === 0x0a
          ? "\\n"
          : c === 0x0d
            ? "\\r"
            : c === 0x09
              ? "\\t"
              : c === 0x08
                ? "\\b"
                : c === 0x0c
                  ? "\\f"
                  : `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = "\\\\";
    else if (escapeHtml && (c === 0x3c || c === 0x3e || c === 0x26)) rep = `\\u00${c.toString(16)}`;
    else if (c === 0x2028 || c === 0x2029) rep = `\\u${c.toString(16)}`;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair passes through
        continue;
      }
      // A lone surrogate has no UTF-8 form; keep it as an escape so nothing is lost.
      rep = `\\u${c.toString(16)}`;
    }
    if (rep !== undefined) {
      out += s.slice(chunk, i) + rep;
      chunk = i + 1;
    }
  }
  return `${out + s.slice(chunk)}"`;
}

/** Orders strings by their UTF-8 bytes, which is code point order (Go's sort.Strings). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF, which sort after 0xE000-0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
