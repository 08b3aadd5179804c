import type { ErrorCodeInfo } from "./error.js";

/**
 * Every code @contrast/core reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const CORE_ERROR_CODES = [
  {
    code: "ABORTED",
    kind: "io",
    meaning: "The operation was aborted before it finished.",
    hint: "Run the command again; it was interrupted before it finished.",
  },
  {
    code: "DER_INVALID_OID",
    kind: "input",
    meaning: "An object identifier is not dotted decimal arcs.",
    hint: "OIDs are dotted decimal arcs such as 1.3.9901.2.1.",
  },
  {
    code: "DER_MALFORMED",
    kind: "input",
    meaning: "Binary data is not well-formed DER.",
    hint: "The binary structure is damaged or not DER; re-export it.",
  },
  {
    code: "DISK_FULL",
    kind: "io",
    meaning: "No space is left on the device being written.",
    hint: "Free some disk space and run the command again.",
  },
  {
    code: "ENCODING_INVALID_BASE64",
    kind: "input",
    meaning: "A value that must be base64 is not standard, padded base64.",
    hint: "Expected standard base64 (A-Z a-z 0-9 + /) with = padding and no line breaks.",
  },
  {
    code: "ENCODING_INVALID_HEX",
    kind: "input",
    meaning: "A value that must be hex holds other characters or an odd number of them.",
    hint: "Hex strings hold two characters 0-9 or a-f per byte, with no 0x prefix.",
  },
  {
    code: "ENCODING_INVALID_UTF8",
    kind: "input",
    meaning: "Text input is not valid UTF-8.",
    hint: "Save the file as UTF-8 text.",
  },
  {
    code: "ENCODING_WRONG_LENGTH",
    kind: "input",
    meaning: "A hex or byte value has the wrong length.",
    hint: "Check that the value was copied completely.",
  },
  {
    code: "FILE_EXISTS",
    kind: "io",
    meaning: "The file to create already exists.",
    hint: "Remove the file or choose another path.",
  },
  {
    code: "FILE_IS_DIRECTORY",
    kind: "io",
    meaning: "A directory was given where a file is needed.",
    hint: "Pass a file, not a directory.",
  },
  {
    code: "FILE_NOT_DIRECTORY",
    kind: "io",
    meaning: "A component of the path is not a directory.",
    hint: "Check the path.",
  },
  {
    code: "FILE_NOT_FOUND",
    kind: "io",
    meaning: "No file or directory at the path.",
    hint: "Check that the path exists and is spelled correctly.",
  },
  {
    code: "FILE_PERMISSION_DENIED",
    kind: "io",
    meaning: "The operating system refused access to the file.",
    hint: "Check the file's owner and mode, or run as a user that may read it.",
  },
  {
    code: "INTERNAL",
    kind: "internal",
    meaning: "A bug: an invariant of contrast did not hold, or a non-error was thrown.",
    hint: "This is a bug in contrast. Please report it with the output of --log-level debug.",
  },
  {
    code: "IO_ERROR",
    kind: "io",
    meaning: "An operating system call failed with an error that has no code of its own.",
    hint: "An operating system call failed; the message names it.",
  },
  {
    code: "JSON_DUPLICATE_KEY",
    kind: "input",
    meaning: "A JSON object has the same key twice.",
    hint: "Remove one of the two entries; which one applies would be ambiguous.",
  },
  {
    code: "JSON_NUMBER_OUT_OF_RANGE",
    kind: "input",
    meaning: "A JSON number does not fit a 64-bit float.",
    hint: "Use a number within the range of a 64-bit float.",
  },
  {
    code: "JSON_SYNTAX",
    kind: "input",
    meaning: "The input is not JSON.",
    hint: "Fix the JSON at the line and column shown.",
  },
  {
    code: "JSON_TOO_DEEP",
    kind: "input",
    meaning: "A JSON document nests deeper than the limit.",
    hint: "Documents of this kind are shallow; check that the right file was passed.",
  },
  {
    code: "JSON_TOO_LARGE",
    kind: "input",
    meaning: "A JSON document is larger than the limit.",
    hint: "Check that the right file was passed; documents of this kind are far smaller.",
  },
  {
    code: "JSON_UNSUPPORTED_VALUE",
    kind: "internal",
    meaning: "A bug: a value that JSON cannot hold was to be written.",
    hint: "This is a bug in contrast. Please report it.",
  },
  {
    code: "LOG_LEVEL_INVALID",
    kind: "input",
    meaning: "A log level is not a known name or number.",
    hint: "Use debug, info, warn or error, or a number (-4 debug, 0 info, 4 warn, 8 error).",
  },
  {
    code: "NETWORK_CONNECTION_REFUSED",
    kind: "io",
    meaning: "The peer refused the connection.",
    hint: "Check the address and that the service is running and reachable.",
  },
  {
    code: "NETWORK_HOST_NOT_FOUND",
    kind: "io",
    meaning: "The host name does not resolve.",
    hint: "Check the host name and DNS.",
  },
  {
    code: "NETWORK_TIMEOUT",
    kind: "io",
    meaning: "The connection timed out.",
    hint: "Check the address and the network path to the service.",
  },
  {
    code: "PEM_ENCRYPTED",
    kind: "input",
    meaning: "A PEM block is encrypted (has headers).",
    hint: "Decrypt the key first, for example with `openssl pkey -in key.pem -out plain.pem`.",
  },
  {
    code: "PEM_INVALID_LABEL",
    kind: "internal",
    meaning: "A bug: a PEM label to write is not printable ASCII words.",
    hint: "PEM labels are printable ASCII words separated by single spaces or hyphens.",
  },
  {
    code: "PEM_MALFORMED",
    kind: "input",
    meaning: "A PEM block is damaged: unclosed, mismatched END or bad base64.",
    hint: "The file is damaged or two files were pasted together; re-export it.",
  },
  {
    code: "PEM_MULTIPLE_BLOCKS",
    kind: "input",
    meaning: "More than one PEM block where exactly one is expected.",
    hint: "Put each key or certificate in a file of its own.",
  },
  {
    code: "PEM_NOT_FOUND",
    kind: "input",
    meaning: "No PEM block in the input.",
    hint: "Pass a PEM file of the expected type (the message names it).",
  },
  {
    code: "PEM_WRONG_TYPE",
    kind: "input",
    meaning: "A PEM block has another type than expected.",
    hint: "Check that the right file was passed.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number]["code"];
