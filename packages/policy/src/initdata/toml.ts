import { PolicyError } from "../errors.js";

/**
 * The TOML an initdata document needs, and nothing more: top-level keys with string values, and
 * tables (one level, `[name]`) of keys with string values. Everything else TOML allows (numbers,
 * arrays, inline tables, dotted keys, arrays of tables) is refused with POLICY_INITDATA_SYNTAX,
 * because initdata holds only strings and a construct we do not read exactly as the agent's and
 * the shim's TOML parsers do could make us check a different policy from the one that runs.
 */
export interface TomlStrings {
  /** Top-level keys, in document order. */
  readonly root: ReadonlyMap<string, string>;
  /** Tables by name, each with its keys in document order. */
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Writer

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
// Control characters TOML forbids in literal strings (tab is allowed).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const LITERAL_FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const MULTILINE_LITERAL_FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** A key as TOML writes it: bare when it can be, else a basic string. */
export function tomlKey(key: string): string {
  return BARE_KEY.test(key) ? key : tomlBasicString(key);
}

/**
 * A string value, in the form genpolicy's TOML writer (the `toml` crate's pretty printer) picks
 * for the strings initdata holds: a literal string ('...') for one line, a multi-line literal
 * ('''\n...''') for text with line feeds, and a basic string with escapes when neither can hold
 * the text (a quote, a control character, a carriage return). Carriage returns are always escaped:
 * TOML lets parsers normalise a raw CRLF inside a multi-line string, and one that did would hash
 * the same bytes but read a different policy.
 */
export function tomlString(value: string): string {
  if (!value.includes("\n")) {
    return value.includes("'") || LITERAL_FORBIDDEN.test(value) ? tomlBasicString(value) : `'${value}'`;
  }
  const literalSafe = !value.includes("'''") && !value.endsWith("'") && !MULTILINE_LITERAL_FORBIDDEN.test(value);
  return literalSafe ? `'''\n${value}'''` : tomlBasicString(value);
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

function tomlBasicString(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
  const escaped = value.replace(/["\\\u0000-\u001f\u007f]/g, (c) => {
    const named = ESCAPES[c];
    return named ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`;
  });
  return `"${escaped}"`;
}

// ---------------------------------------------------------------------------------------------
// Parser

/** Where the parser is; lines and columns count from 1, columns in UTF-16 code units + 1. */
class Cursor {
  pos = 0;
  constructor(
    readonly text: string,
    readonly source: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  fail(message: string, at = this.pos): never {
    const before = this.text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - (before.lastIndexOf("\n") + 1) + 1;
    throw new PolicyError("POLICY_INITDATA_SYNTAX", `${this.source}:${line}:${column}: ${message}`, {
      hint: "An initdata document is TOML with string values only: version, algorithm and a [data] table of strings.",
      details: { line, column },
    });
  }
}

function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return code <= 0x1f || code === 0x7f;
}

function describe(c: string): string {
  return c === "" ? "end of input" : isControl(c) ? `U+${c.charCodeAt(0).toString(16).padStart(4, "0")}` : `"${c}"`;
}

function skipSpaces(cur: Cursor): void {
  while (cur.peek() === " " || cur.peek() === "\t") cur.pos++;
}

/** At a line's end: a comment, then a newline (LF or CRLF) or the end of input. */
function endOfLine(cur: Cursor): void {
  skipSpaces(cur);
  if (cur.peek() === "#") {
    cur.pos++;
    while (!cur.done && cur.peek() !== "\n" && cur.peek() !== "\r") {
      const c = cur.peek();
      if (c !== "\t" && isControl(c)) cur.fail(`control character ${describe(c)} in a comment`);
      cur.pos++;
    }
  }
  if (cur.done) return;
  if (cur.startsWith("\r\n")) {
    cur.pos += 2;
    return;
  }
  if (cur.peek() === "\n") {
    cur.pos++;
    return;
  }
  cur.fail(`expected the end of the line, found ${describe(cur.peek())}`);
}

function parseKey(cur: Cursor): string {
  const c = cur.peek();
  let key: string;
  if (c === '"') {
    if (cur.startsWith('"""')) cur.fail("a multi-line string cannot be a key");
    key = parseBasicString(cur);
  } else if (c === "'") {
    if (cur.startsWith("'''")) cur.fail("a multi-line string cannot be a key");
    key = parseLiteralString(cur);
  } else {
    const start = cur.pos;
    while (/[A-Za-z0-9_-]/.test(cur.peek())) cur.pos++;
    if (cur.pos === start) cur.fail(`expected a key, found ${describe(c)}`);
    key = cur.text.slice(start, cur.pos);
  }
  skipSpaces(cur);
  if (cur.peek() === ".") cur.fail("dotted keys are not supported in initdata");
  return key;
}

function parseValue(cur: Cursor): string {
  if (cur.startsWith('"""')) return parseMultilineBasicString(cur);
  if (cur.startsWith("'''")) return parseMultilineLiteralString(cur);
  if (cur.peek() === '"') return parseBasicString(cur);
  if (cur.peek() === "'") return parseLiteralString(cur);
  const c = cur.peek();
  if (c === "{") cur.fail("inline tables are not supported in initdata; values are strings");
  if (c === "[") cur.fail("arrays are not supported in initdata; values are strings");
  if (c === "" || c === "\n" || c === "\r" || c === "#") cur.fail("expected a value after =");
  cur.fail(`expected a string value, found ${describe(c)}; initdata values are strings`);
}

function parseEscape(cur: Cursor): string {
  const start = cur.pos;
  cur.pos++; // the backslash
  const c = cur.peek();
  cur.pos++;
  switch (c) {
    case "b":
      return "\b";
    case "t":
      return "\t";
    case "n":
      return "\n";
    case "f":
      return "\f";
    case "r":
      return "\r";
    case '"':
      return '"';
    case "\\":
      return "\\";
    case "u":
    case "U": {
      const n = c === "u" ? 4 : 8;
      const hex = cur.text.slice(cur.pos, cur.pos + n);
      if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) cur.fail(`\\${c} needs ${n} hex digits`, start);
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        cur.fail(`\\${c}${hex} is not a Unicode scalar value`, start);
      }
      cur.pos += n;
      return String.fromCodePoint(code);
    }
    default:
      // TOML 1.1's \e and \xHH included: not every parser on the path (the shim's, the agent's)
      // knows them, so a document that uses them means different things to different readers.
      return cur.fail(`invalid escape \\${c === "" ? "" : c}`, start);
  }
}

/** Where a basic string's plain text ends: a quote, a backslash or a control character. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const BASIC_STOP = /["\\\u0000-\u0008\u000a-\u001f\u007f]/g;

function parseBasicString(cur: Cursor): string {
  cur.pos++;
  let out = "";
  for (;;) {
    BASIC_STOP.lastIndex = cur.pos;
    const stop = BASIC_STOP.exec(cur.text);
    const end = stop === null ? cur.text.length : stop.index;
    out += cur.text.slice(cur.pos, end);
    cur.pos = end;
    const c = cur.peek();
    if (c === "") cur.fail("unterminated string");
    if (c === '"') {
      cur.pos++;
      return out;
    }
    if (c === "\\") {
      out += parseEscape(cur);
      continue;
    }
    if (c === "\n" || c === "\r") cur.fail("unterminated string (a basic string ends on its line)");
    cur.fail(`control character ${describe(c)} in a string`);
  }
}

function parseLiteralString(cur: Cursor): string {
  cur.pos++;
  const start = cur.pos;
  for (;;) {
    const c = cur.peek();
    if (c === "") cur.fail("unterminated string");
    if (c === "'") {
      const value = cur.text.slice(start, cur.pos);
      cur.pos++;
      return value;
    }
    if (c === "\n" || c === "\r") cur.fail("unterminated string (a literal string ends on its line)");
    if (c !== "\t" && isControl(c)) cur.fail(`control character ${describe(c)} in a string`);
    cur.pos++;
  }
}

/** After an opening `"""` or `'''`: a newline right there is not part of the value. */
function skipFirstNewline(cur: Cursor): void {
  if (cur.startsWith("\r\n")) cur.fail("carriage return inside a multi-line string");
  if (cur.peek() === "\n") cur.pos++;
}

/**
 * A closing delimiter: three quotes, and up to two more that belong to the value. Returns the
 * quotes that belong to the value, or undefined when fewer than three quotes stand here.
 */
function closing(cur: Cursor, quote: string): string | undefined {
  let n = 0;
  while (cur.peek(n) === quote) n++;
  if (n < 3) return undefined;
  if (n > 5) cur.fail(`${n} quotes in a row inside a multi-line string`);
  cur.pos += n;
  return quote.repeat(n - 3);
}

function multilineChar(cur: Cursor, c: string): void {
  if (c === "") cur.fail("unterminated multi-line string");
  // TOML allows CRLF here but lets parsers normalise it to LF; the shim and the agent may not
  // agree, so a carriage return must be written as \r in a basic string.
  if (c === "\r") cur.fail("carriage return inside a multi-line string");
  if (c !== "\t" && c !== "\n" && isControl(c)) cur.fail(`control character ${describe(c)} in a string`);
}

/** Where a multi-line basic string's plain text ends: a quote or a backslash. */
const SPECIAL = /["\\]/g;

function parseMultilineBasicString(cur: Cursor): string {
  cur.pos += 3;
  skipFirstNewline(cur);
  let out = "";
  for (;;) {
    SPECIAL.lastIndex = cur.pos;
    const special = SPECIAL.exec(cur.text);
    out += plainRun(cur, special === null ? cur.text.length : special.index);
    const c = cur.peek();
    if (c === "") cur.fail("unterminated multi-line string");
    if (c === '"') {
      const extra = closing(cur, '"');
      if (extra !== undefined) return out + extra;
      out += c;
      cur.pos++;
      continue;
    }
    // A backslash. At a line's end it joins the lines: it drops the newline and the whitespace
    // (newlines included) up to the next visible character.
    let k = 1;
    while (cur.peek(k) === " " || cur.peek(k) === "\t") k++;
    if (cur.peek(k) === "\n" || cur.peek(k) === "\r") {
      cur.pos += k;
      for (;;) {
        const w = cur.peek();
        if (w === " " || w === "\t" || w === "\n") cur.pos++;
        else if (w === "\r") cur.fail("carriage return inside a multi-line string");
        else break;
      }
      continue;
    }
    out += parseEscape(cur);
  }
}

// What may not stand in a multi-line string: control characters other than tab and line feed
// (a carriage return included, see multilineChar).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const MULTILINE_FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** The text up to `end`, checked, appended in one piece: policies are long, quotes are rare. */
function plainRun(cur: Cursor, end: number): string {
  const run = cur.text.slice(cur.pos, end);
  const bad = MULTILINE_FORBIDDEN.exec(run);
  if (bad !== null) {
    cur.pos += bad.index;
    multilineChar(cur, cur.peek());
  }
  cur.pos = end;
  return run;
}

function parseMultilineLiteralString(cur: Cursor): string {
  cur.pos += 3;
  skipFirstNewline(cur);
  let out = "";
  for (;;) {
    const quote = cur.text.indexOf("'", cur.pos);
    out += plainRun(cur, quote === -1 ? cur.text.length : quote);
    if (quote === -1) cur.fail("unterminated multi-line string");
    const extra = closing(cur, "'");
    if (extra !== undefined) return out + extra;
    out += "'";
    cur.pos++;
  }
}

/**
 * Parses the string-only TOML subset strictly: a duplicate key or table, a construct outside the
 * subset, or anything TOML 1.0 forbids (bare carriage returns, control characters, unknown
 * escapes, non-scalar \u escapes) fails with POLICY_INITDATA_SYNTAX and the line and column.
 */
export function parseTomlStrings(text: string, source = "initdata"): TomlStrings {
  const cur = new Cursor(text, source);
  if (text.charCodeAt(0) === 0xfeff) cur.fail("a byte order mark is not allowed");
  const root = new Map<string, string>();
  const tables = new Map<string, Map<string, string>>();
  let current = root;
  let currentName: string | undefined;
  while (!cur.done) {
    skipSpaces(cur);
    const c = cur.peek();
    if (c === "" || c === "\n" || c === "\r" || c === "#") {
      endOfLine(cur);
      continue;
    }
    if (c === "[") {
      const at = cur.pos;
      cur.pos++;
      if (cur.peek() === "[") cur.fail("arrays of tables are not supported in initdata");
      skipSpaces(cur);
      const name = parseKey(cur);
      if (cur.peek() !== "]") cur.fail(`expected ] after the table name, found ${describe(cur.peek())}`);
      cur.pos++;
      if (tables.has(name)) cur.fail(`table [${name}] is defined twice`, at);
      if (root.has(name)) cur.fail(`[${name}] redefines the key ${JSON.stringify(name)}`, at);
      current = new Map();
      currentName = name;
      tables.set(name, current);
      endOfLine(cur);
      continue;
    }
    const at = cur.pos;
    const key = parseKey(cur);
    if (cur.peek() !== "=") cur.fail(`expected = after the key ${JSON.stringify(key)}, found ${describe(cur.peek())}`);
    cur.pos++;
    skipSpaces(cur);
    const value = parseValue(cur);
    if (current.has(key)) {
      cur.fail(
        `key ${JSON.stringify(key)} is defined twice${currentName === undefined ? "" : ` in [${currentName}]`}`,
        at,
      );
    }
    current.set(key, value);
    endOfLine(cur);
  }
  return { root, tables };
}
