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

export function fail(message: string): never {
  throw new BuiltinError(message);
}

export function got(v: Value): string {
  return `Got \`${formatValue(v)}\` instead.`;
}

export function arg(args: readonly Value[], i: number): Value {
  return args[i] as Value;
}

export function str(name: string, args: readonly Value[], i: number): string {
  const v = args[i] as Value;
  if (typeof v !== "string") fail(`\`${name}\` expects string argument. ${got(v)}`);
  return v;
}

export function num(name: string, args: readonly Value[], i: number): number {
  const v = args[i] as Value;
  if (typeof v !== "number") fail(`\`${name}\` expects numeric argument. ${got(v)}`);
  return v;
}

export function int(name: string, args: readonly Value[], i: number): number {
  const v = num(name, args, i);
  if (!Number.isInteger(v)) fail(`\`${name}\` expects integer argument. ${got(v)}`);
  return v;
}

export function bool(name: string, args: readonly Value[], i: number): boolean {
  const v = args[i] as Value;
  if (typeof v !== "boolean") fail(`\`${name}\` expects boolean argument. ${got(v)}`);
  return v;
}

export function array(name: string, args: readonly Value[], i: number): readonly Value[] {
  const v = args[i] as Value;
  if (!Array.isArray(v)) fail(`\`${name}\` expects array argument. ${got(v)}`);
  return v as readonly Value[];
}

export function object(name: string, args: readonly Value[], i: number): RObject {
  const v = args[i] as Value;
  if (!(v instanceof RObject)) fail(`\`${name}\` expects object argument. ${got(v)}`);
  return v;
}

export function set(name: string, args: readonly Value[], i: number): RSet {
  const v = args[i] as Value;
  if (!(v instanceof RSet)) fail(`\`${name}\` expects set argument. ${got(v)}`);
  return v;
}

/** Elements of an array or a set. */
export function items(name: string, args: readonly Value[], i: number, what = "array/set"): readonly Value[] {
  const v = args[i] as Value;
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof RSet) return v.values();
  return fail(`\`${name}\` requires ${what} argument. ${got(v)}`);
}
