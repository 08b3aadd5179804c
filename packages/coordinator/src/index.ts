// @contrast/coordinator: the Coordinator as a library: its state machine, the history store
// (port and backends) and the logic of the user API and mesh API, testable without a socket.
// apps/coordinator wires it to servers, probes, metrics and signals.

export { COORDINATOR_ERROR_CODES, type CoordinatorErrorCode } from "./error-codes.js";
export { CoordinatorError } from "./errors.js";
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
export {
  type InClusterConfig,
  inClusterCoreV1Api,
  kubeconfigCoreV1Api,
  SERVICE_ACCOUNT_DIR,
} from "./peers/kube-api.js";
export {
  COORDINATOR_POD_SELECTOR,
  COORDINATOR_ROLE,
  type KubernetesPeer,
  KubernetesPeerSource,
  type KubernetesPeerSourceOptions,
  POD_ROLE_KEY,
} from "./peers/kubernetes-peers.js";
