import { BuiltinError } from "../errors.js";
import { formatValue } from "../format.js";
import { RObject, RSet, type Value } from "../values.js";

export interface BuiltinContext {
  /** Nanoseconds since the epoch for time.now_ns, injected by the caller; fixed for one query. */
  readonly nowNs: number | undefined;
  /** Per-query memory for built-ins (compiled regular expressions, the random source). */
  readonly cache: Map<string, unknown>;
}

export type BuiltinFn = (args: readonly Value[], ctx: BuiltinContext) => Value | undefined;

export interface Builtin {
  /** Number of arguments; -1 for any. */
  readonly arity: number;
  readonly fn: BuiltinFn;
}

export type BuiltinTable = Record<string, Builtin>;

/** A built-in's failure that is not about an operand's type (OPA's `eval_builtin_error`). */
export function fail(message: string): never {
  throw new BuiltinError(message);
}

/** OPA's name of a value's type, as its operand errors print it. */
export function typeName(v: Value): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof RSet) return "set";
  if (v instanceof RObject) return "object";
  return typeof v;
}

/**
 * An operand error (OPA's `eval_type_error`): OPA's text `<name>: operand <pos> <what>`, then
 * regorus' wording when there is one, as policies written for the Kata agent see that.
 */
export function failOperand(name: string, pos: number, what: string, regorus?: string): never {
  const opa = `${name}: operand ${pos} ${what}`;
  throw new BuiltinError(regorus === undefined ? opa : `${opa}. ${regorus}`, undefined, "eval_type_error");
}

/** A type error (OPA's ErrOperand) whose text names no single operand. */
export function failTypeText(name: string, text: string): never {
  throw new BuiltinError(`${name}: ${text}`, undefined, "eval_type_error");
}

/** "operand N must be <type> but got <type>" (one of {…} when several types would do). */
export function failType(
  name: string,
  pos: number,
  expected: string | readonly string[],
  v: Value,
  regorus?: string,
): never {
  const exp =
    typeof expected === "string" ? expected : expected.length === 1 ? expected[0] : `one of {${expected.join(", ")}}`;
  return failOperand(name, pos, `must be ${exp} but got ${typeName(v)}`, regorus);
}

/** "operand N must be array of strings but got array containing number". */
export function failElement(
  name: string,
  pos: number,
  composite: Value,
  expected: string,
  v: Value,
  regorus?: string,
): never {
  const c = typeName(composite);
  return failOperand(name, pos, `must be ${c} of ${expected}s but got ${c} containing ${typeName(v)}`, regorus);
}

export function got(v: Value): string {
  return `Got \`${formatValue(v)}\` instead.`;
}

export function arg(args: readonly Value[], i: number): Value {
  return args[i] as Value;
}

export function str(name: string, args: readonly Value[], i: number): string {
  const v = args[i] as Value;
  if (typeof v !== "string") failType(name, i + 1, "string", v, `\`${name}\` expects string argument. ${got(v)}`);
  return v;
}

export function num(name: string, args: readonly Value[], i: number): number {
  const v = args[i] as Value;
  if (typeof v !== "number") failType(name, i + 1, "number", v, `\`${name}\` expects numeric argument. ${got(v)}`);
  return v;
}

export function failNotInteger(name: string, pos: number, v: Value, regorus = "integer argument"): never {
  return failOperand(
    name,
    pos,
    "must be integer number but got floating-point number",
    `\`${name}\` expects ${regorus}. ${got(v)}`,
  );
}

export function int(name: string, args: readonly Value[], i: number): number {
  const v = num(name, args, i);
  if (!Number.isInteger(v)) failNotInteger(name, i + 1, v);
  return v;
}

export function bool(name: string, args: readonly Value[], i: number): boolean {
  const v = args[i] as Value;
  if (typeof v !== "boolean") failType(name, i + 1, "boolean", v, `\`${name}\` expects boolean argument. ${got(v)}`);
  return v;
}

export function array(name: string, args: readonly Value[], i: number): readonly Value[] {
  const v = args[i] as Value;
  if (!Array.isArray(v)) failType(name, i + 1, "array", v, `\`${name}\` expects array argument. ${got(v)}`);
  return v as readonly Value[];
}

export function object(name: string, args: readonly Value[], i: number): RObject {
  const v = args[i] as Value;
  if (!(v instanceof RObject)) failType(name, i + 1, "object", v, `\`${name}\` expects object argument. ${got(v)}`);
  return v;
}

export function set(name: string, args: readonly Value[], i: number): RSet {
  const v = args[i] as Value;
  if (!(v instanceof RSet)) failType(name, i + 1, "set", v, `\`${name}\` expects set argument. ${got(v)}`);
  return v;
}

/** Elements of an array or a set; `expected` is OPA's order of the two in its message. */
export function items(
  name: string,
  args: readonly Value[],
  i: number,
  expected: readonly string[] = ["array", "set"],
): readonly Value[] {
  const v = args[i] as Value;
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RSet) return v.values();
  return failType(name, i + 1, expected, v, `\`${name}\` requires array/set argument. ${got(v)}`);
}

/** Strings of an array or a set (OPA's StringSliceOperand). */
export function stringItems(name: string, args: readonly Value[], i: number): string[] {
  const v = args[i] as Value;
  const xs = items(name, args, i);
  return xs.map((x) => {
    if (typeof x !== "string")
      failElement(name, i + 1, v, "string", x, `\`${name}\` expects array/set of strings. ${got(x)}`);
    return x;
  });
}
