import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/rego reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const REGO_ERROR_CODES = [
  {
    code: "REGO_PARSE_ERROR",
    kind: "input",
    meaning: "The Rego source does not parse.",
    hint: "Fix the Rego syntax at the line and column shown.",
  },
  {
    code: "REGO_COMPILE_ERROR",
    kind: "input",
    meaning: "The Rego parses but is not a valid module (unsafe variable, shadowed input, bad reference).",
    hint: "Fix the policy: the construct is not valid Rego at the place shown.",
  },
  {
    code: "REGO_CONFLICT",
    kind: "policy",
    meaning: "Rule bodies produce different values for the same document.",
    hint: "Two rule bodies produce different values for the same document; make them agree or exclusive.",
  },
  {
    code: "REGO_BUILTIN_ERROR",
    kind: "input",
    meaning: "A built-in function rejected its arguments (strict mode).",
    hint: "A built-in function was called with arguments it cannot handle; check the call.",
  },
  {
    code: "REGO_TYPE_ERROR",
    kind: "input",
    meaning: "An operator or pattern was applied to values of the wrong type or shape.",
    hint: "An operator was applied to values of the wrong type; check the operands.",
  },
  {
    code: "REGO_UNKNOWN_FUNCTION",
    kind: "input",
    meaning: "A call names a function that is neither defined nor a supported built-in.",
    hint: "Check the function's name; see docs/rego.md for the supported built-ins.",
  },
  {
    code: "REGO_RECURSION",
    kind: "policy",
    meaning: "Rules or functions depend on themselves.",
    hint: "Rego forbids recursion between rules and functions; break the cycle.",
  },
  {
    code: "REGO_LIMIT_EXCEEDED",
    kind: "input",
    meaning: "Evaluation or a document exceeded a safety limit (depth, size, steps).",
    hint: "The evaluation or the document exceeded a safety limit; check for runaway input.",
  },
  {
    code: "REGO_INVALID_INPUT",
    kind: "input",
    meaning: "The input or data document is not a JSON value the engine accepts.",
    hint: "Pass JSON values (null, booleans, finite numbers, strings, arrays, objects).",
  },
  {
    code: "REGO_DIALECT_UNSUPPORTED",
    kind: "input",
    meaning: "The policy uses a built-in or keyword the target engine lacks.",
    hint: 'The policy uses a built-in or keyword the target engine lacks; rewrite it (docs/rego.md, "Dialects").',
  },
  {
    code: "REGO_DIALECT_UNKNOWN",
    kind: "input",
    meaning: "The named Rego dialect does not exist.",
    hint: "Name one of the dialects of docs/rego.md, e.g. regorus-0.2.8-kata.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type RegoErrorCode = (typeof REGO_ERROR_CODES)[number]["code"];

/** The registry's hint of a code, the default when a throw site has no more specific one. */
export const REGO_HINTS: Readonly<Record<RegoErrorCode, string>> = Object.fromEntries(
  REGO_ERROR_CODES.map((e) => [e.code, e.hint]),
) as Record<RegoErrorCode, string>;
