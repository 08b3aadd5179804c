import { keyOf, RObject, RSet, type Value } from "../values.js";
import { type BuiltinTable, fail, str } from "./registry.js";

// net.cidr_* with Go's net package rules, which OPA's results follow: dotted IPv4 without
// leading zeros, IPv6 with `::` and an embedded IPv4 tail, an IPv4-mapped IPv6 address counting
// as IPv4, RFC 5952 text for IPv6 results. Addresses are bigints.

interface Ip {
  readonly v4: boolean;
  readonly n: bigint;
}

interface Net {
  readonly v4: boolean;
  /** The network address (host bits cleared). */
  readonly base: bigint;
  readonly prefix: number;
}

const bits = (v4: boolean): number => (v4 ? 32 : 128);

function parseV4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  let text = s;
  if (text.includes(".")) {
    // An embedded IPv4 tail ("::ffff:1.2.3.4") is two more groups.
    const colon = text.lastIndexOf(":");
    const v4 = parseV4(text.slice(colon + 1));
    if (v4 === undefined || colon < 0) return undefined;
    text = `${text.slice(0, colon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): bigint[] | undefined => {
    if (h === "") return [];
    const out: bigint[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const rest = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || rest === undefined) return undefined;
  const total = head.length + rest.length;
  let all: bigint[];
  if (halves.length === 2) {
    if (total > 7) return undefined;
    all = [...head, ...Array<bigint>(8 - total).fill(0n), ...rest];
  } else {
    if (total !== 8) return undefined;
    all = head;
  }
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Go's net.ParseIP; an IPv4-mapped IPv6 address becomes IPv4. */
function parseIp(s: string): Ip | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v4: true, n: v4 };
  if (!s.includes(":")) return undefined;
  const v6 = parseV6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v4: true, n: v6 & 0xffffffffn };
  return { v4: false, n: v6 };
}

function mask(v4: boolean, prefix: number): bigint {
  const b = bits(v4);
  return ((1n << BigInt(b)) - 1n) ^ ((1n << BigInt(b - prefix)) - 1n);
}

/** Go's net.ParseCIDR: the network of an address and a prefix length. */
function parseCidr(s: string): Net | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  const v4 = parseV4(addr);
  const ip: Ip | undefined =
    v4 !== undefined ? { v4: true, n: v4 } : addr.includes(":") ? mapped(parseV6(addr)) : undefined;
  if (ip === undefined || !/^[0-9]{1,3}$/.test(len) || Number(len) > bits(ip.v4)) return undefined;
  const prefix = Number(len);
  return { v4: ip.v4, base: ip.n & mask(ip.v4, prefix), prefix };
}

function mapped(n: bigint | undefined): Ip | undefined {
  // ParseCIDR keeps an IPv6 text as IPv6 (a 16-byte network), unlike ParseIP.
  return n === undefined ? undefined : { v4: false, n };
}

function cidrOperand(name: string, args: readonly Value[], i: number): Net {
  const s = str(name, args, i);
  const net = parseCidr(s);
  if (net === undefined) fail(`${name}: invalid CIDR address: ${s}`);
  return net;
}

function last(n: Net): bigint {
  return n.base | ((1n << BigInt(bits(n.v4) - n.prefix)) - 1n);
}

function contains(n: Net, ip: Ip): boolean {
  return n.v4 === ip.v4 && (ip.n & mask(n.v4, n.prefix)) === n.base;
}

function formatIp(v4: boolean, n: bigint): string {
  if (v4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join(".");
  if (n >> 32n === 0xffffn) return formatIp(true, n & 0xffffffffn);
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: the longest run of two or more zero groups becomes "::" (the first on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function formatNet(n: Net): string {
  return `${formatIp(n.v4, n.base)}/${n.prefix}`;
}

/** net.cidr_contains: a CIDR contains an address, or all of another CIDR. */
function cidrContains(name: string, a: Value, b: Value): boolean {
  const outer = cidrOperand(name, [a], 0);
  const s = str(name, [b], 0);
  const ip = parseIp(s);
  if (ip !== undefined) return contains(outer, ip);
  const inner = parseCidr(s);
  if (inner === undefined) fail(`${name}: not a valid textual representation of an IP address or CIDR: ${s}`);
  return contains(outer, { v4: inner.v4, n: inner.base }) && contains(outer, { v4: inner.v4, n: last(inner) });
}

/** The (cidr, key) pairs of a net.cidr_contains_matches operand. */
function matchTerms(pos: number, v: Value): [Value, Value][] {
  const cidrOf = (x: Value): Value => {
    if (typeof x === "string") return x;
    if (Array.isArray(x) && x.length > 0) return x[0] as Value;
    return fail(`net.cidr_contains_matches: operand ${pos}: element must be string or non-empty array`);
  };
  if (typeof v === "string") return [[v, v]];
  if (Array.isArray(v)) return (v as readonly Value[]).map((x, i) => [cidrOf(x), i]);
  if (v instanceof RSet) return v.values().map((x) => [cidrOf(x), x]);
  if (v instanceof RObject) return v.entries().map(([k, x]) => [cidrOf(x), k]);
  return [];
}

const MAX_EXPAND = 1 << 20;

function expand(name: string, s: string): RSet {
  const slash = s.indexOf("/");
  const net = parseCidr(s);
  if (net === undefined || slash < 0) fail(`${name}: invalid CIDR address: ${s}`);
  const size = 1n << BigInt(bits(net.v4) - net.prefix);
  if (size > BigInt(MAX_EXPAND)) fail(`${name}: ${s} has ${size} addresses, more than the limit of ${MAX_EXPAND}`);
  const out = new Map<string, Value>();
  for (let n = net.base; n <= last(net); n++) {
    const text = formatIp(net.v4, n);
    out.set(keyOf(text), text);
  }
  return new RSet(out);
}

/** A merge input: a CIDR, or an IPv4 address with its classful default mask (Go's DefaultMask). */
function mergeNet(x: Value): Net {
  if (typeof x !== "string") return fail("net.cidr_merge: element must be string");
  const ip = parseIp(x);
  if (ip === undefined) {
    const n = parseCidr(x);
    if (n === undefined) fail(`net.cidr_merge: invalid CIDR address: ${x}`);
    return n;
  }
  if (!ip.v4) fail("net.cidr_merge: IPv6 invalid: needs prefix length");
  const first = Number(ip.n >> 24n);
  const prefix = first < 0x80 ? 8 : first < 0xc0 ? 16 : 24;
  return { v4: true, base: ip.n & mask(true, prefix), prefix };
}

/** The fewest CIDRs that cover first..last exactly. */
function rangeToCidrs(v4: boolean, first: bigint, lastIp: bigint): Net[] {
  const out: Net[] = [];
  const width = bits(v4);
  let cur = first;
  while (cur <= lastIp) {
    let size = width;
    // Grow the block while it stays aligned at `cur` and inside the range.
    while (size > 0) {
      const next = size - 1;
      const block = 1n << BigInt(width - next);
      if (cur % block !== 0n || cur + block - 1n > lastIp) break;
      size = next;
    }
    out.push({ v4, base: cur, prefix: size });
    cur += 1n << BigInt(width - size);
  }
  return out;
}

function merge(items: readonly Value[]): RSet {
  const nets = items.map(mergeNet);
  const out = new Map<string, Value>();
  for (const v4 of [true, false]) {
    const ranges = nets
      .filter((n) => n.v4 === v4)
      .map((n) => ({ first: n.base, last: last(n), net: n as Net | undefined }))
      .sort((a, b) => (a.last === b.last ? Number(a.first - b.first) : a.last < b.last ? -1 : 1));
    // From the end, fold a range into its predecessor when they touch or overlap.
    for (let i = ranges.length - 1; i > 0; i--) {
      const cur = ranges[i] as { first: bigint; last: bigint; net: Net | undefined };
      const prev = ranges[i - 1] as { first: bigint; last: bigint; net: Net | undefined };
      if (cur.first - 1n <= prev.last) {
        // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min does not take.
        const first = prev.first < cur.first ? prev.first : cur.first;
        ranges[i - 1] = { first, last: cur.last, net: undefined };
        ranges.splice(i, 1);
      }
    }
    for (const r of ranges) {
      for (const n of r.net !== undefined ? [r.net] : rangeToCidrs(v4, r.first, r.last)) {
        const text = formatNet(n);
        out.set(keyOf(text), text);
      }
    }
  }
  return new RSet(out);
}

export const NET_BUILTINS: BuiltinTable = {
  "net.cidr_contains": {
    arity: 2,
    fn: (a) => cidrContains("net.cidr_contains", a[0] as Value, a[1] as Value),
  },
  // OPA's deprecated name of net.cidr_contains.
  "net.cidr_overlap": {
    arity: 2,
    fn: (a) => cidrContains("net.cidr_overlap", a[0] as Value, a[1] as Value),
  },
  "net.cidr_intersects": {
    arity: 2,
    fn: (a) => {
      const x = cidrOperand("net.cidr_intersects", a, 0);
      const y = cidrOperand("net.cidr_intersects", a, 1);
      return contains(x, { v4: y.v4, n: y.base }) || contains(y, { v4: x.v4, n: x.base });
    },
  },
  "net.cidr_contains_matches": {
    arity: 2,
    fn: (a) => {
      const out = new Map<string, Value>();
      const xs = matchTerms(1, a[0] as Value);
      const ys = matchTerms(2, a[1] as Value);
      for (const [c1, k1] of xs) {
        for (const [c2, k2] of ys) {
          if (cidrContains("net.cidr_contains_matches", c1, c2)) {
            const pair = [k1, k2];
            out.set(keyOf(pair), pair);
          }
        }
      }
      return new RSet(out);
    },
  },
  "net.cidr_expand": { arity: 1, fn: (a) => expand("net.cidr_expand", str("net.cidr_expand", a, 0)) },
  "net.cidr_is_valid": {
    arity: 1,
    fn: (a) => typeof a[0] === "string" && parseCidr(a[0]) !== undefined,
  },
  "net.cidr_merge": {
    arity: 1,
    fn: (a) => {
      const v = a[0] as Value;
      if (Array.isArray(v)) return merge(v as readonly Value[]);
      if (v instanceof RSet) return merge(v.values());
      return fail("net.cidr_merge: operand must be an array");
    },
  },
};
