// @contrast/core: the foundation every other package builds on. Zero runtime dependencies.

export {
  bytesEqual,
  concatBytes,
  fromBase64,
  fromBase64Url,
  fromHex,
  fromUtf8,
  isHex,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
} from "./bytes.js";
export { type Clock, fixedClock, type ManualClock, manualClock, systemClock } from "./clock.js";
export {
  type DerElement,
  DerTag,
  decodeOid,
  encodeDer,
  encodeOid,
  readDer,
  readDerChildren,
  readDerExact,
} from "./der.js";
export {
  ContrastError,
  type ContrastErrorOptions,
  type ErrorCodeInfo,
  type ErrorKind,
  isContrastError,
  type SerializedError,
} from "./error.js";
export { CORE_ERROR_CODES, type CoreErrorCode } from "./error-codes.js";
export { digest, type HashAlgorithm, sha256, sha256Hex, sha384, sha512 } from "./hash.js";
export { compareUtf8 } from "./json/go-strings.js";
export { type JsonWritable, type StringifyJsonOptions, stringifyJson } from "./json/go-writer.js";
export { type ParseJsonOptions, parseJson } from "./json/parse.js";
export { formatJsonPath, type JsonObject, type JsonPath, type JsonValue } from "./json/value.js";
export { type JsonLoggerOptions, jsonLogger } from "./json-logger.js";
export {
  type LogFields,
  type Logger,
  type LogLevel,
  noopLogger,
  parseLogLevel,
  withLevel,
} from "./logger.js";
export { decodePem, decodePemBlock, encodePem, type PemBlock } from "./pem.js";
