import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/coordinator reports, with what it means, its kind and the usual hint.
 * Programs branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const COORDINATOR_ERROR_CODES = [
  // History store backends and peer discovery (fs-store, configmap-store, peers/).
  {
    code: "HISTORY_STORE_IO",
    kind: "io",
    meaning: "The filesystem history store could not read or write its state directory.",
    hint: "Check that the state directory exists, is writable by the Coordinator and the volume is not full.",
  },
  {
    code: "HISTORY_STORE_LOCKED",
    kind: "io",
    meaning: "A history entry stayed locked by another writer longer than the lock timeout, or the lock was lost.",
    hint: "Another Coordinator sharing the state directory is stuck; if none runs, remove the .lock file named in the details.",
  },
  {
    code: "HISTORY_STORE_KUBE_API",
    kind: "io",
    meaning: "The Kubernetes API server refused or failed a ConfigMap request of the ConfigMap history store.",
    hint: "Check the Coordinator's service account may get, create and update ConfigMaps in its namespace.",
  },
  {
    code: "COORDINATOR_PEER_DISCOVERY_FAILED",
    kind: "io",
    meaning: "Listing the Coordinator's peer pods through the Kubernetes API failed.",
    hint: "Check the Coordinator's service account may list pods in its namespace.",
  },
  {
    code: "HISTORY_KEY_INVALID",
    kind: "internal",
    meaning: "A history store key does not have the form <kind>/<name>.",
    hint: "History keys are <kind>/<name> with letters, digits and dashes.",
  },
  {
    code: "HISTORY_ENTRY_MISSING",
    kind: "io",
    meaning: "An entry the history refers to is missing from the store.",
    hint: "The state volume (or the ConfigMaps) lost entries; restore them from a backup.",
  },
  {
    code: "HISTORY_HASH_MISMATCH",
    kind: "crypto",
    meaning: "A content-addressed history entry does not hash to its name.",
    hint: "The history store was modified or damaged outside the Coordinator.",
  },
  {
    code: "HISTORY_CORRUPT",
    kind: "crypto",
    meaning: "A history entry is malformed or the chain of transitions is broken.",
    hint: "The history store was modified or damaged outside the Coordinator.",
  },
  {
    code: "HISTORY_CONCURRENT_UPDATE",
    kind: "internal",
    meaning: "The latest transition was moved by another writer between read and compare-and-swap.",
    hint: "Another Coordinator changed the manifest first. Fetch the current manifests and retry.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type CoordinatorErrorCode = (typeof COORDINATOR_ERROR_CODES)[number]["code"];
