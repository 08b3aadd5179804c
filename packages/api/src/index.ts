// @contrast/api: the Coordinator's gRPC API: the UserAPI and MeshAPI messages and services
// (generated from proto/contrast by `pnpm generate`), grpc-js wiring and typed clients, and errors
// carried across the wire with their code, kind and hint.

export { type CallOptions, type ChannelReadiness, createServiceClient, type ServiceClient } from "./client.js";
export { ApiError } from "./error.js";
export { API_ERROR_CODES, type ApiErrorCode } from "./error-codes.js";
export {
  EvidenceBinding,
  EvidenceBindingSchema,
  MeshAPI,
  type NewAttestationNonceRequest,
  NewAttestationNonceRequestSchema,
  type NewAttestationNonceResponse,
  NewAttestationNonceResponseSchema,
  type NewMeshCertRequest,
  NewMeshCertRequestSchema,
  type NewMeshCertResponse,
  NewMeshCertResponseSchema,
  type RecoverRequest as MeshRecoverRequest,
  RecoverRequestSchema as MeshRecoverRequestSchema,
  type RecoverResponse as MeshRecoverResponse,
  RecoverResponseSchema as MeshRecoverResponseSchema,
} from "./gen/contrast/meshapi_pb.js";
export {
  type GetManifestsRequest,
  GetManifestsRequestSchema,
  type GetManifestsResponse,
  GetManifestsResponseSchema,
  type LatestTransition,
  LatestTransitionSchema,
  type RecoverRequest,
  RecoverRequestSchema,
  type RecoverResponse,
  RecoverResponseSchema,
  type SeedShare,
  type SeedShareDocument,
  SeedShareDocumentSchema,
  SeedShareSchema,
  type SetManifestRequest,
  SetManifestRequestSchema,
  type SetManifestResponse,
  SetManifestResponseSchema,
  UserAPI,
} from "./gen/contrast/userapi_pb.js";
export {
  ERROR_DOMAIN,
  fromGrpcError,
  STATUS_DETAILS_KEY,
  type ToGrpcStatusOptions,
  toGrpcStatus,
} from "./grpc-error.js";
export { grpcStatusOfKind } from "./grpc-status.js";
export { grpcServiceDefinition } from "./services.js";
