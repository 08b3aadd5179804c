// Go-compatible string quoting and key order: what makes stringifyJson's output byte-identical
// to Go's encoding/json.

const HEX = "0123456789abcdef";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what needs escaping
const NEEDS_ESCAPE_HTML = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what needs escaping
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u2028\u2029\ud800-\udfff]/;

/** Quotes a string with Go's escaping rules (Go ≥ 1.22: \b and \f use short escapes). */
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
