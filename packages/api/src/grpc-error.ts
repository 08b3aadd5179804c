import { ContrastError, type ErrorKind } from "@contrast/core";
import { type status as GrpcStatus, Metadata, type StatusObject } from "@grpc/grpc-js";
import { ApiError } from "./error.js";
import { API_ERROR_CODES } from "./error-codes.js";
import { apiCodeOfStatus, grpcStatusOfKind } from "./grpc-status.js";
import {
  decodeErrorInfo,
  decodeRpcStatus,
  ERROR_INFO_TYPE_URL,
  type ErrorInfo,
  encodeErrorInfo,
  encodeRpcStatus,
} from "./status-details.js";

/** The trailer gRPC's richer error model uses for a serialised google.rpc.Status. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";
/** ErrorInfo.domain of the errors we send; ErrorInfo of other domains is not ours to read. */
export const ERROR_DOMAIN = "contrast.edgeless.systems";

const KINDS: ReadonlySet<string> = new Set<ErrorKind>(["input", "crypto", "policy", "io", "internal"]);
const CODE_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;
const MAX_CODE = 128;
const MAX_MESSAGE = 4096;
const MAX_HINT = 1024;

export interface ToGrpcStatusOptions {
  /**
   * Statuses for particular codes, where a server must answer as upstream's Coordinator does
   * rather than by kind: upstream answers FAILED_PRECONDITION for state conflicts (recovery mode,
   * no manifest yet, a concurrent update), which no kind expresses. The error travels unchanged in
   * the details either way, so our clients restore the same code, kind and hint.
   */
  readonly statusByCode?: Readonly<Partial<Record<string, GrpcStatus>>>;
}

/**
 * Server side: the status a handler answers with for anything it caught, for
 * `callback(toGrpcStatus(e))`. The code follows the error's kind (unless `statusByCode` names it); the error itself travels in
 * `grpc-status-details-bin` as a google.rpc.Status with one google.rpc.ErrorInfo (reason = code,
 * metadata `kind` and `hint`). The status message is the error's message, which is what a client
 * without this mapping (upstream's Go CLI, `buf curl`) shows.
 *
 * A value that is not a ContrastError is a bug on the server; its message may hold internals, so
 * the client gets `INTERNAL` with a fixed message and the server should log the original.
 */
export function toGrpcStatus(reason: unknown, options: ToGrpcStatusOptions = {}): StatusObject {
  const err = wireError(reason);
  const override = options.statusByCode?.[err.code];
  // OK would turn the failure into a success; only real error statuses may replace the default.
  const code = override !== undefined && override >= 1 && override <= 16 ? override : grpcStatusOfKind(err.kind);
  const metadata = new Map<string, string>([["kind", err.kind]]);
  if (err.hint !== undefined) metadata.set("hint", err.hint);
  const info: ErrorInfo = { reason: err.code, domain: ERROR_DOMAIN, metadata };
  const details = encodeRpcStatus({
    code,
    message: err.message,
    details: [{ typeUrl: ERROR_INFO_TYPE_URL, value: encodeErrorInfo(info) }],
  });
  const trailer = new Metadata();
  trailer.set(STATUS_DETAILS_KEY, Buffer.from(details));
  return { code, details: err.message, metadata: trailer };
}

interface WireError {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly hint: string | undefined;
}

function wireError(reason: unknown): WireError {
  const err = ContrastError.from(reason);
  // System errors (FILE_NOT_FOUND ...) keep their code; a bug is reported as core's INTERNAL.
  if (reason instanceof ContrastError || err.kind !== "internal") return err;
  return {
    code: "INTERNAL",
    kind: "internal",
    message: "internal error",
    hint: "This is a bug in the server. Its log has the details; please report it.",
  };
}

/**
 * Client side: the ContrastError behind a failed call. When the status carries our ErrorInfo, it
 * is the server's error with its code, kind, message and hint. Otherwise (a transport failure, a
 * server that sends bare statuses, damaged details) it is an `API_*` error named after the status,
 * with the status message. Never throws: the input comes from the network.
 *
 * Text from the server is shown on terminals, so control characters and bidirectional overrides
 * are removed and lengths are capped. An unknown kind falls back to the kind of the status code;
 * an unknown but well-formed code is kept (the server may be newer than the client).
 */
export function fromGrpcError(error: unknown): ContrastError {
  if (error instanceof ContrastError) return error;
  if (typeof error !== "object" || error === null || typeof (error as { code?: unknown }).code !== "number") {
    return ContrastError.from(error);
  }
  const statusCode = (error as { code: number }).code;
  const statusMessage = clean((error as { details?: unknown }).details, MAX_MESSAGE);
  const fallback = apiCodeOfStatus(statusCode);
  const registered = API_ERROR_CODES.find((c) => c.code === fallback.code);
  const fallbackKind: ErrorKind = registered?.kind ?? "io";

  let detailsInvalid = false;
  try {
    const ours = readErrorInfo((error as { metadata?: unknown }).metadata);
    if (ours !== undefined) {
      const kind = ours.kind !== undefined && KINDS.has(ours.kind) ? (ours.kind as ErrorKind) : fallbackKind;
      const message = ours.message || statusMessage || fallback.status;
      if (ours.code.length <= MAX_CODE && CODE_PATTERN.test(ours.code)) {
        return new ContrastError(ours.code, message, {
          kind,
          cause: error,
          ...(ours.hint === undefined ? {} : { hint: ours.hint }),
        });
      }
    }
  } catch {
    detailsInvalid = true;
  }
  return new ApiError(fallback.code, statusMessage || fallback.status.toLowerCase().replaceAll("_", " "), {
    kind: fallbackKind,
    cause: error,
    ...(registered === undefined ? {} : { hint: registered.hint }),
    details: { grpcStatus: fallback.status, ...(detailsInvalid ? { statusDetails: "invalid" } : {}) },
  });
}

interface OurError {
  readonly code: string;
  readonly kind: string | undefined;
  readonly message: string;
  readonly hint: string | undefined;
}

/** Our ErrorInfo from the trailers, undefined when there is none; throws on damaged details. */
function readErrorInfo(metadata: unknown): OurError | undefined {
  // Duck-typed: the Metadata may come from another copy of grpc-js than ours.
  const get = (metadata as { get?: unknown } | null | undefined)?.get;
  if (typeof get !== "function") return undefined;
  const values: unknown = get.call(metadata, STATUS_DETAILS_KEY);
  const first: unknown = Array.isArray(values) ? values[0] : undefined;
  if (!(first instanceof Uint8Array)) return undefined;
  const status = decodeRpcStatus(first);
  for (const any of status.details) {
    if (any.typeUrl !== ERROR_INFO_TYPE_URL) continue;
    const info = decodeErrorInfo(any.value);
    if (info.domain !== ERROR_DOMAIN) continue;
    const hint = info.metadata.get("hint");
    return {
      code: info.reason,
      kind: info.metadata.get("kind"),
      message: clean(status.message, MAX_MESSAGE),
      hint: hint === undefined ? undefined : clean(hint, MAX_HINT) || undefined,
    };
  }
  return undefined;
}

// C0 and C1 controls (terminal escapes, newlines that would forge output lines) and the bidi
// embeddings, overrides and isolates that reorder what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g;

function clean(value: unknown, max: number): string {
  if (typeof value !== "string") return "";
  const text = value.replace(UNSAFE, " ").trim();
  if (text.length <= max) return text;
  // By code points, so that a surrogate pair is never cut in half.
  return `${Array.from(text.slice(0, max))
    .slice(0, max - 1)
    .join("")
    .replace(/[\ud800-\udbff]$/, "")}…`;
}
