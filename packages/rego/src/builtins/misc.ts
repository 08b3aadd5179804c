import type { Value } from "../values.js";
import { type BuiltinTable, fail, got, str } from "./registry.js";

const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, e: 1e18 };
const BINARY: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };

function unitInput(name: string, args: readonly Value[]): string {
  let s = str(name, args, 0);
  if (s.includes(" ")) fail(`\`${name}\`: spaces not allowed in resource string`);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  return s;
}

/** units.parse: SI suffixes (k, M, G, ... and m for milli) and binary ones (Ki, Mi, ...). */
function parseUnits(s: string): number | undefined {
  const m = /^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(s);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] as string;
  if (suffix === "") return n;
  if (suffix === "m") return n / 1000;
  if (suffix.length === 1) {
    const f = DECIMAL[suffix.toLowerCase()];
    return f === undefined || suffix === "M" ? (suffix === "M" ? n * 1e6 : undefined) : n * f;
  }
  if (suffix.length === 2 && suffix[1]?.toLowerCase() === "i") {
    const f = BINARY[(suffix[0] as string).toLowerCase()];
    return f === undefined ? undefined : n * f;
  }
  return undefined;
}

/** units.parse_bytes: B, KB/K (1000), KiB/Ki (1024), ... case-insensitively; a whole number. */
function parseBytes(s: string): number | undefined {
  const m = /^([0-9]*\.?[0-9]+)([a-zA-Z]*)$/.exec(s);
  if (m === null) return undefined;
  const n = Number(m[1]);
  let suffix = (m[2] as string).toLowerCase();
  if (suffix.endsWith("b")) suffix = suffix.slice(0, -1);
  if (suffix === "") return Math.floor(n);
  const big: Record<string, number> = { ...DECIMAL, z: 1e21, y: 1e24 };
  const bin: Record<string, number> = { ...BINARY, z: 2 ** 70, y: 2 ** 80 };
  if (suffix.length === 1) {
    const f = big[suffix];
    return f === undefined ? undefined : Math.floor(n * f);
  }
  if (suffix.length === 2 && suffix[1] === "i") {
    const f = bin[suffix[0] as string];
    return f === undefined ? undefined : Math.floor(n * f);
  }
  return undefined;
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function semver(name: string, s: string): RegExpExecArray {
  const m = SEMVER.exec(s);
  if (m === null) fail(`\`${name}\`: ${JSON.stringify(s)} is not a valid SemVer`);
  return m;
}

function comparePre(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  const xs = a.split(".");
  const ys = b.split(".");
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i] as string;
    const y = ys[i] as string;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = Number(x) - Number(y);
      if (d !== 0) return Math.sign(d);
    } else if (xn !== yn) return xn ? -1 : 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return Math.sign(xs.length - ys.length);
}

/** Go-style glob (gobwas/glob as OPA uses it) compiled to a RegExp. */
function globRegex(pattern: string, delimiters: string[]): RegExp {
  const notDelim = delimiters.length === 0 ? "[\\s\\S]" : `[^${delimiters.map(escapeClass).join("")}]`;
  let out = "";
  let inAlt = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      out += escapeRe(pattern[++i] as string);
    } else if (c === "*") {
      if (pattern[i + 1] === "*") {
        out += "[\\s\\S]*";
        i++;
      } else out += `${notDelim}*`;
    } else if (c === "?") out += notDelim;
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) fail(`\`glob.match\`: unterminated character class in ${JSON.stringify(pattern)}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
      out += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "{") {
      inAlt++;
      out += "(?:";
    } else if (c === "}" && inAlt > 0) {
      inAlt--;
      out += ")";
    } else if (c === "," && inAlt > 0) out += "|";
    else out += escapeRe(c);
  }
  return new RegExp(`^${out}$`, "u");
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, "\\$&");
}

export const MISC_BUILTINS: BuiltinTable = {
  "units.parse": {
    arity: 1,
    fn: (a) => {
      const s = unitInput("units.parse", a);
      const n = parseUnits(s);
      if (n === undefined) fail(`\`units.parse\`: could not parse ${JSON.stringify(s)}`);
      return n;
    },
  },
  "units.parse_bytes": {
    arity: 1,
    fn: (a) => {
      const s = unitInput("units.parse_bytes", a);
      const n = parseBytes(s);
      if (n === undefined) fail(`\`units.parse_bytes\`: could not parse ${JSON.stringify(s)}`);
      return n;
    },
  },
  "semver.is_valid": { arity: 1, fn: (a) => typeof a[0] === "string" && SEMVER.test(a[0]) },
  "semver.compare": {
    arity: 2,
    fn: (a) => {
      const x = semver("semver.compare", str("semver.compare", a, 0));
      const y = semver("semver.compare", str("semver.compare", a, 1));
      for (let i = 1; i <= 3; i++) {
        const d = Number(x[i]) - Number(y[i]);
        if (d !== 0) return Math.sign(d);
      }
      return comparePre(x[4], y[4]);
    },
  },
  "glob.match": {
    arity: 3,
    fn: (a) => {
      const pattern = str("glob.match", a, 0);
      const d = a[1] as Value;
      let delimiters: string[];
      if (d === null) delimiters = [];
      else if (Array.isArray(d)) {
        delimiters = (d as readonly Value[]).map((x) => {
          if (typeof x !== "string") fail(`\`glob.match\` expects array of strings. ${got(x)}`);
          return x;
        });
        if (delimiters.length === 0) delimiters = ["."];
      } else return fail(`\`glob.match\` expects array argument. ${got(d)}`);
      return globRegex(pattern, delimiters).test(str("glob.match", a, 2));
    },
  },
  "glob.quote_meta": {
    arity: 1,
    fn: (a) => str("glob.quote_meta", a, 0).replace(/[*?\\[\]{}]/g, "\\$&"),
  },
};
