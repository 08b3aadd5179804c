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
    hint: "Another Coordinator changed the manifest first: `contrast verify` fetches the current one; then run `contrast set` again.",
  },
  {
    code: "COORDINATOR_IN_RECOVERY",
    kind: "input",
    meaning:
      "The Coordinator has a history but no usable state: it restarted, or another Coordinator moved the history on.",
    hint: "Run `contrast recover -c <host:port>` with your seedshare-owner.pem and seed-shares.json, or wait for a ready peer Coordinator to recover it.",
  },
  {
    code: "COORDINATOR_NO_MANIFEST",
    kind: "input",
    meaning: "No manifest has been set yet.",
    hint: "Set a manifest first: `contrast set -c <host:port> <resources>`.",
  },
  {
    code: "COORDINATOR_ALREADY_RECOVERED",
    kind: "input",
    meaning: "Recover was called on a Coordinator that is running with a current state.",
    hint: "Nothing to do: the Coordinator is running; `contrast verify` shows its manifest.",
  },
  {
    code: "COORDINATOR_NOTHING_TO_RECOVER",
    kind: "input",
    meaning: "Recover was called on a Coordinator whose history store is empty.",
    hint: "Nothing to recover: set a manifest with `contrast set` instead.",
  },
  {
    code: "COORDINATOR_PEERS_AVAILABLE",
    kind: "input",
    meaning: "User recovery was refused because ready peer Coordinators can recover this one.",
    hint: "Wait for peer recovery, or run `contrast recover --force` to recover with the seed anyway (this replaces the mesh CA key).",
  },
  {
    code: "COORDINATOR_PEER_LISTING_FAILED",
    kind: "io",
    meaning: "The Coordinator could not list its peers to decide whether user recovery is safe.",
    hint: "Check the Coordinator's access to the Kubernetes API, or run `contrast recover --force`.",
  },

  {
    code: "COORDINATOR_CLIENT_CERT_MISSING",
    kind: "policy",
    meaning: "The call needs the caller's TLS client certificate, and the connection had none.",
    hint: "`contrast set` and `contrast recover` always present a client certificate; other clients must connect with the workload owner, seed share owner or mesh key.",
  },
  {
    code: "COORDINATOR_CLIENT_KEY_UNSUPPORTED",
    kind: "policy",
    meaning: "The caller's client certificate key is neither RSA nor ECDSA.",
    hint: "Use the ECDSA workload owner key or the RSA seed share owner key.",
  },
  {
    code: "COORDINATOR_UPDATE_DISABLED",
    kind: "policy",
    meaning: "The current manifest lists no workload owner key, so it cannot be replaced.",
    hint: "Manifest updates are disabled for this deployment (no WorkloadOwnerKeyDigests); redeploy the Coordinator to start over, then `contrast set` a manifest with an owner key.",
  },
  {
    code: "COORDINATOR_UPDATE_UNAUTHORIZED",
    kind: "policy",
    meaning: "The caller's key is not a workload owner key of the current manifest.",
    hint: "Run `contrast set --workload-owner-key <file>` with a key whose digest is in the current manifest's WorkloadOwnerKeyDigests (`contrast verify` fetches that manifest).",
  },
  {
    code: "COORDINATOR_SEEDSHARE_OWNERS_CHANGED",
    kind: "policy",
    meaning: "A manifest update changes SeedshareOwnerPubKeys, which must stay as they were first set.",
    hint: "Keep SeedshareOwnerPubKeys exactly as in the current manifest (same keys, same order), then run `contrast set` again.",
  },
  {
    code: "COORDINATOR_POLICY_MISSING",
    kind: "input",
    meaning: "The manifest names a policy hash for which the request carries no policy.",
    hint: "Pass `contrast set` every YAML file the manifest was generated from: it sends the policies the manifest names.",
  },
  {
    code: "COORDINATOR_RECOVERY_UNAUTHORIZED",
    kind: "policy",
    meaning: "The caller's key is not a seed share owner key of the latest manifest.",
    hint: "Run `contrast recover --seedshare-owner-key <file>` with the key whose public key is in the manifest's SeedshareOwnerPubKeys.",
  },
  {
    code: "COORDINATOR_RECOVERY_SEED_WRONG",
    kind: "input",
    meaning: "The seed and salt given for recovery do not sign the latest transition in the history.",
    hint: "Run `contrast recover --seed <file>` with the seed-shares.json `contrast set` wrote when this deployment's first manifest was set.",
  },
  {
    code: "COORDINATOR_MESH_NOT_READY",
    kind: "io",
    meaning: "The Coordinator cannot issue mesh certificates yet: no manifest, or it is in recovery.",
    hint: "Run `contrast set` (or `contrast recover` after a restart); initializers retry until then.",
  },
  {
    code: "COORDINATOR_NONCE_UNKNOWN",
    kind: "crypto",
    meaning: "The attestation nonce was never issued, was already used, or was evicted.",
    hint: "Ask for a new nonce with NewAttestationNonce right before NewMeshCert; every nonce works once.",
  },
  {
    code: "COORDINATOR_NONCE_EXPIRED",
    kind: "crypto",
    meaning: "The attestation nonce is older than its time to live.",
    hint: "Ask for a new nonce and use it within TtlSeconds.",
  },
  {
    code: "COORDINATOR_NONCE_KEY_MISMATCH",
    kind: "crypto",
    meaning: "The attestation nonce was issued to a connection with another client certificate key.",
    hint: "Ask for the nonce on the same connection (same client key) that sends the evidence.",
  },
  {
    code: "COORDINATOR_EVIDENCE_MISSING",
    kind: "crypto",
    meaning: "The call carries no attestation evidence, neither in the request nor in the handshake.",
    hint: "Send evidence bound to a nonce from NewAttestationNonce in the request.",
  },
  {
    code: "COORDINATOR_EVIDENCE_REJECTED",
    kind: "crypto",
    meaning: "The attestation evidence did not verify.",
    hint: "Check the workload's platform and the manifest's reference values.",
  },
  {
    code: "COORDINATOR_REPORT_DATA_MISMATCH",
    kind: "crypto",
    meaning: "The evidence's report data does not bind the caller's client certificate key and nonce.",
    hint: "Create the evidence for SHA-512(SPKI DER of the TLS client certificate key || nonce).",
  },
  {
    code: "COORDINATOR_POLICY_NOT_IN_MANIFEST",
    kind: "policy",
    meaning: "The attested policy hash (HOST_DATA / MRCONFIGID) is not in the current manifest.",
    hint: "Run `contrast generate` and `contrast set` again, so that the manifest lists this workload's policy.",
  },
  {
    code: "COORDINATOR_PEER_NOT_COORDINATOR",
    kind: "policy",
    meaning: "A peer asked for the Coordinator's secrets but its policy is not one with role coordinator.",
    hint: 'Only Coordinators whose policy entry has Role "coordinator" may recover from a peer.',
  },
  {
    code: "COORDINATOR_PEER_STATE_MOVED",
    kind: "io",
    meaning: "The history moved on while recovering from a peer: its latest manifest is not the store's.",
    hint: "Transient: recovery is retried with the peer's current state.",
  },
  {
    code: "COORDINATOR_PEER_RECOVERY_INVALID",
    kind: "crypto",
    meaning: "What a peer Coordinator sent for recovery does not match the history store.",
    hint: "The peer serves another deployment or another history; check which Coordinators share the store.",
  },
  // TLS exporter channel binding (docs/atls.md, "Channel binding").
  {
    code: "COORDINATOR_EVIDENCE_BINDING_UNSUPPORTED",
    kind: "input",
    meaning:
      "The request's EvidenceBinding is a value this Coordinator does not know, or names the TLS exporter while also carrying a nonce.",
    hint: "Send EVIDENCE_BINDING_TLS_EXPORTER without AttestationNonce, or EVIDENCE_BINDING_NONCE with a nonce from NewAttestationNonce.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type CoordinatorErrorCode = (typeof COORDINATOR_ERROR_CODES)[number]["code"];
