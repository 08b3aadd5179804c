import { fromUtf8 } from "../bytes.js";
import { ContrastError } from "../error.js";
import { formatJsonPath, type JsonObject, type JsonValue } from "./value.js";

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
