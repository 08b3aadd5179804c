import type { Value } from "../values.js";
import { globsIntersect } from "./globs.js";
import { type BuiltinTable, fail, int, str } from "./registry.js";

const CACHE_LIMIT = 1000;
const cache = new Map<string, RegExp | null>();

/**
 * Compiles a Go RE2 pattern to a JS RegExp. The common syntax is shared; RE2's leading flag
 * groups, `\z` and `(?P<name>` are rewritten. Returns null for an invalid pattern.
 */
export function compileRegex(pattern: string): RegExp | null {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let src = pattern;
  let flags = "";
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m !== null) {
    src = src.slice(m[0].length);
    for (const f of m[1] as string) if (f === "i" || f === "m" || f === "s") flags += f;
  }
  src = src
    .replace(/\(\?P</g, "(?<")
    .replace(/\\z/g, "$(?![\\s\\S])")
    .replace(/\\A/g, "^");
  let re: RegExp | null = null;
  for (const extra of ["u", ""]) {
    try {
      re = new RegExp(src, flags + extra);
      break;
    } catch {
      // try the next flag set
    }
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, re);
  return re;
}

function regex(name: string, args: readonly Value[], i: number): RegExp {
  const p = str(name, args, i);
  const re = compileRegex(p);
  if (re === null) fail(`${name}: error parsing regexp: ${goRegexError(p)}`);
  return re;
}

/**
 * The reason Go's regexp/syntax gives for the common mistakes in a pattern JS refused (brackets,
 * parentheses, repetition), so messages read as OPA's; anything else is named generically.
 */
function goRegexError(p: string): string {
  let depth = 0;
  let prevRepeat = false;
  let atStart = true;
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "\\") {
      if (i + 1 >= p.length) return "trailing backslash at end of expression: ``";
      i++;
      prevRepeat = false;
      atStart = false;
      continue;
    }
    if (c === "[") {
      let j = i + 1;
      if (p[j] === "^") j++;
      if (p[j] === "]") j++;
      while (j < p.length && p[j] !== "]") j += p[j] === "\\" ? 2 : 1;
      if (j >= p.length) return `missing closing ]: \`${p.slice(i)}\``;
      i = j;
      prevRepeat = false;
      atStart = false;
      continue;
    }
    if (c === "(") {
      depth++;
      atStart = true;
      prevRepeat = false;
      continue;
    }
    if (c === ")") {
      if (depth === 0) return `unexpected ): \`${p}\``;
      depth--;
    }
    if (c === "*" || c === "+" || c === "?") {
      if (atStart || p[i - 1] === "|") return `missing argument to repetition operator: \`${c}\``;
      if (prevRepeat && c !== "?") return `invalid nested repetition operator: \`${p.slice(i - 1, i + 1)}\``;
      prevRepeat = true;
      continue;
    }
    prevRepeat = false;
    atStart = c === "|";
  }
  if (depth > 0) return `missing closing ): \`${p}\``;
  return `invalid or unsupported Perl syntax: \`${p}\``;
}

/** regexp.QuoteMeta: every RE2 metacharacter escaped. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/** regex.template_match: the text between the delimiters is a regex, the rest literal. */
function templateRegex(tpl: string, open: string, close: string): RegExp {
  let level = 0;
  let start = 0;
  let end = 0;
  let pattern = "^";
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i];
    if (c === open) {
      if (++level === 1) start = i;
    } else if (c === close) {
      level--;
      if (level === 0) {
        pattern += `${quoteMeta(tpl.slice(end, start))}(${tpl.slice(start + 1, i)})`;
        end = i + 1;
      } else if (level < 0) fail(`regex.template_match: unbalanced braces in ${JSON.stringify(tpl)}`);
    }
  }
  if (level !== 0) fail(`regex.template_match: unbalanced braces in ${JSON.stringify(tpl)}`);
  pattern += `${quoteMeta(tpl.slice(end))}$`;
  const re = compileRegex(pattern);
  if (re === null) fail(`regex.template_match: error parsing regexp: ${goRegexError(pattern)}`);
  return re;
}

function globalOf(re: RegExp): RegExp {
  return new RegExp(re.source, `${re.flags}g`);
}

export const REGEX_BUILTINS: BuiltinTable = {
  "regex.match": { arity: 2, fn: (a) => regex("regex.match", a, 0).test(str("regex.match", a, 1)) },
  re_match: { arity: 2, fn: (a) => regex("re_match", a, 0).test(str("re_match", a, 1)) },
  "regex.is_valid": {
    arity: 1,
    fn: (a) => typeof a[0] === "string" && compileRegex(a[0]) !== null,
  },
  "regex.template_match": {
    arity: 4,
    fn: (a) => {
      const tpl = str("regex.template_match", a, 0);
      const value = str("regex.template_match", a, 1);
      const open = str("regex.template_match", a, 2);
      const close = str("regex.template_match", a, 3);
      if (Array.from(open).length !== 1 || Array.from(close).length !== 1) {
        fail("regex.template_match: the delimiters must be exactly one character long");
      }
      return templateRegex(tpl, open, close).test(value);
    },
  },
  "regex.globs_match": {
    arity: 2,
    fn: (a) => globsIntersect(str("regex.globs_match", a, 0), str("regex.globs_match", a, 1)),
  },
  "regex.split": { arity: 2, fn: (a) => str("regex.split", a, 1).split(globalOf(regex("regex.split", a, 0))) },
  "regex.replace": {
    arity: 3,
    fn: (a) => {
      const re = globalOf(regex("regex.replace", a, 1));
      // Go's ${1} / $1 expansion matches JS's $1 closely enough; $$ is a literal $ in both.
      return str("regex.replace", a, 0).replace(re, str("regex.replace", a, 2).replace(/\$\{(\w+)\}/g, "$$$1"));
    },
  },
  "regex.find_n": {
    arity: 3,
    fn: (a) => {
      const re = globalOf(regex("regex.find_n", a, 0));
      const n = int("regex.find_n", a, 2);
      const out: string[] = [];
      for (const m of str("regex.find_n", a, 1).matchAll(re)) {
        if (n >= 0 && out.length >= n) break;
        out.push(m[0]);
      }
      return out;
    },
  },
  "regex.find_all_string_submatch_n": {
    arity: 3,
    fn: (a) => {
      const re = globalOf(regex("regex.find_all_string_submatch_n", a, 0));
      const n = int("regex.find_all_string_submatch_n", a, 2);
      const out: string[][] = [];
      for (const m of str("regex.find_all_string_submatch_n", a, 1).matchAll(re)) {
        if (n >= 0 && out.length >= n) break;
        out.push(Array.from(m, (x) => x ?? ""));
      }
      return out;
    },
  },
};
