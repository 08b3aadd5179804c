import type { RegoLanguageFeature } from "./inventory.js";

// Facts about regorus, the Rego engine inside the Kata agent: which built-ins a given regorus
// release compiles in under which cargo features, and which features the agents that Contrast
// v1.5 ships enable. Sources (read at the commits named; see docs/platform-profiles.md, section
// "Rego dialect (regorus)"):
// - microsoft/regorus at cabd086619b662e27995561f098f761373c1ed00 (release 0.2.8, 2024-11-06):
//   src/builtins/*.rs registration tables and src/builtins/mod.rs feature gates. The same table is
//   vendored as test data (testdata/rego/regorus-0.2.8/builtins.json) and a test keeps both equal.
// - kata-containers/kata-containers tags 3.13.0 and 3.14.0: src/agent/Cargo.toml (and
//   src/agent/policy/Cargo.toml at 3.14.0) enable features arc, regex, std; Cargo.lock pins 0.2.8.
// - microsoft/kata-containers tags 3.2.0.azl4 and 3.2.0.azl5: src/agent/Cargo.toml enables arc,
//   regex, std, base64, base64url; Cargo.lock pins 0.2.8.

/** A cargo feature of regorus 0.2.x that gates built-ins ("deprecated+regex": both needed). */
export type RegorusFeature =
  | "base64"
  | "base64url"
  | "crypto"
  | "deprecated"
  | "deprecated+regex"
  | "glob"
  | "graph"
  | "hex"
  | "http"
  | "jsonschema"
  | "jwt"
  | "opa-runtime"
  | "opa-testutil"
  | "regex"
  | "semver"
  | "std"
  | "time"
  | "urlquery"
  | "uuid"
  | "yaml";

/** One built-in of regorus 0.2.8: name, arity, and the feature that compiles it in (null: always). */
export type RegorusBuiltin = readonly [name: string, arity: number, feature: RegorusFeature | null];

/** Every built-in that regorus 0.2.8 can register, from its src/builtins/*.rs. `print` is not in the table: the interpreter handles it itself, with any number of arguments. */
export const REGORUS_0_2_8_BUILTINS: readonly RegorusBuiltin[] = [
  ["abs", 1, null],
  ["all", 1, "deprecated"],
  ["any", 1, "deprecated"],
  ["array.concat", 2, null],
  ["array.reverse", 1, null],
  ["array.slice", 3, null],
  ["base64.decode", 1, "base64"],
  ["base64.encode", 1, "base64"],
  ["base64.is_valid", 1, "base64"],
  ["base64url.decode", 1, "base64url"],
  ["base64url.encode", 1, "base64url"],
  ["base64url.encode_no_pad", 1, "base64url"],
  ["bits.and", 2, null],
  ["bits.lsh", 2, null],
  ["bits.negate", 1, null],
  ["bits.or", 2, null],
  ["bits.rsh", 2, null],
  ["bits.xor", 2, null],
  ["cast_array", 1, "deprecated"],
  ["cast_boolean", 1, "deprecated"],
  ["cast_null", 1, "deprecated"],
  ["cast_object", 1, "deprecated"],
  ["cast_set", 1, "deprecated"],
  ["cast_string", 1, "deprecated"],
  ["ceil", 1, null],
  ["concat", 2, null],
  ["contains", 2, null],
  ["count", 1, null],
  ["crypto.hmac.equal", 2, "crypto"],
  ["crypto.hmac.md5", 2, "crypto"],
  ["crypto.hmac.sha1", 2, "crypto"],
  ["crypto.hmac.sha256", 2, "crypto"],
  ["crypto.hmac.sha512", 2, "crypto"],
  ["crypto.md5", 1, "crypto"],
  ["crypto.sha1", 1, "crypto"],
  ["crypto.sha256", 1, "crypto"],
  ["endswith", 2, null],
  ["floor", 1, null],
  ["format_int", 2, null],
  ["glob.match", 3, "glob"],
  ["glob.quote_meta", 1, "glob"],
  ["graph.reachable", 2, "graph"],
  ["graph.reachable_paths", 2, "graph"],
  ["hex.decode", 1, "hex"],
  ["hex.encode", 1, "hex"],
  ["http.send", 1, "http"],
  ["indexof", 2, null],
  ["indexof_n", 2, null],
  ["intersection", 1, null],
  ["io.jwt.decode", 1, "jwt"],
  ["io.jwt.decode_verify", 2, "jwt"],
  ["is_array", 1, null],
  ["is_boolean", 1, null],
  ["is_null", 1, null],
  ["is_number", 1, null],
  ["is_object", 1, null],
  ["is_set", 1, null],
  ["is_string", 1, null],
  ["json.filter", 2, null],
  ["json.is_valid", 1, null],
  ["json.marshal", 1, null],
  ["json.marshal_with_options", 2, null],
  ["json.match_schema", 2, "jsonschema"],
  ["json.remove", 2, null],
  ["json.unmarshal", 1, null],
  ["json.verify_schema", 1, "jsonschema"],
  ["lower", 1, null],
  ["max", 1, null],
  ["min", 1, null],
  ["numbers.range", 2, null],
  ["numbers.range_step", 3, null],
  ["object.filter", 2, null],
  ["object.get", 3, null],
  ["object.keys", 1, null],
  ["object.remove", 2, null],
  ["object.subset", 2, null],
  ["object.union", 2, null],
  ["object.union_n", 1, null],
  ["opa.runtime", 0, "opa-runtime"],
  ["product", 1, null],
  ["rand.intn", 2, "std"],
  ["re_match", 2, "deprecated+regex"],
  ["regex.find_all_string_submatch_n", 3, "regex"],
  ["regex.find_n", 3, "regex"],
  ["regex.is_valid", 1, "regex"],
  ["regex.match", 2, "regex"],
  ["regex.replace", 3, "regex"],
  ["regex.split", 2, "regex"],
  ["regex.template_match", 4, "regex"],
  ["replace", 3, null],
  ["round", 1, null],
  ["semver.compare", 2, "semver"],
  ["semver.is_valid", 1, "semver"],
  ["set_diff", 2, "deprecated"],
  ["sort", 1, null],
  ["split", 2, null],
  ["sprintf", 2, null],
  ["startswith", 2, null],
  ["strings.any_prefix_match", 2, null],
  ["strings.any_suffix_match", 2, null],
  ["strings.count", 2, null],
  ["strings.replace_n", 2, null],
  ["strings.reverse", 1, null],
  ["substring", 3, null],
  ["sum", 1, null],
  ["test.sleep", 1, "opa-testutil"],
  ["time.add_date", 4, "time"],
  ["time.clock", 1, "time"],
  ["time.date", 1, "time"],
  ["time.diff", 2, "time"],
  ["time.format", 1, "time"],
  ["time.now_ns", 0, "time"],
  ["time.parse_duration_ns", 1, "time"],
  ["time.parse_ns", 2, "time"],
  ["time.parse_rfc3339_ns", 1, "time"],
  ["time.weekday", 1, "time"],
  ["to_number", 1, null],
  ["trace", 1, null],
  ["trim", 2, null],
  ["trim_left", 2, null],
  ["trim_prefix", 2, null],
  ["trim_right", 2, null],
  ["trim_space", 1, null],
  ["trim_suffix", 2, null],
  ["type_name", 1, null],
  ["union", 1, null],
  ["units.parse", 1, null],
  ["units.parse_bytes", 1, null],
  ["upper", 1, null],
  ["urlquery.decode", 1, "urlquery"],
  ["urlquery.decode_object", 1, "urlquery"],
  ["urlquery.encode", 1, "urlquery"],
  ["urlquery.encode_object", 1, "urlquery"],
  ["uuid.parse", 1, "uuid"],
  ["uuid.rfc4122", 1, "uuid"],
  ["walk", 1, "graph"],
  ["yaml.is_valid", 1, "yaml"],
  ["yaml.marshal", 1, "yaml"],
  ["yaml.unmarshal", 1, "yaml"],
];

/**
 * Where each language construct is shown to work in regorus 0.2.8: OPA compliance suites that
 * regorus lists as passing at that release (tests/opa.passing, vendored as
 * testdata/rego/regorus-0.2.8/opa.passing) and regorus' own interpreter case folders
 * (tests/interpreter/cases/<folder>). Every construct regoInventory names is supported; the
 * future-keyword imports that v0 modules need are checked by checkDialect.
 */
export const REGORUS_0_2_8_LANGUAGE: Readonly<
  Record<RegoLanguageFeature, { readonly opa: readonly string[]; readonly regorus: readonly string[] }>
> = {
  "import future.keywords": { opa: ["v0/every", "v0/containskeyword"], regorus: ["import"] },
  "import rego.v1": { opa: [], regorus: ["rego.v1"] },
  "import data": { opa: [], regorus: ["import"] },
  "keyword if": { opa: ["v1/completedoc"], regorus: ["rule"] },
  "keyword in (membership)": { opa: [], regorus: ["in"] },
  "some ... in": { opa: [], regorus: ["some"] },
  "some (declaration)": { opa: ["v0/partialiter"], regorus: ["some"] },
  every: { opa: ["v0/every"], regorus: ["every"] },
  "default rule": { opa: ["v0/defaultkeyword"], regorus: ["default"] },
  "default function": { opa: ["v0/defaultkeyword"], regorus: ["default"] },
  "complete rule": { opa: ["v0/completedoc"], regorus: ["rule"] },
  "partial set rule": { opa: ["v0/partialsetdoc"], regorus: ["rule"] },
  "partial object rule": { opa: ["v0/partialobjectdoc"], regorus: ["rule"] },
  "ref head (a.b := x)": { opa: ["v0/refheads"], regorus: ["rule"] },
  function: { opa: ["v0/functions"], regorus: ["call"] },
  "function with several definitions": { opa: ["v0/functions"], regorus: ["call"] },
  else: { opa: ["v0/elsekeyword"], regorus: ["rule"] },
  with: { opa: ["v0/withkeyword"], regorus: [] },
  not: { opa: ["v0/negation"], regorus: ["negation"] },
  "array comprehension": { opa: ["v0/comprehensions"], regorus: ["compr"] },
  "set comprehension": { opa: ["v0/comprehensions"], regorus: ["compr"] },
  "object comprehension": { opa: ["v0/comprehensions"], regorus: ["compr"] },
  "set literal": { opa: ["v0/sets"], regorus: [] },
  "raw string": { opa: ["v0/regexmatch"], regorus: [] },
  "output argument (f(x, y))": { opa: ["v0/functions"], regorus: ["call"] },
  "unification (=)": { opa: ["v0/eqexpr"], regorus: ["assign"] },
  "assignment (:=)": { opa: ["v0/assignments"], regorus: ["assign"] },
  arithmetic: { opa: ["v0/arithmetic"], regorus: ["arithmetic"] },
  "set operators (| & -)": { opa: ["v0/sets"], regorus: [] },
  comparison: { opa: ["v0/comparisonexpr"], regorus: [] },
};
