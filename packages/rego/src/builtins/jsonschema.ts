import { parseJson } from "@contrast/core";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ObjectBuilder, toJson, type Value } from "../values.js";
import { type BuiltinTable, fail, failType } from "./registry.js";

// json.verify_schema / json.match_schema with Ajv (JSON Schema draft-07). OPA uses gojsonschema:
// the common errors (type, required, enum) are reported in its words and shape
// ({error, type, field, desc}); the others carry Ajv's message.

// Imported statically (a lazy createRequire(import.meta.url) breaks in the apps' CommonJS
// bundles, which must carry Ajv themselves); the validator is built on first use.
let ajv: Ajv | undefined;

function loadAjv(): Ajv {
  return new Ajv({ strict: false, allErrors: true, verbose: true, validateFormats: false });
}
const CACHE_LIMIT = 100;
const compiled = new Map<string, ValidateFunction | string>();

const PRIMITIVES = ["array", "boolean", "integer", "number", "null", "object", "string"];

/** The schema operand: a JSON string or a value. */
function schemaOf(name: string, v: Value, pos: number): unknown {
  if (typeof v === "string") {
    try {
      return parseJson(v);
    } catch (e) {
      return fail(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (v !== null && typeof v === "object" && !Array.isArray(v)) return toJson(v);
  if (typeof v === "boolean") return v;
  return failType(name, pos, ["string", "object"], v);
}

/** gojsonschema's complaint about a `type` that names no JSON type, if the schema has one. */
function badPrimitive(schema: unknown): string | undefined {
  if (schema === null || typeof schema !== "object") return undefined;
  const s = schema as Record<string, unknown>;
  const types = typeof s.type === "string" ? [s.type] : Array.isArray(s.type) ? s.type : [];
  for (const t of types) {
    if (typeof t === "string" && !PRIMITIVES.includes(t)) {
      return `has a primitive type that is NOT VALID -- given: /${t}/ Expected valid values are:[${PRIMITIVES.join(" ")}]`;
    }
  }
  for (const v of Object.values(s)) {
    const inner = Array.isArray(v) ? v.map(badPrimitive).find((x) => x !== undefined) : badPrimitive(v);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** A compiled validator, or the reason the schema is not one. */
function validator(schema: unknown): ValidateFunction | string {
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  let out: ValidateFunction | string;
  const bad = badPrimitive(schema);
  if (bad !== undefined) out = bad;
  else {
    try {
      ajv ??= loadAjv();
      out = ajv.compile(schema as object);
    } catch (e) {
      out = e instanceof Error ? e.message : String(e);
    }
  }
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(key, out);
  return out;
}

/** gojsonschema's name of a JSON value's type. */
function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function describe(e: ErrorObject): Value {
  const path = e.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  const field = path.length === 0 ? "(root)" : path.join(".");
  let type = e.keyword;
  let desc = e.message ?? e.keyword;
  if (e.keyword === "type") {
    type = "invalid_type";
    desc = `Invalid type. Expected: ${String(e.params.type).replaceAll(",", ", ")}, given: ${jsonType(e.data)}`;
  } else if (e.keyword === "required") {
    desc = `${String(e.params.missingProperty)} is required`;
  } else if (e.keyword === "enum") {
    const allowed = (e.params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(", ");
    desc = `${field} must be one of the following: ${allowed}`;
  } else if (e.message !== undefined) {
    desc = e.message.charAt(0).toUpperCase() + e.message.slice(1);
  }
  const out = new ObjectBuilder();
  out.set("error", `${field}: ${desc}`);
  out.set("type", type);
  out.set("field", field);
  out.set("desc", desc);
  return out.build();
}

export const JSON_SCHEMA_BUILTINS: BuiltinTable = {
  "json.verify_schema": {
    arity: 1,
    fn: (a) => {
      const v = validator(schemaOf("json.verify_schema", a[0] as Value, 1));
      return typeof v === "string" ? [false, `jsonschema: ${v}`] : [true, null];
    },
  },
  "json.match_schema": {
    arity: 2,
    fn: (a) => {
      const doc = a[0] as Value;
      const document = typeof doc === "string" ? schemaOf("json.match_schema", doc, 1) : toJson(doc);
      const v = validator(schemaOf("json.match_schema", a[1] as Value, 2));
      if (typeof v === "string") return fail(`json.match_schema: ${v}`);
      if (v(document)) return [true, []];
      return [false, (v.errors ?? []).map(describe)];
    },
  },
};
