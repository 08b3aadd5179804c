// @contrast/coordinator: the Coordinator as a library: its state machine, the history store
// (port and backends) and the logic of the user API and mesh API, testable without a socket.
// apps/coordinator wires it to servers, probes, metrics and signals.

export { authorizationDigest, type Caller, type HandshakeEvidence } from "./caller.js";
export { Coordinator, type CoordinatorMetrics, type CoordinatorOptions } from "./coordinator.js";
export { COORDINATOR_ERROR_CODES, type CoordinatorErrorCode } from "./error-codes.js";
export { CoordinatorError } from "./errors.js";
export {
  COORDINATOR_GRPC_SERVER_OPTIONS,
  COORDINATOR_STATUS_BY_CODE,
  GRPC_MAX_MESSAGE_BYTES,
  type HandlerOptions,
  meshApiHandlers,
  type PeerOf,
  userApiHandlers,
} from "./grpc.js";
export {
  CONFIGMAP_STORE_LABELS,
  ConfigMapStore,
  type ConfigMapStoreOptions,
  configMapName,
  statefulSetOwnerOf,
} from "./history/configmap-store.js";
export { FileSystemStore, type FileSystemStoreOptions } from "./history/fs-store.js";
export { History, type HistoryEntry } from "./history/history.js";
export { MemoryStore } from "./history/memory-store.js";
export { type HistoryStore, isValidKey } from "./history/store.js";
export { type AttestationInput, COORDINATOR_ROLE } from "./mesh-api.js";
export { DEFAULT_NONCE_CAPACITY, DEFAULT_NONCE_TTL_MS, NONCE_BYTES } from "./nonces.js";
export type {
  PeerMeshClient,
  PeerRecoveryOptions,
  RecoverFromPeersOptions,
  RecoveryEvidenceIssuer,
} from "./peer-recovery.js";
export type { PeerCoordinator, PeerSource } from "./peer-source.js";
export {
  type InClusterConfig,
  inClusterCoreV1Api,
  kubeconfigCoreV1Api,
  SERVICE_ACCOUNT_DIR,
} from "./peers/kube-api.js";
export {
  COORDINATOR_POD_SELECTOR,
  type KubernetesPeer,
  KubernetesPeerSource,
  type KubernetesPeerSourceOptions,
  POD_ROLE_KEY,
} from "./peers/kubernetes-peers.js";
export type { CoordinatorPhase, CoordinatorStatus } from "./state.js";
export type { RecoverInput, SetManifestInput } from "./user-api.js";
export type { EvidenceVerificationRequest, EvidenceVerifier, VerifiedEvidence } from "./verifier.js";
