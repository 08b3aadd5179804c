import { RegoParseError } from "./errors.js";

export type TokenKind = "ident" | "string" | "rawstring" | "template" | "number" | "op" | "eof";

/** A piece of a template string: literal text, or the source of a `{...}` expression. */
export type TemplatePart = { readonly text: string } | { readonly source: string };

export interface Token {
  readonly kind: TokenKind;
  /** Identifier name, operator text, decoded string contents, or number literal text. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
  readonly start: number;
  readonly end: number;
  /** True when a line break separates this token from the previous one. */
  readonly newlineBefore: boolean;
  /** True when whitespace or a comment separates this token from the previous one. */
  readonly spaceBefore: boolean;
  /** A template string's pieces (`$"..."`, `` $`...` ``). */
  readonly parts?: readonly TemplatePart[];
}

const OPS3 = new Set<string>();
const OPS2 = new Set([":=", "==", "!=", "<=", ">="]);
const OPS1 = new Set([
  "{",
  "}",
  "[",
  "]",
  "(",
  ")",
  ".",
  ",",
  ";",
  ":",
  "=",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "|",
  "&",
]);

/** Source texts larger than this are refused: Kata policies are well under 1 MiB. */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

/** Splits Rego source into tokens. Newlines are not tokens; each token records if one preceded it. */
export function tokenize(src: string, file: string): Token[] {
  if (src.length > MAX_SOURCE_BYTES) {
    throw new RegoParseError(`source is larger than ${MAX_SOURCE_BYTES} characters`, { file, line: 1, column: 1 });
  }
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const n = src.length;
  const err = (msg: string, at = pos): RegoParseError => {
    // Recompute the line for `at`, which may be before `pos`.
    let l = 1;
    let ls = 0;
    for (let i = 0; i < at && i < n; i++) {
      if (src.charCodeAt(i) === 10) {
        l++;
        ls = i + 1;
      }
    }
    return new RegoParseError(msg, { file, line: l, column: at - ls + 1 });
  };

  while (true) {
    let newline = false;
    let space = false;
    // Skip whitespace and comments.
    while (pos < n) {
      const c = src.charCodeAt(pos);
      if (c === 10) {
        newline = true;
        space = true;
        pos++;
        line++;
        lineStart = pos;
      } else if (c === 32 || c === 9 || c === 13 || c === 0) {
        // NUL counts as blank: a generated policy (regorus' large.rego) ends with one.
        space = true;
        pos++;
      } else if (c === 35 /* # */) {
        space = true;
        while (pos < n && src.charCodeAt(pos) !== 10) pos++;
      } else break;
    }
    const start = pos;
    const column = pos - lineStart + 1;
    const tokLine = line;
    const push = (kind: TokenKind, text: string) =>
      tokens.push({ kind, text, line: tokLine, column, start, end: pos, newlineBefore: newline, spaceBefore: space });
    if (pos >= n) {
      push("eof", "");
      return tokens;
    }
    const c = src.charCodeAt(pos);
    if (isIdentStart(c)) {
      while (pos < n && isIdentPart(src.charCodeAt(pos))) pos++;
      push("ident", src.slice(start, pos));
      continue;
    }
    if (c >= 48 && c <= 57) {
      pos = scanNumber(src, pos);
      if (pos < n && isIdentStart(src.charCodeAt(pos))) throw err("invalid number literal");
      push("number", src.slice(start, pos));
      continue;
    }
    if (c === 36 /* $ */ && (src[pos + 1] === '"' || src[pos + 1] === "`")) {
      const end = scanTemplate(src, pos, err);
      const parts = templateParts(src, pos, end, err);
      for (let i = pos; i < end; i++) {
        if (src.charCodeAt(i) === 10) {
          line++;
          lineStart = i + 1;
        }
      }
      pos = end;
      tokens.push({
        kind: "template",
        text: src.slice(start, pos),
        line: tokLine,
        column,
        start,
        end: pos,
        newlineBefore: newline,
        spaceBefore: space,
        parts,
      });
      continue;
    }
    if (c === 34 /* " */) {
      pos++;
      let out = "";
      let chunk = pos;
      for (;;) {
        if (pos >= n || src.charCodeAt(pos) === 10) throw err("unterminated string", start);
        const d = src.charCodeAt(pos);
        if (d === 34) break;
        if (d !== 92) {
          pos++;
          continue;
        }
        out += src.slice(chunk, pos);
        const e = src[pos + 1];
        pos += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case "\\":
            out += "\\";
            break;
          case "/":
            out += "/";
            break;
          case "b":
            out += "\b";
            break;
          case "f":
            out += "\f";
            break;
          case "n":
            out += "\n";
            break;
          case "r":
            out += "\r";
            break;
          case "t":
            out += "\t";
            break;
          case "u": {
            const hex = src.slice(pos, pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw err("invalid unicode escape in string", pos - 2);
            out += String.fromCharCode(Number.parseInt(hex, 16));
            pos += 4;
            break;
          }
          default:
            throw err("invalid escape sequence in string", pos - 2);
        }
        chunk = pos;
      }
      out += src.slice(chunk, pos);
      pos++;
      push("string", out);
      continue;
    }
    if (c === 96 /* ` */) {
      const close = src.indexOf("`", pos + 1);
      if (close < 0) throw err("unterminated raw string", start);
      const text = src.slice(pos + 1, close);
      for (let i = pos; i < close; i++) {
        if (src.charCodeAt(i) === 10) {
          line++;
          lineStart = i + 1;
        }
      }
      pos = close + 1;
      push("rawstring", text);
      continue;
    }
    const three = src.slice(pos, pos + 3);
    if (OPS3.has(three)) {
      pos += 3;
      push("op", three);
      continue;
    }
    const two = src.slice(pos, pos + 2);
    if (OPS2.has(two)) {
      pos += 2;
      push("op", two);
      continue;
    }
    const one = src[pos] as string;
    if (OPS1.has(one)) {
      pos++;
      push("op", one);
      continue;
    }
    throw err(`unexpected character ${JSON.stringify(one)}`);
  }
}

function scanNumber(src: string, start: number): number {
  let pos = start;
  const n = src.length;
  const digits = () => {
    while (pos < n && src.charCodeAt(pos) >= 48 && src.charCodeAt(pos) <= 57) pos++;
  };
  digits();
  if (src[pos] === "." && pos + 1 < n && /[0-9]/.test(src[pos + 1] as string)) {
    pos++;
    digits();
  }
  if (src[pos] === "e" || src[pos] === "E") {
    const save = pos;
    pos++;
    if (src[pos] === "+" || src[pos] === "-") pos++;
    const before = pos;
    digits();
    if (pos === before) pos = save;
  }
  return pos;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

type LexError = (msg: string, at?: number) => RegoParseError;

/** Template strings inside template expressions: deeper nesting is refused, not a stack overflow. */
const MAX_TEMPLATE_NESTING = 64;

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** The index after a template string starting at `at` (`$"` or `` $` ``). */
function scanTemplate(src: string, at: number, err: LexError, nesting = 0): number {
  if (nesting > MAX_TEMPLATE_NESTING)
    throw err(`template strings nested deeper than ${MAX_TEMPLATE_NESTING} levels`, at);
  const raw = src[at + 1] === "`";
  const close = raw ? "`" : '"';
  let pos = at + 2;
  for (;;) {
    if (pos >= src.length || (!raw && src[pos] === "\n")) throw err("unterminated template string", at);
    const d = src[pos];
    if (d === close) return pos + 1;
    if (d === "\\") pos += 2;
    else if (d === "{") pos = scanTemplateExpr(src, pos + 1, err, nesting) + 1;
    else pos++;
  }
}

/** The index of the `}` that closes a template expression starting at `at`. */
function scanTemplateExpr(src: string, at: number, err: LexError, nesting = 0): number {
  let depth = 0;
  let pos = at;
  for (;;) {
    if (pos >= src.length) throw err("unterminated template expression", at);
    const d = src[pos] as string;
    if (d === "$" && (src[pos + 1] === '"' || src[pos + 1] === "`")) {
      pos = scanTemplate(src, pos, err, nesting + 1);
      continue;
    }
    if (d === '"') {
      pos++;
      while (pos < src.length && src[pos] !== '"') pos += src[pos] === "\\" ? 2 : 1;
      pos++;
      continue;
    }
    if (d === "`") {
      const end = src.indexOf("`", pos + 1);
      if (end < 0) throw err("unterminated raw string", pos);
      pos = end + 1;
      continue;
    }
    if (d === "{" || d === "[" || d === "(") depth++;
    else if (d === "]" || d === ")") depth--;
    else if (d === "}") {
      if (depth === 0) return pos;
      depth--;
    }
    pos++;
  }
}

/** The literal texts and expression sources of the template string src[at, end). */
function templateParts(src: string, at: number, end: number, err: LexError): TemplatePart[] {
  const raw = src[at + 1] === "`";
  const parts: TemplatePart[] = [];
  let text = "";
  let pos = at + 2;
  while (pos < end - 1) {
    const d = src[pos] as string;
    if (d === "\\") {
      const e = src[pos + 1] as string;
      if (e === "{") text += "{";
      else if (raw) {
        text += "\\";
        pos++;
        continue;
      } else if (e === "u") {
        const hex = src.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw err("invalid unicode escape in string", pos);
        text += String.fromCharCode(Number.parseInt(hex, 16));
        pos += 4;
      } else {
        const x = ESCAPES[e];
        if (x === undefined) throw err("invalid escape sequence in string", pos);
        text += x;
      }
      pos += 2;
    } else if (d === "{") {
      const close = scanTemplateExpr(src, pos + 1, err);
      parts.push({ text }, { source: src.slice(pos + 1, close) });
      text = "";
      pos = close + 1;
    } else {
      text += d;
      pos++;
    }
  }
  parts.push({ text });
  return parts.filter((p) => !("text" in p) || p.text !== "");
}
