// @contrast/rego: a Rego parser and evaluator. Compile once, evaluate many queries.
// Only what other packages and the documented API (README, docs/rego.md) use is exported; the
// package's own tests import its modules directly.

export type { Module } from "./ast.js";
export { builtinNames } from "./builtins/index.js";
export {
  assertDialect,
  checkDialect,
  REGO_DIALECT_IDS,
  type RegoDialect,
  type RegoDialectFinding,
  type RegoDialectId,
  regoDialect,
} from "./dialect.js";
export { REGORUS_0_2_8_BUILTINS, REGORUS_0_2_8_LANGUAGE } from "./dialect-regorus.js";
export { type CompileOptions, type EvalOptions, Policy, type PolicySource, type QueryResult } from "./engine.js";
export { REGO_ERROR_CODES } from "./error-codes.js";
export { type Location, RegoError, type RegoErrorCode, RegoParseError } from "./errors.js";
export type { EvalLimits } from "./evaluator.js";
export { REGO_FINDING_CODES } from "./finding-codes.js";
export { type RegoInventory, regoInventory } from "./inventory.js";
export { type ParseOptions, parseModule } from "./parser.js";
export { RObject, RSet, type Value } from "./values.js";
