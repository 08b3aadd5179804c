import { keyOf, RSet, type Value } from "../values.js";
import { type BuiltinTable, fail, failNotInteger, failOperand, failType, got, num, str } from "./registry.js";

/** regorus' names of the operators (its messages) and OPA's (the built-in each operator is). */
const OP_NAMES: Record<string, string> = { "+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod" };
const OPA_NAMES: Record<string, string> = { "+": "plus", "-": "minus", "*": "mul", "/": "div", "%": "rem" };

/** Arithmetic on two numbers, as the infix operators and plus/minus/mul/div/rem do it. */
export function arith(op: string, a: Value, b: Value): Value {
  if (typeof a !== "number" || typeof b !== "number") operandTypes(op, a, b);
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0) fail("div: divide by zero");
      return a / b;
    default:
      // Integers beyond 2^53 are floats here (inexact), as a float literal is in regorus.
      if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) {
        fail("rem: modulo on floating-point number (or an integer beyond 2^53, which is inexact)");
      }
      if (b === 0) fail("rem: modulo by zero");
      return normalizeZero(a % b);
  }
}

/** The operand error of an arithmetic operator: minus also takes two sets. */
function operandTypes(op: string, a: Value, b: Value): never {
  const name = OPA_NAMES[op] ?? op;
  const regorus = (v: Value) => `\`${OP_NAMES[op] ?? op}\` expects numeric argument. ${got(v)}`;
  if (op === "-" && a instanceof RSet) return failType(name, 2, "set", b, regorus(b));
  if (typeof a !== "number") return failType(name, 1, op === "-" ? ["number", "set"] : "number", a, regorus(a));
  return failType(name, 2, "number", b, regorus(b));
}

function normalizeZero(n: number): number {
  return n === 0 ? 0 : n;
}

/** Set union, intersection and difference. */
export function setOp(op: "|" | "&" | "-", a: Value, b: Value): Value {
  if (!(a instanceof RSet) || !(b instanceof RSet)) {
    if (op === "-") operandTypes(op, a, b);
    const name = op === "|" ? "or" : "and";
    const regorus = (v: Value) => `\`${name}\` expects set argument. ${got(v)}`;
    if (!(a instanceof RSet)) failType(name, 1, "set", a, regorus(a));
    failType(name, 2, "set", b, regorus(b));
  }
  const m = new Map<string, Value>();
  if (op === "|") {
    for (const v of a.unsortedValues()) m.set(keyOf(v), v);
    for (const v of b.unsortedValues()) m.set(keyOf(v), v);
  } else if (op === "&") {
    for (const v of a.unsortedValues()) if (b.has(v)) m.set(keyOf(v), v);
  } else {
    for (const v of a.unsortedValues()) if (!b.has(v)) m.set(keyOf(v), v);
  }
  return new RSet(m);
}

/** Parses a number as Go's strconv.ParseFloat accepts it, as OPA's to_number does. */
export function parseNumber(s: string): number | undefined {
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

const rangeBound = (name: string, args: readonly Value[], i: number): number => bigIntOperand(name, args, i);

/** OPA's BigIntOperand: "must be integer" for a non-number, "integer number" for a fraction. */
function bigIntOperand(name: string, args: readonly Value[], i: number): number {
  const v = args[i] as Value;
  if (typeof v !== "number") failType(name, i + 1, "integer", v, `\`${name}\` expects numeric argument. ${got(v)}`);
  if (!Number.isInteger(v)) failNotInteger(name, i + 1, v);
  return v;
}

const MAX_RANGE = 10_000_000;

function range(from: number, to: number, step: number): Value[] {
  const n = Math.floor(Math.abs(to - from) / step) + 1;
  if (n > MAX_RANGE) fail(`range of ${n} numbers is larger than the limit of ${MAX_RANGE}`);
  const out: number[] = [];
  if (from <= to) for (let i = from; i <= to; i += step) out.push(i);
  else for (let i = from; i >= to; i -= step) out.push(i);
  return out;
}

const bitsArg = (name: string, args: readonly Value[], i: number): bigint => {
  return BigInt(bigIntOperand(name, args, i));
};

const fromBig = (b: bigint): number => Number(b);

function negativeShift(name: string): never {
  return failOperand(
    name,
    2,
    "must be an unsigned integer number but got a negative integer",
    `\`${name}\` expects a non-negative shift`,
  );
}

/** FNV-1a over a string: a deterministic seed for rand.intn, which must repeat per query. */
function seedOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export const NUMBER_BUILTINS: BuiltinTable = {
  plus: { arity: 2, fn: (a) => arith("+", a[0] as Value, a[1] as Value) },
  minus: {
    arity: 2,
    fn: (a) =>
      a[0] instanceof RSet || a[1] instanceof RSet
        ? setOp("-", a[0] as Value, a[1] as Value)
        : arith("-", a[0] as Value, a[1] as Value),
  },
  mul: { arity: 2, fn: (a) => arith("*", a[0] as Value, a[1] as Value) },
  div: { arity: 2, fn: (a) => arith("/", a[0] as Value, a[1] as Value) },
  rem: { arity: 2, fn: (a) => arith("%", a[0] as Value, a[1] as Value) },
  abs: { arity: 1, fn: (a) => Math.abs(num("abs", a, 0)) },
  ceil: { arity: 1, fn: (a) => normalizeZero(Math.ceil(num("ceil", a, 0))) },
  floor: { arity: 1, fn: (a) => normalizeZero(Math.floor(num("floor", a, 0))) },
  round: {
    arity: 1,
    fn: (a) => {
      const x = num("round", a, 0);
      // Go's math.Round: half away from zero.
      return normalizeZero(Math.sign(x) * Math.round(Math.abs(x)));
    },
  },
  "numbers.range": {
    arity: 2,
    fn: (a) => range(rangeBound("numbers.range", a, 0), rangeBound("numbers.range", a, 1), 1),
  },
  "numbers.range_step": {
    arity: 3,
    fn: (a) => {
      const step = rangeBound("numbers.range_step", a, 2);
      if (step <= 0) fail("numbers.range_step: step must be a positive integer");
      return range(rangeBound("numbers.range_step", a, 0), rangeBound("numbers.range_step", a, 1), step);
    },
  },
  "rand.intn": {
    arity: 2,
    fn: (a, ctx) => {
      const s = str("rand.intn", a, 0);
      const n = num("rand.intn", a, 1);
      if (!Number.isInteger(n)) return undefined;
      if (n === 0) return 0;
      const key = `rand.intn\u0000${s}\u0000${n}`;
      const cached = ctx.cache.get(key);
      if (typeof cached === "number") return cached;
      const v = seedOf(key) % Math.abs(n);
      ctx.cache.set(key, v);
      return v;
    },
  },
  to_number: {
    arity: 1,
    fn: (a) => {
      const v = a[0] as Value;
      if (v === null) return 0;
      if (typeof v === "boolean") return v ? 1 : 0;
      if (typeof v === "number") return v;
      if (typeof v === "string") {
        const n = parseNumber(v);
        if (n === undefined) {
          if (/^[+-]?(inf|infinity|nan)$/i.test(v)) failType("to_number", 1, "valid number string", v);
          fail(
            `to_number: strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax (could not parse string as number)`,
          );
        }
        return n;
      }
      return failType(
        "to_number",
        1,
        ["null", "boolean", "number", "string"],
        v,
        `\`to_number\` expects null/boolean/number/string argument. ${got(v)}`,
      );
    },
  },
  "bits.and": { arity: 2, fn: (a) => fromBig(bitsArg("bits.and", a, 0) & bitsArg("bits.and", a, 1)) },
  "bits.or": { arity: 2, fn: (a) => fromBig(bitsArg("bits.or", a, 0) | bitsArg("bits.or", a, 1)) },
  "bits.xor": { arity: 2, fn: (a) => fromBig(bitsArg("bits.xor", a, 0) ^ bitsArg("bits.xor", a, 1)) },
  "bits.negate": { arity: 1, fn: (a) => fromBig(~bitsArg("bits.negate", a, 0)) },
  "bits.lsh": {
    arity: 2,
    fn: (a) => {
      const x = bitsArg("bits.lsh", a, 0);
      const n = bitsArg("bits.lsh", a, 1);
      if (n < 0n) negativeShift("bits.lsh");
      return fromBig(x << n);
    },
  },
  "bits.rsh": {
    arity: 2,
    fn: (a) => {
      const x = bitsArg("bits.rsh", a, 0);
      const n = bitsArg("bits.rsh", a, 1);
      if (n < 0n) negativeShift("bits.rsh");
      return fromBig(x >> n);
    },
  },
  format_int: {
    arity: 2,
    fn: (a) => {
      const x = num("format_int", a, 0);
      const base = num("format_int", a, 1);
      if (![2, 8, 10, 16].includes(base)) {
        failOperand(
          "format_int",
          2,
          "must be one of {2, 8, 10, 16}",
          "`format_int` expects base to be one of 2, 8, 10, 16",
        );
      }
      const t = Math.trunc(x);
      return (t < 0 ? "-" : "") + Math.abs(t).toString(base);
    },
  },
};
