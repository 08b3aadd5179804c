import { formatNumber, formatValue } from "../format.js";
import { RSet, type Value } from "../values.js";
import { array, type BuiltinTable, fail, failElement, failOperand, failType, got, int, str } from "./registry.js";

/** Code points of a string: Rego indexes strings by character, not by UTF-16 unit. */
function chars(s: string): string[] {
  return Array.from(s);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Strings of an array or set operand; `expected` is OPA's list of types for its message. */
function strings(
  name: string,
  args: readonly Value[],
  i: number,
  expected: readonly string[] = ["set", "array"],
): string[] {
  const v = args[i] as Value;
  let xs: readonly Value[];
  if (Array.isArray(v)) xs = v as readonly Value[];
  else if (v instanceof RSet) xs = v.values();
  else return failType(name, i + 1, expected, v, `\`${name}\` expects array/set of strings. ${got(v)}`);
  return xs.map((x) => {
    if (typeof x !== "string")
      failElement(name, i + 1, v, "string", x, `\`${name}\` expects array/set of strings. ${got(x)}`);
    return x;
  });
}

/** A string, or the strings of an array or set (strings.any_prefix_match and _suffix_match). */
function stringOrStrings(name: string, args: readonly Value[], i: number): string[] {
  const v = args[i] as Value;
  return typeof v === "string" ? [v] : strings(name, args, i, ["string", "set", "array"]);
}

/** strings.split_n: the first n parts (n >= 0) or the last -n parts (n < 0) of the split. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts = sep === "" ? chars(s) : s.split(sep);
  return n >= 0 ? parts.slice(0, n) : parts.slice(Math.max(parts.length + n, 0));
}

function trimSet(s: string, cutset: string, left: boolean, right: boolean): string {
  if (isAscii(s) && isAscii(cutset)) {
    // One UTF-16 unit per character: trim in place, without splitting into code points.
    let a = 0;
    let b = s.length;
    if (left) while (a < b && cutset.includes(s.charAt(a))) a++;
    if (right) while (b > a && cutset.includes(s.charAt(b - 1))) b--;
    return s.slice(a, b);
  }
  const cut = new Set(chars(cutset));
  const cs = chars(s);
  let a = 0;
  let b = cs.length;
  if (left) while (a < b && cut.has(cs[a] as string)) a++;
  if (right) while (b > a && cut.has(cs[b - 1] as string)) b--;
  return cs.slice(a, b).join("");
}

/**
 * Every non-overlapping `old` (not empty) replaced by `rep`, left to right. An indexOf loop: half
 * the cost of split/join, and a string without `old` (the common case) comes back as is.
 */
function replaceAll(s: string, old: string, rep: string): string {
  let i = s.indexOf(old);
  if (i < 0) return s;
  let out = "";
  let from = 0;
  while (i >= 0) {
    out += s.slice(from, i) + rep;
    from = i + old.length;
    i = s.indexOf(old, from);
  }
  return out + s.slice(from);
}

const WHITESPACE = /^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/g;

export const STRING_BUILTINS: BuiltinTable = {
  concat: {
    arity: 2,
    fn: (a) => {
      const sep = str("concat", a, 0);
      return strings("concat", a, 1).join(sep);
    },
  },
  contains: { arity: 2, fn: (a) => str("contains", a, 0).includes(str("contains", a, 1)) },
  startswith: { arity: 2, fn: (a) => str("startswith", a, 0).startsWith(str("startswith", a, 1)) },
  endswith: { arity: 2, fn: (a) => str("endswith", a, 0).endsWith(str("endswith", a, 1)) },
  lower: { arity: 1, fn: (a) => str("lower", a, 0).toLowerCase() },
  upper: { arity: 1, fn: (a) => str("upper", a, 0).toUpperCase() },
  indexof: {
    arity: 2,
    fn: (a) => {
      const s = str("indexof", a, 0);
      const sub = str("indexof", a, 1);
      if (sub === "") return -1;
      const i = s.indexOf(sub);
      if (i < 0) return -1;
      return isAscii(s) ? i : chars(s.slice(0, i)).length;
    },
  },
  indexof_n: {
    arity: 2,
    fn: (a) => {
      const s = str("indexof_n", a, 0);
      const sub = str("indexof_n", a, 1);
      const out: number[] = [];
      if (sub === "") return out;
      for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) out.push(chars(s.slice(0, i)).length);
      return out;
    },
  },
  replace: {
    arity: 3,
    fn: (a) => {
      const s = str("replace", a, 0);
      const old = str("replace", a, 1);
      const rep = str("replace", a, 2);
      if (old === "") {
        // Go's strings.Replace with an empty old string inserts between every character.
        const cs = chars(s);
        return rep + cs.map((c) => c + rep).join("");
      }
      return replaceAll(s, old, rep);
    },
  },
  "strings.replace_n": {
    arity: 2,
    fn: (a) => {
      const o = a[0] as Value;
      const s = str("strings.replace_n", a, 1);
      if (!(o !== null && typeof o === "object" && !Array.isArray(o) && !(o instanceof RSet))) {
        failType("strings.replace_n", 1, "object", o, `\`strings.replace_n\` expects object argument. ${got(o)}`);
      }
      const pairs: [string, string][] = [];
      for (const [k, v] of o.entries()) {
        if (typeof k !== "string") failOperand("strings.replace_n", 1, "non-string key found in pattern object");
        if (typeof v !== "string") failOperand("strings.replace_n", 1, "non-string value found in pattern object");
        pairs.push([k, v]);
      }
      // One pass, trying patterns in key order at each position, as Go's strings.Replacer.
      let out = "";
      let i = 0;
      outer: while (i < s.length) {
        for (const [k, v] of pairs) {
          if (k !== "" && s.startsWith(k, i)) {
            out += v;
            i += k.length;
            continue outer;
          }
        }
        out += s[i];
        i++;
      }
      return out;
    },
  },
  "strings.reverse": {
    arity: 1,
    fn: (a) =>
      chars(str("strings.reverse", a, 0))
        .reverse()
        .join(""),
  },
  "strings.count": {
    arity: 2,
    fn: (a) => {
      const s = str("strings.count", a, 0);
      const sub = str("strings.count", a, 1);
      if (sub === "") return chars(s).length + 1;
      return s.split(sub).length - 1;
    },
  },
  "strings.any_prefix_match": {
    arity: 2,
    fn: (a) => {
      const ss = stringOrStrings("strings.any_prefix_match", a, 0);
      const ps = stringOrStrings("strings.any_prefix_match", a, 1);
      return ss.some((s) => ps.some((p) => s.startsWith(p)));
    },
  },
  "strings.any_suffix_match": {
    arity: 2,
    fn: (a) => {
      const ss = stringOrStrings("strings.any_suffix_match", a, 0);
      const ps = stringOrStrings("strings.any_suffix_match", a, 1);
      return ss.some((s) => ps.some((p) => s.endsWith(p)));
    },
  },
  split: {
    arity: 2,
    fn: (a) => {
      const s = str("split", a, 0);
      const sep = str("split", a, 1);
      return sep === "" ? chars(s) : s.split(sep);
    },
  },
  substring: {
    arity: 3,
    fn: (a) => {
      const s = str("substring", a, 0);
      const start = int("substring", a, 1);
      const len = int("substring", a, 2);
      if (start < 0) fail("substring: negative offset (`substring` expects a non-negative offset)");
      const cs = isAscii(s) ? null : chars(s);
      const n = cs === null ? s.length : cs.length;
      if (start >= n) return "";
      const end = len < 0 ? n : Math.min(n, start + len);
      return cs === null ? s.slice(start, end) : cs.slice(start, end).join("");
    },
  },
  trim: { arity: 2, fn: (a) => trimSet(str("trim", a, 0), str("trim", a, 1), true, true) },
  trim_left: { arity: 2, fn: (a) => trimSet(str("trim_left", a, 0), str("trim_left", a, 1), true, false) },
  trim_right: { arity: 2, fn: (a) => trimSet(str("trim_right", a, 0), str("trim_right", a, 1), false, true) },
  trim_prefix: {
    arity: 2,
    fn: (a) => {
      const s = str("trim_prefix", a, 0);
      const p = str("trim_prefix", a, 1);
      return s.startsWith(p) ? s.slice(p.length) : s;
    },
  },
  trim_suffix: {
    arity: 2,
    fn: (a) => {
      const s = str("trim_suffix", a, 0);
      const p = str("trim_suffix", a, 1);
      return p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
    },
  },
  trim_space: { arity: 1, fn: (a) => str("trim_space", a, 0).replace(WHITESPACE, "") },
  sprintf: { arity: 2, fn: (a) => sprintf(str("sprintf", a, 0), array("sprintf", a, 1)) },
  "strings.split_n": {
    arity: 3,
    fn: (a) => splitN(str("strings.split_n", a, 0), str("strings.split_n", a, 1), int("strings.split_n", a, 2)),
  },
  "strings.join": { arity: 2, fn: (a) => strings("strings.join", a, 1).join(str("strings.join", a, 0)) },
};

/** Go's fmt verbs as OPA's sprintf uses them: %s %v %d %f %e %g %x %X %o %b %t %q and %%. */
export function sprintf(format: string, args: readonly Value[]): string {
  let out = "";
  let argi = 0;
  let verbs = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string;
    if (c !== "%") {
      out += c;
      continue;
    }
    const m = /^([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/.exec(format.slice(i + 1));
    if (m === null) {
      out += "%!(NOVERB)";
      continue;
    }
    i += m[0].length;
    const [, flags = "", widthText, precText, verb = ""] = m;
    if (verb === "%") {
      out += "%";
      continue;
    }
    verbs++;
    if (argi >= args.length) fail(`no argument specified for format verb ${verbs - 1}`);
    const v = args[argi++] as Value;
    const prec = precText === undefined ? undefined : Number(precText);
    let s: string;
    switch (verb) {
      case "s":
      case "v":
        s = typeof v === "string" ? v : formatValue(v);
        break;
      case "q":
        s = JSON.stringify(typeof v === "string" ? v : formatValue(v));
        break;
      case "d":
        s = typeof v === "number" && Number.isInteger(v) ? String(v) : `%!d(${formatValue(v)})`;
        break;
      case "f":
      case "F":
        s = typeof v === "number" ? (prec === undefined ? fixedGo(v) : v.toFixed(prec)) : `%!f(${formatValue(v)})`;
        break;
      case "e":
        s = typeof v === "number" ? goExp(v.toExponential(prec ?? 6)) : `%!e(${formatValue(v)})`;
        break;
      case "g":
        s = typeof v === "number" ? formatNumber(v) : `%!g(${formatValue(v)})`;
        break;
      case "x":
      case "X":
        s =
          typeof v === "number" && Number.isInteger(v)
            ? v.toString(16)
            : typeof v === "string"
              ? Array.from(new TextEncoder().encode(v), (b) => b.toString(16).padStart(2, "0")).join("")
              : `%!x(${formatValue(v)})`;
        if (verb === "X") s = s.toUpperCase();
        break;
      case "o":
        s = typeof v === "number" && Number.isInteger(v) ? `0O${v.toString(8)}` : `%!o(${formatValue(v)})`;
        break;
      case "b":
        s = typeof v === "number" && Number.isInteger(v) ? v.toString(2) : `%!b(${formatValue(v)})`;
        break;
      case "t":
        s = typeof v === "boolean" ? String(v) : `%!t(${formatValue(v)})`;
        break;
      default:
        s = `%!${verb}(${formatValue(v)})`;
    }
    if (flags.includes("+") && typeof v === "number" && v >= 0) s = `+${s}`;
    const width = widthText === undefined ? 0 : Number(widthText);
    if (s.length < width) {
      if (flags.includes("-")) s = s.padEnd(width);
      else if (flags.includes("0") && typeof v === "number") {
        const neg = s.startsWith("-");
        s = (neg ? "-" : "") + s.slice(neg ? 1 : 0).padStart(width - (neg ? 1 : 0), "0");
      } else s = s.padStart(width);
    }
    out += s;
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((v) => `${typeof v === "string" ? "string" : "value"}=${typeof v === "string" ? v : formatValue(v)}`)
      .join(", ")})`;
  }
  return out;
}

/** %f without precision: regorus prints the shortest form of the number. */
function fixedGo(v: number): string {
  return formatNumber(v);
}

function goExp(s: string): string {
  // JS writes 1.5e+2, Go writes 1.500000e+02.
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}
