import { sha256Hex, utf8 } from "@contrast/core";
import { ObjectBuilder, type Value } from "../values.js";
import { type BuiltinTable, fail, got, str } from "./registry.js";

const BINARY: Record<string, number> = {
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
  e: 2 ** 60,
  z: 2 ** 70,
  y: 2 ** 80,
};

/**
 * SI prefixes of units.parse as powers of ten. Case matters for M/m and for the prefixes beyond
 * exa (Y yotta, y yocto, ...); the OPA ones (k, G, T, P, E) are accepted in either case.
 */
const SI_EXPONENTS: Record<string, number> = {
  Q: 30,
  R: 27,
  Y: 24,
  Z: 21,
  E: 18,
  e: 18,
  P: 15,
  p: 15,
  T: 12,
  t: 12,
  G: 9,
  g: 9,
  M: 6,
  K: 3,
  k: 3,
  h: 2,
  da: 1,
  d: -1,
  c: -2,
  m: -3,
  μ: -6,
  µ: -6,
  n: -9,
  f: -15,
  a: -18,
  z: -21,
  y: -24,
  r: -27,
  q: -30,
};

/**
 * The number and the unit of a units.parse* argument, as OPA splits them: the number is the
 * longest prefix of digits, `.`, signs and an exponent (`e` followed by a digit or a sign); a
 * longer exponent than six digits is refused. Quotes are dropped and spaces refused first.
 */
function amountAndUnit(name: string, raw: string, what: string): { num: string; unit: string } {
  const s = raw.replaceAll('"', "");
  if (s.includes(" ")) fail(`${name}: spaces not allowed in resource strings`);
  let cut = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "e" || c === "E") {
      const next = s[i + 1];
      if (next === undefined || !/[0-9+-]/.test(next)) {
        cut = i;
        break;
      }
      if (next === "+" || next === "-") i++;
      let end = i + 1;
      while (end < s.length && /[0-9]/.test(s[end] as string)) end++;
      if (end - (i + 1) > 6) fail(`${name}: exponent too large`);
      continue;
    }
    if (!/[0-9.+-]/.test(c)) {
      cut = i;
      break;
    }
  }
  const num = s.slice(0, cut);
  if (num === "") fail(`${name}: no ${what}amount provided`);
  return { num, unit: s.slice(cut) };
}

const DECIMAL_NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** The decimal text times 10^exp, rounded once (1y is the double nearest 1e-24, as in regorus). */
function scaled(num: string, exp: number): number {
  const m = /^([^eE]*)(?:[eE]([+-]?[0-9]+))?$/.exec(num) as RegExpExecArray;
  return Number(`${m[1]}e${Number(m[2] ?? 0) + exp}`);
}

/**
 * units.parse: OPA's units (m, k/K, M, G, T, P, E in either case but M/m, and the binary Ki … Ei
 * in any case) and, as regorus, the other SI prefixes (SI_EXPONENTS). OPA rounds a fraction to
 * ten decimals; so do we for its units.
 */
function parseUnits(raw: string): number {
  const { num, unit: u } = amountAndUnit("units.parse", raw, "");
  // OPA lowers all but the first letter: "KI" is Ki, "mI" is mi (also Mi).
  const unit = u.length > 1 ? (u[0] as string) + u.slice(1).toLowerCase() : u;
  let value: number | undefined;
  let opa = true;
  if (unit.length === 2 && unit[1] === "i" && BINARY[(unit[0] as string).toLowerCase()] !== undefined) {
    value = decimal(num) * (BINARY[(unit[0] as string).toLowerCase()] as number);
    opa = !"zZyY".includes(unit[0] as string);
  } else {
    const exp = unit === "" ? 0 : SI_EXPONENTS[unit];
    if (exp === undefined) fail(`units.parse: unit ${unit} not recognized`);
    decimal(num);
    value = scaled(num, exp);
    opa = unit === "" || OPA_SI.has(unit);
  }
  if (!Number.isFinite(value)) fail("units.parse: could not parse amount to a number");
  return opa && !Number.isInteger(value) ? Number(value.toFixed(10)) : value;
}

const OPA_SI = new Set(["m", "k", "K", "M", "g", "G", "t", "T", "p", "P", "e", "E"]);

function decimal(num: string): number {
  if (!DECIMAL_NUMBER.test(num)) fail("units.parse: could not parse amount to a number");
  return Number(num);
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  p: 1e15,
  e: 1e18,
  z: 1e21,
  y: 1e24,
  r: 1e27,
  q: 1e30,
};

/** units.parse_bytes: B, K/KB (1000), Ki/KiB (1024), … any case; whole bytes, truncated. */
function parseBytes(raw: string): number {
  const { num, unit: u } = amountAndUnit("units.parse_bytes", raw.toLowerCase(), "byte ");
  let unit = u;
  // "b" alone is no unit in OPA; KB, KiB, … drop their b.
  if (unit.length > 1 && unit.endsWith("b")) unit = unit.slice(0, -1);
  let factor: number | undefined;
  if (unit.length === 2 && unit[1] === "i") factor = BINARY[unit[0] as string];
  else factor = BYTE_UNITS[unit];
  if (factor === undefined) fail(`units.parse_bytes: byte unit ${u} not recognized`);
  if (!DECIMAL_NUMBER.test(num)) fail("units.parse_bytes: could not parse byte amount to a number");
  const value = factor === 1 || unit.length === 2 ? Number(num) * factor : scaled(num, Math.log10(factor));
  if (!Number.isFinite(value)) fail("units.parse_bytes: could not parse byte amount to a number");
  return Math.trunc(value) === 0 ? 0 : Math.trunc(value);
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function semver(name: string, s: string, pos: number): RegExpExecArray {
  const m = SEMVER.exec(s);
  if (m === null) fail(`${name}: operand ${pos}: string ${JSON.stringify(s)} is not a valid SemVer`);
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

/** A version 4 UUID derived from the seed: the same seed gives the same UUID within a query. */
function uuidFromSeed(seed: string): string {
  const h = sha256Hex(utf8(`uuid.rfc4122\u0000${seed}`));
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const GREGORIAN_OFFSET_100NS = 0x01b21dd213814000n;

/** uuid.parse: the fields of an RFC 4122 UUID; time-based versions give the time, 1 and 2 the node too. */
function parseUuid(input: string): Value | undefined {
  // The forms Go's uuid.Parse takes: plain, urn:uuid:, braced (38 characters: the first and the
  // last are dropped unchecked) and 32 hex digits.
  let s = input;
  if (s.length === 45 && s.slice(0, 9).toLowerCase() === "urn:uuid:") s = s.slice(9);
  else if (s.length === 38) s = s.slice(1, 37);
  else if (s.length === 32 && /^[0-9a-f]{32}$/i.test(s)) {
    s = `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(s);
  if (m === null) return undefined;
  const hex = (m.slice(1) as string[]).join("").toLowerCase();
  const byte = (i: number) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const version = byte(6) >> 4;
  const v8 = byte(8);
  const variant =
    v8 >> 7 === 0
      ? "Reserved, NCS backward compatibility"
      : v8 >> 6 === 2
        ? "RFC4122"
        : v8 >> 5 === 6
          ? "Reserved, Microsoft Corporation backward compatibility"
          : "Reserved, future definition";
  const out = new ObjectBuilder();
  out.set("version", version);
  out.set("variant", variant);
  const node = () => {
    const nb = byte(10);
    out.set("nodeid", hex.slice(20).match(/../g)?.join("-") ?? "");
    out.set("macvariables", `${nb & 2 ? "local" : "global"}:${nb & 1 ? "multicast" : "unicast"}`);
    out.set("clocksequence", ((v8 & 0x3f) << 8) | byte(9));
  };
  const toNs = (t100: bigint) => Number((t100 - GREGORIAN_OFFSET_100NS) * 100n);
  if (version === 1 || version === 2) {
    // Version 2 keeps a local id in time_low; the time still reads it, as Go's uuid.Time() does.
    const low = BigInt(`0x${hex.slice(0, 8)}`);
    const mid = BigInt(`0x${hex.slice(8, 12)}`);
    const hi = BigInt(`0x${hex.slice(12, 16)}`) & 0xfffn;
    out.set("time", toNs((hi << 48n) | (mid << 32n) | low));
    node();
    if (version === 2) {
      out.set("clocksequence", (v8 & 0x3f) << 8);
      const domain = byte(9);
      out.set("domain", domain === 0 ? "Person" : domain === 1 ? "Group" : domain === 2 ? "Org" : `Domain${domain}`);
      out.set("id", Number.parseInt(hex.slice(0, 8), 16));
    }
  } else if (version === 6) {
    const t = (BigInt(`0x${hex.slice(0, 12)}`) << 12n) | BigInt(`0x${hex.slice(13, 16)}`);
    out.set("time", toNs(t));
  } else if (version === 7) {
    out.set("time", Number(BigInt(`0x${hex.slice(0, 12)}`) * 1_000_000n));
  }
  return out.build();
}

export const MISC_BUILTINS: BuiltinTable = {
  "uuid.parse": { arity: 1, fn: (a) => parseUuid(str("uuid.parse", a, 0)) },
  "uuid.rfc4122": { arity: 1, fn: (a) => uuidFromSeed(str("uuid.rfc4122", a, 0)) },
  // An unknown unit is an error, as in OPA (regorus: undefined); non-strict evaluation makes it undefined.
  "units.parse": { arity: 1, fn: (a) => parseUnits(str("units.parse", a, 0)) },
  "units.parse_bytes": { arity: 1, fn: (a) => parseBytes(str("units.parse_bytes", a, 0)) },
  "semver.is_valid": { arity: 1, fn: (a) => typeof a[0] === "string" && SEMVER.test(a[0]) },
  // The library is given no runtime information; OPA's opa.runtime() is {} when it has none.
  "opa.runtime": { arity: 0, fn: () => new ObjectBuilder().build() },
  "semver.compare": {
    arity: 2,
    fn: (a) => {
      const sx = str("semver.compare", a, 0);
      const sy = str("semver.compare", a, 1);
      const x = semver("semver.compare", sx, 1);
      const y = semver("semver.compare", sy, 2);
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
