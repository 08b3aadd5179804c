import { sha256Hex, utf8 } from "@contrast/core";
import { ObjectBuilder, type Value } from "../values.js";
import { type BuiltinTable, fail, got, str } from "./registry.js";

const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, e: 1e18 };
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

function unitInput(name: string, args: readonly Value[]): string {
  let s = str(name, args, 0);
  if (s.includes(" ")) fail(`\`${name}\`: spaces not allowed in resource string`);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  return s;
}

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

/** units.parse: SI prefixes (see SI_EXPONENTS) and binary ones (Ki, Mi, ... any case). */
function parseUnits(s: string): number | undefined {
  const m = /^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)(\p{L}*)$/u.exec(s);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] as string;
  if (suffix === "") return n;
  const exp = SI_EXPONENTS[suffix];
  if (exp !== undefined) {
    // Scaling the decimal text rounds once: 1y is the double nearest 1e-24, as in regorus.
    const digits = m[1] as string;
    return /[eE]/.test(digits) ? n * 10 ** exp : Number(`${digits}e${exp}`);
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
  const big: Record<string, number> = { ...DECIMAL, z: 1e21, y: 1e24, r: 1e27, q: 1e30 };
  const bin = BINARY;
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

/** A version 4 UUID derived from the seed: the same seed gives the same UUID within a query. */
function uuidFromSeed(seed: string): string {
  const h = sha256Hex(utf8(`uuid.rfc4122\u0000${seed}`));
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const GREGORIAN_OFFSET_100NS = 0x01b21dd213814000n;

/** uuid.parse: the fields of an RFC 4122 UUID; time-based versions give the time, 1 and 2 the node too. */
function parseUuid(s: string): Value | undefined {
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
  "units.parse": {
    arity: 1,
    fn: (a) => {
      const s = unitInput("units.parse", a);
      // An unknown suffix makes the call undefined, as in regorus.
      return parseUnits(s);
    },
  },
  "units.parse_bytes": {
    arity: 1,
    fn: (a) => {
      const s = unitInput("units.parse_bytes", a);
      return parseBytes(s);
    },
  },
  "semver.is_valid": { arity: 1, fn: (a) => SEMVER.test(str("semver.is_valid", a, 0)) },
  "semver.compare": {
    arity: 2,
    fn: (a) => {
      const sx = str("semver.compare", a, 0);
      const sy = str("semver.compare", a, 1);
      const x = semver("semver.compare", sx);
      const y = semver("semver.compare", sy);
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
