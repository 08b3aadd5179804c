import type { Value } from "../values.js";
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
  if (re === null) fail(`\`${name}\`: invalid regular expression ${JSON.stringify(p)}`);
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
