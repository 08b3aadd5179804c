import { COLLECTION_BUILTINS } from "./collections.js";
import { CRYPTO_BUILTINS } from "./crypto.js";
import { DEPRECATED_BUILTINS } from "./deprecated.js";
import { ENCODING_BUILTINS } from "./encoding.js";
import { GRAPH_BUILTINS } from "./graph.js";
import { JSON_SCHEMA_BUILTINS } from "./jsonschema.js";
import { JWT_BUILTINS } from "./jwt.js";
import { MISC_BUILTINS } from "./misc.js";
import { NET_BUILTINS } from "./net.js";
import { NUMBER_BUILTINS } from "./numbers.js";
import { PATCH_BUILTINS } from "./patch.js";
import { PROVIDER_BUILTINS } from "./providers.js";
import { REFUSED_BUILTINS } from "./refused.js";
import { REGEX_BUILTINS } from "./regex.js";
import type { Builtin } from "./registry.js";
import { STRING_BUILTINS } from "./strings.js";
import { TIME_BUILTINS } from "./time.js";
import { URL_BUILTINS } from "./url.js";
import { YAML_BUILTINS } from "./yaml.js";

export type { Builtin, BuiltinContext, BuiltinFn } from "./registry.js";

const REGISTRY = new Map<string, Builtin>();
for (const table of [
  NUMBER_BUILTINS,
  STRING_BUILTINS,
  COLLECTION_BUILTINS,
  ENCODING_BUILTINS,
  REGEX_BUILTINS,
  PATCH_BUILTINS,
  MISC_BUILTINS,
  TIME_BUILTINS,
  URL_BUILTINS,
  GRAPH_BUILTINS,
  DEPRECATED_BUILTINS,
  YAML_BUILTINS,
  REFUSED_BUILTINS,
  CRYPTO_BUILTINS,
  NET_BUILTINS,
  JWT_BUILTINS,
  JSON_SCHEMA_BUILTINS,
  PROVIDER_BUILTINS,
]) {
  for (const [name, b] of Object.entries(table)) REGISTRY.set(name, b);
}
// print takes any number of arguments; the evaluator formats and delivers its line.
REGISTRY.set("print", { arity: -1, fn: () => true });

export function lookupBuiltin(name: string): Builtin | undefined {
  return REGISTRY.get(name);
}

/** Names of every built-in, sorted. */
export function builtinNames(): string[] {
  return [...REGISTRY.keys()].sort();
}

const DEPRECATED = new Set(Object.keys(DEPRECATED_BUILTINS));

/** OPA's deprecated built-ins: Rego v1 modules (and `import rego.v1`) cannot call them. */
export function isDeprecatedBuiltin(name: string): boolean {
  return DEPRECATED.has(name);
}
