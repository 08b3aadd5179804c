/** One kind of dialect finding (RegoDialectFinding.code): reported, not thrown. */
export interface FindingCodeInfo {
  readonly code: string;
  readonly meaning: string;
  readonly hint: string;
}

/**
 * Every code `checkDialect` reports. `contrast policy check` prints them as warnings; the
 * error REGO_DIALECT_UNSUPPORTED lists them. docs/errors.md lists them (tools/errors-doc).
 */
export const REGO_FINDING_CODES = [
  {
    code: "REGO_DIALECT_BUILTIN",
    meaning: "A built-in the dialect does not have (not in the release, or its feature is off).",
    hint: "Rewrite the rule without it; the agent fails the call, which denies the request.",
  },
  {
    code: "REGO_DIALECT_ARITY",
    meaning: "A built-in called with a number of arguments the dialect refuses.",
    hint: "Call the built-in with the arguments that release accepts.",
  },
  {
    code: "REGO_DIALECT_KEYWORD",
    meaning:
      "`if`, `in` or `every` in a Rego v0 module that does not import it from future.keywords, or an import of the newer `not`, `and` or `or` keywords.",
    hint: "Add `import future.keywords.<keyword>` (or `import rego.v1`) to the module; write `not { }`, `and` and `or` as helper rules.",
  },
] as const satisfies readonly FindingCodeInfo[];

export type RegoDialectFindingCode = (typeof REGO_FINDING_CODES)[number]["code"];
