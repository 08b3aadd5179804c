import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/api reports. A server that sends its error in the status details gives the
 * client the server's own code (a `MANIFEST_*`, an `ATTESTATION_*` ...); the `API_*` codes below
 * are for statuses that carry none: transport failures, and servers that send a bare status
 * (upstream's Go Coordinator, a proxy). docs/errors.md is generated from this list.
 */
export const API_ERROR_CODES = [
  {
    code: "API_ABORTED",
    kind: "io",
    meaning: "The server aborted the call, usually because of a concurrent change.",
    hint: "Run the command again.",
  },
  {
    code: "API_ALREADY_EXISTS",
    kind: "input",
    meaning: "The server refused to create something that already exists.",
    hint: "The server's message names what exists already.",
  },
  {
    code: "API_CANCELLED",
    kind: "io",
    meaning: "The call was cancelled before it finished.",
    hint: "Run the command again; the call was cancelled before it finished.",
  },
  {
    code: "API_DATA_LOSS",
    kind: "io",
    meaning: "The server reported unrecoverable data loss or corruption.",
    hint: "Check the server's logs and its storage.",
  },
  {
    code: "API_DEADLINE_EXCEEDED",
    kind: "io",
    meaning: "The call did not finish before its deadline.",
    hint: "Check the network path to the server and its load, then run the command again.",
  },
  {
    code: "API_FAILED_PRECONDITION",
    kind: "input",
    meaning: "The server is not in a state in which it can run the call.",
    hint: "The server's message says which state it is in; check the order of the steps.",
  },
  {
    code: "API_INTERNAL",
    kind: "io",
    meaning: "The server failed with an internal error.",
    hint: "Check the server's logs; the failure is on the server's side.",
  },
  {
    code: "API_INVALID_ARGUMENT",
    kind: "input",
    meaning: "The server rejected the request as invalid.",
    hint: "The server's message names the invalid part of the request.",
  },
  {
    code: "API_METHOD_UNSUPPORTED",
    kind: "internal",
    meaning: "A service descriptor has a streaming method, which the gRPC wiring does not serve.",
    hint: "Only unary methods are served; the Contrast APIs have no streaming method.",
  },
  {
    code: "API_NOT_FOUND",
    kind: "input",
    meaning: "The server has nothing under the requested name.",
    hint: "The server's message names what it could not find.",
  },
  {
    code: "API_OUT_OF_RANGE",
    kind: "input",
    meaning: "A value in the request is outside the range the server accepts.",
    hint: "The server's message names the value.",
  },
  {
    code: "API_PERMISSION_DENIED",
    kind: "policy",
    meaning: "The server denied the call.",
    hint: "Check that the key or identity used is the one the server expects.",
  },
  {
    code: "API_RESOURCE_EXHAUSTED",
    kind: "io",
    meaning: "The server or the call ran out of a resource (a quota, a message size limit).",
    hint: "The server's message names the limit; retry later or send less.",
  },
  {
    code: "API_STATUS_DETAILS_INVALID",
    kind: "input",
    meaning: "A gRPC status carries details (grpc-status-details-bin) that are not a google.rpc.Status.",
    hint: "The server or a proxy on the way sent damaged error details; its status code still applies.",
  },
  {
    code: "API_UNAUTHENTICATED",
    kind: "crypto",
    meaning: "The server could not authenticate the caller.",
    hint: "Check the credentials and the attestation of the connection.",
  },
  {
    code: "API_UNAVAILABLE",
    kind: "io",
    meaning: "The server cannot be reached or is not serving.",
    hint: "Check the address and that the server is running and reachable.",
  },
  {
    code: "API_UNIMPLEMENTED",
    kind: "input",
    meaning: "The server does not implement the method called.",
    hint: "The server runs another version; use a client of the same version.",
  },
  {
    code: "API_UNKNOWN",
    kind: "io",
    meaning: "The server failed with an error it did not classify.",
    hint: "Check the server's logs.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type ApiErrorCode = (typeof API_ERROR_CODES)[number]["code"];
