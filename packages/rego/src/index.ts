// @contrast/rego: a Rego parser and evaluator. Compile once, evaluate many queries.

export type {
  BinaryOp,
  ElseClause,
  Import,
  Literal,
  Module,
  Query,
  Rule,
  RuleHead,
  ScalarValue,
  Term,
  WithModifier,
} from "./ast.js";
export { builtinNames } from "./builtins/index.js";
export {
  assertDialect,
  checkDialect,
  dialectError,
  REGO_DIALECT_IDS,
  type RegoDialect,
  type RegoDialectFinding,
  type RegoDialectFindingCode,
  type RegoDialectId,
  regoDialect,
} from "./dialect.js";
export {
  REGORUS_0_2_8_BUILTINS,
  REGORUS_0_2_8_LANGUAGE,
  type RegorusBuiltin,
  type RegorusFeature,
} from "./dialect-regorus.js";
export { type CompileOptions, type EvalOptions, Policy, type PolicySource, type QueryResult } from "./engine.js";
export { REGO_ERROR_CODES } from "./error-codes.js";
export { BuiltinError, type Location, RegoError, type RegoErrorCode, RegoParseError } from "./errors.js";
export type { EvalLimits } from "./evaluator.js";
export { REGO_FINDING_CODES } from "./finding-codes.js";
export { formatValue } from "./format.js";
export { type RegoInventory, type RegoLanguageFeature, regoInventory } from "./inventory.js";
export { type ParseOptions, parseModule, parseQuery } from "./parser.js";
export { printModule, printQuery, printTerm } from "./printer.js";
export { type AgentRequest, parseRequestStream } from "./requests.js";
export {
  compare,
  equal,
  type FromJsonOptions,
  fromJson,
  ObjectBuilder,
  RObject,
  RSet,
  toJson,
  type Value,
} from "./values.js";
