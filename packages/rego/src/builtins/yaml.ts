import * as jsYamlModule from "js-yaml";
import { fromJson, toJson, type Value } from "../values.js";
import { type BuiltinTable, fail, str } from "./registry.js";

// YAML with js-yaml's core schema (YAML 1.2): OPA's Go library reads YAML 1.1, where `yes`,
// `on` and friends are booleans; here they stay strings (docs/rego.md, deviations).

// Imported statically: the apps' CommonJS bundles must carry js-yaml (most already do).
function yaml(): typeof jsYamlModule {
  return jsYamlModule;
}

function parse(name: string, s: string): Value {
  let doc: unknown;
  try {
    doc = yaml().load(s, { schema: yaml().CORE_SCHEMA });
  } catch (e) {
    return fail(`${name}: ${yamlError(s, e)}`);
  }
  try {
    return fromJson(doc === undefined ? null : doc);
  } catch {
    return fail(`${name}: the YAML document is not a JSON value`);
  }
}

/**
 * A parse error as Go's YAML library words it: "yaml: line N: <reason>". An unclosed flow
 * collection reads as Go's "did not find expected ',' or ']'"; other reasons are js-yaml's.
 */
function yamlError(text: string, e: unknown): string {
  const err = e as { reason?: string; mark?: { line?: number }; message?: string };
  let reason = err.reason ?? (err.message ?? String(e)).split("\n")[0] ?? "";
  if (/end of the stream within a flow collection/.test(reason)) {
    let open = "";
    for (const c of text) {
      if (c === "[" || c === "{") open += c;
      else if ((c === "]" || c === "}") && open.length > 0) open = open.slice(0, -1);
    }
    reason = `did not find expected ',' or '${open.endsWith("{") ? "}" : "]"}'`;
  }
  const line = err.mark?.line;
  return line === undefined ? `yaml: ${reason}` : `yaml: line ${line + 1}: ${reason}`;
}

export const YAML_BUILTINS: BuiltinTable = {
  "yaml.marshal": {
    arity: 1,
    // Sets become arrays and keys are sorted, as in OPA; the default schema quotes what YAML 1.1
    // would read otherwise (yes, on, dates), so a Go reader gets strings back.
    fn: (a) => yaml().dump(toJson(a[0] as Value), { seqNoIndent: true, sortKeys: true, lineWidth: -1 }),
  },
  "yaml.unmarshal": { arity: 1, fn: (a) => parse("yaml.unmarshal", str("yaml.unmarshal", a, 0)) },
  "yaml.is_valid": {
    arity: 1,
    fn: (a) => {
      const s = a[0];
      if (typeof s !== "string") return false;
      try {
        yaml().load(s, { schema: yaml().CORE_SCHEMA });
        return true;
      } catch {
        return false;
      }
    },
  },
};
