import type { ErrorKind } from "@contrast/core";
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { ApiErrorCode } from "./error-codes.js";

/**
 * The gRPC status a server answers with for each kind of error. The kind decides, not the code,
 * so that every code of every package has a status without a table to keep in step:
 *
 * - `input`: the request was malformed or invalid: INVALID_ARGUMENT.
 * - `crypto`: a signature, chain or binding did not verify, so the caller is not who it claims:
 *   UNAUTHENTICATED.
 * - `policy`: well-formed, authentic, but not allowed (a measurement, a policy hash, a manifest
 *   update without the owner's key): PERMISSION_DENIED.
 * - `io`: the server could not reach its storage or a peer; trying again may help: UNAVAILABLE.
 * - `internal`: a bug on the server: INTERNAL.
 */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, GrpcStatus>> = {
  input: GrpcStatus.INVALID_ARGUMENT,
  crypto: GrpcStatus.UNAUTHENTICATED,
  policy: GrpcStatus.PERMISSION_DENIED,
  io: GrpcStatus.UNAVAILABLE,
  internal: GrpcStatus.INTERNAL,
};

/** The gRPC status code for an error kind. */
export function grpcStatusOfKind(kind: ErrorKind): GrpcStatus {
  return STATUS_OF_KIND[kind];
}

/**
 * What a client makes of a status that carries no Contrast error: an `API_*` code named after the
 * status, and the kind the registry gives it. A status code outside 1..16 is UNKNOWN, as gRPC
 * specifies for codes a client does not know.
 */
export function apiCodeOfStatus(code: number): { readonly code: ApiErrorCode; readonly status: string } {
  const name = Number.isInteger(code) && code >= 1 && code <= 16 ? (GrpcStatus[code] as string) : "UNKNOWN";
  return { code: `API_${name}` as ApiErrorCode, status: name };
}
