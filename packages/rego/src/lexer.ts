import { RegoParseError } from "./errors.js";

export type TokenKind = "ident" | "string" | "rawstring" | "number" | "op" | "eof";

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
