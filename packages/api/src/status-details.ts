import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { fromUtf8 } from "@contrast/core";
import { ApiError } from "./error.js";

/**
 * google.rpc.Status and google.rpc.ErrorInfo, the richer error model of gRPC, by hand over
 * @bufbuild/protobuf's wire reader and writer: two small fixed messages need no generated code.
 *
 *   message Status    { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
 *   message Any       { string type_url = 1; bytes value = 2; }
 *   message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
 */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
  readonly details: readonly RpcAny[];
}

export interface RpcAny {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

export interface ErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: ReadonlyMap<string, string>;
}

export const ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo";

/**
 * Status details arrive from the network in a trailer; grpc-js already caps metadata (8 KiB by
 * default), and this bound keeps the decoder's work small even if a caller raises that cap.
 */
export const MAX_STATUS_DETAILS_BYTES = 64 * 1024;

export function encodeRpcStatus(status: RpcStatus): Uint8Array {
  const w = new BinaryWriter();
  // proto3 leaves fields at their default out; canonical output is what protoc writes.
  if (status.code !== 0) w.tag(1, WireType.Varint).int32(status.code);
  if (status.message !== "") w.tag(2, WireType.LengthDelimited).string(status.message);
  for (const any of status.details) {
    w.tag(3, WireType.LengthDelimited).fork();
    if (any.typeUrl !== "") w.tag(1, WireType.LengthDelimited).string(any.typeUrl);
    if (any.value.length > 0) w.tag(2, WireType.LengthDelimited).bytes(any.value);
    w.join();
  }
  return w.finish();
}

export function encodeErrorInfo(info: ErrorInfo): Uint8Array {
  const w = new BinaryWriter();
  if (info.reason !== "") w.tag(1, WireType.LengthDelimited).string(info.reason);
  if (info.domain !== "") w.tag(2, WireType.LengthDelimited).string(info.domain);
  // Sorted, so that the same error always encodes to the same bytes (protoc writes map entries in
  // insertion order, and any order is valid to a reader).
  for (const key of [...info.metadata.keys()].sort()) {
    w.tag(3, WireType.LengthDelimited).fork();
    if (key !== "") w.tag(1, WireType.LengthDelimited).string(key);
    const value = info.metadata.get(key) ?? "";
    if (value !== "") w.tag(2, WireType.LengthDelimited).string(value);
    w.join();
  }
  return w.finish();
}

/** Reads a google.rpc.Status; anything that is not one is API_STATUS_DETAILS_INVALID. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  if (bytes.length > MAX_STATUS_DETAILS_BYTES) {
    throw invalid(`status details of ${bytes.length} bytes exceed ${MAX_STATUS_DETAILS_BYTES}`);
  }
  let code = 0;
  let message = "";
  const details: RpcAny[] = [];
  readFields(bytes, "google.rpc.Status", (no, type, r) => {
    if (no === 1 && type === WireType.Varint) code = r.int32();
    else if (no === 2 && type === WireType.LengthDelimited) message = text(r.bytes(), "Status.message");
    else if (no === 3 && type === WireType.LengthDelimited) details.push(decodeAny(r.bytes()));
    else return false;
    return true;
  });
  return { code, message, details };
}

function decodeAny(bytes: Uint8Array): RpcAny {
  let typeUrl = "";
  let value: Uint8Array = new Uint8Array(0);
  readFields(bytes, "google.protobuf.Any", (no, type, r) => {
    if (no === 1 && type === WireType.LengthDelimited) typeUrl = text(r.bytes(), "Any.type_url");
    else if (no === 2 && type === WireType.LengthDelimited) value = r.bytes();
    else return false;
    return true;
  });
  return { typeUrl, value };
}

/** Reads a google.rpc.ErrorInfo (the value of an Any with ERROR_INFO_TYPE_URL). */
export function decodeErrorInfo(bytes: Uint8Array): ErrorInfo {
  let reason = "";
  let domain = "";
  const metadata = new Map<string, string>();
  readFields(bytes, "google.rpc.ErrorInfo", (no, type, r) => {
    if (no === 1 && type === WireType.LengthDelimited) reason = text(r.bytes(), "ErrorInfo.reason");
    else if (no === 2 && type === WireType.LengthDelimited) domain = text(r.bytes(), "ErrorInfo.domain");
    else if (no === 3 && type === WireType.LengthDelimited) {
      let key = "";
      let value = "";
      readFields(r.bytes(), "ErrorInfo.metadata entry", (eno, etype, er) => {
        if (eno === 1 && etype === WireType.LengthDelimited) key = text(er.bytes(), "metadata key");
        else if (eno === 2 && etype === WireType.LengthDelimited) value = text(er.bytes(), "metadata value");
        else return false;
        return true;
      });
      // A repeated key: the last entry wins, as in every protobuf map.
      metadata.set(key, value);
    } else return false;
    return true;
  });
  return { reason, domain, metadata };
}

/**
 * Calls `visit` for each field; a field it does not take (returns false) is skipped, as protobuf
 * requires for unknown fields. A known field number with another wire type is skipped too, as
 * protobuf-es and protoc do. Framing errors become API_STATUS_DETAILS_INVALID.
 */
function readFields(
  bytes: Uint8Array,
  what: string,
  visit: (no: number, type: WireType, r: BinaryReader) => boolean,
): void {
  const r = new BinaryReader(bytes);
  try {
    while (r.pos < r.len) {
      const [no, type] = r.tag();
      // Groups (wire types 3 and 4) are proto2 only and never part of these messages.
      if (type === WireType.StartGroup || type === WireType.EndGroup) throw invalid(`${what}: group field ${no}`);
      if (!visit(no, type, r)) r.skip(type, no);
    }
    // The reader may step past the end on a truncated last field instead of throwing.
    if (r.pos > r.len) throw invalid(`${what}: truncated`);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw invalid(`${what}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

function text(bytes: Uint8Array, what: string): string {
  try {
    return fromUtf8(bytes);
  } catch (e) {
    throw invalid(`${what} is not UTF-8`, e);
  }
}

function invalid(message: string, cause?: unknown): ApiError {
  return new ApiError("API_STATUS_DETAILS_INVALID", `grpc-status-details-bin: ${message}`, {
    kind: "input",
    hint: "The server or a proxy on the way sent damaged error details; its status code still applies.",
    ...(cause === undefined ? {} : { cause }),
  });
}
