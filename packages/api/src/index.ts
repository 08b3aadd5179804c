// @contrast/api: the Coordinator's gRPC API. For now the error mapping; the services follow.

export { ApiError } from "./error.js";
export { API_ERROR_CODES, type ApiErrorCode } from "./error-codes.js";
export {
  ERROR_DOMAIN,
  fromGrpcError,
  STATUS_DETAILS_KEY,
  type ToGrpcStatusOptions,
  toGrpcStatus,
} from "./grpc-error.js";
export { grpcStatusOfKind } from "./grpc-status.js";
