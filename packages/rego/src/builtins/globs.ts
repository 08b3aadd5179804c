import { fail } from "./registry.js";

// regex.globs_match: whether two restricted patterns (characters, `.`, `[a-z0-9]` sets, each
// optionally followed by `*` or `+`; `\` escapes) match at least one common string. Each pattern
// is a small automaton; a breadth-first search over pairs of positions finds a common word.

/** A set of code points as sorted, disjoint, inclusive ranges. */
type Ranges = readonly (readonly [number, number])[];

const ANY: Ranges = [[0, 0x10ffff]];

interface Token {
  readonly set: Ranges;
  /** "1" exactly one; "*" any number (also none). "+" is split into "1" then "*". */
  readonly q: "1" | "*";
}

function invalid(input: string, pos: number, what: string): never {
  return fail(`regex.globs_match: input:${input}, pos:${pos}, ${what}: the input provided is invalid`);
}

function parse(input: string): Token[] {
  const cs = Array.from(input);
  const out: Token[] = [];
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] as string;
    let set: Ranges;
    if (c === "\\") {
      const next = cs[++i];
      if (next === undefined) invalid(input, i + 1, "escape '\\' with no following character");
      const cp = next.codePointAt(0) as number;
      set = [[cp, cp]];
    } else if (c === ".") set = ANY;
    else if (c === "[") {
      const ranges: [number, number][] = [];
      let j = i + 1;
      for (; j < cs.length && cs[j] !== "]"; j++) {
        let ch = cs[j] as string;
        if (ch === "\\") ch = cs[++j] ?? invalid(input, j + 1, "escape '\\' with no following character");
        const lo = ch.codePointAt(0) as number;
        if (cs[j + 1] === "-" && cs[j + 2] !== undefined && cs[j + 2] !== "]") {
          const hi = (cs[j + 2] as string).codePointAt(0) as number;
          if (hi < lo) invalid(input, j + 3, "range end before its start");
          ranges.push([lo, hi]);
          j += 2;
        } else ranges.push([lo, lo]);
      }
      if (j >= cs.length) invalid(input, i + 1, "set-open '[' with no closing ']'");
      if (ranges.length === 0) invalid(input, j + 1, "empty set '[]'");
      set = normalize(ranges);
      i = j;
    } else if (c === "]") return invalid(input, i + 1, "set-close ']' with no preceding '['");
    else if (c === "*" || c === "+") return invalid(input, i + 1, `quantifier '${c}' with nothing to repeat`);
    else {
      const cp = c.codePointAt(0) as number;
      set = [[cp, cp]];
    }
    const q = cs[i + 1];
    if (q === "*") {
      out.push({ set, q: "*" });
      i++;
    } else if (q === "+") {
      out.push({ set, q: "1" }, { set, q: "*" });
      i++;
    } else out.push({ set, q: "1" });
  }
  return out;
}

function normalize(ranges: [number, number][]): Ranges {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function overlaps(a: Ranges, b: Ranges): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as readonly [number, number];
    const y = b[j] as readonly [number, number];
    if (x[1] < y[0]) i++;
    else if (y[1] < x[0]) j++;
    else return true;
  }
  return false;
}

export function globsIntersect(p1: string, p2: string): boolean {
  const a = parse(p1);
  const b = parse(p2);
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const queue: number[] = [0];
  seen[0] = 1;
  const push = (i: number, j: number) => {
    const k = i * width + j;
    if (seen[k] === 0) {
      seen[k] = 1;
      queue.push(k);
    }
  };
  while (queue.length > 0) {
    const k = queue.pop() as number;
    const i = Math.floor(k / width);
    const j = k % width;
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    // A starred token may match nothing.
    if (x?.q === "*") push(i + 1, j);
    if (y?.q === "*") push(i, j + 1);
    // Both consume one common character; a starred token may stay to consume more.
    if (x !== undefined && y !== undefined && overlaps(x.set, y.set)) {
      push(x.q === "*" ? i : i + 1, y.q === "*" ? j : j + 1);
    }
  }
  return false;
}
