import { RObject, RSet, type Value } from "../values.js";
import { type BuiltinTable, failType, items, set } from "./registry.js";

// Built-ins OPA deprecated but still runs in Rego v0 modules (its v0 conformance cases use them).

function cast(name: string, accepts: (v: Value) => boolean, type: string) {
  return {
    arity: 1,
    fn: (a: readonly Value[]) => {
      const v = a[0] as Value;
      return accepts(v) ? v : failType(name, 1, type, v);
    },
  };
}

export const DEPRECATED_BUILTINS: BuiltinTable = {
  all: { arity: 1, fn: (a) => items("all", a, 0).every((v) => v === true) },
  any: { arity: 1, fn: (a) => items("any", a, 0).some((v) => v === true) },
  set_diff: {
    arity: 2,
    fn: (a) => {
      const x = set("set_diff", a, 0);
      const y = set("set_diff", a, 1);
      return RSet.from(x.values().filter((v) => !y.has(v)));
    },
  },
  cast_array: { arity: 1, fn: (a) => [...items("cast_array", a, 0)] },
  cast_set: { arity: 1, fn: (a) => (a[0] instanceof RSet ? a[0] : RSet.from(items("cast_set", a, 0))) },
  cast_string: cast("cast_string", (v) => typeof v === "string", "string"),
  cast_boolean: cast("cast_boolean", (v) => typeof v === "boolean", "boolean"),
  cast_null: cast("cast_null", (v) => v === null, "null"),
  cast_object: cast("cast_object", (v) => v instanceof RObject, "object"),
};
