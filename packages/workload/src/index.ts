// @contrast/workload: the workload side of the mesh API. A pod attests to the Coordinator with
// evidence bound to its TLS connection's exporter (or a server-issued nonce), receives its mesh certificate, the CAs and its workload secret, and
// writes them where its containers read them (/contrast/tls-config, /contrast/secrets).

export { WORKLOAD_ERROR_CODES, type WorkloadErrorCode } from "./error-codes.js";
export { WorkloadError } from "./errors.js";
export { type InitializeOptions, type InitializeResult, initializeWorkload } from "./initialize.js";
export {
  CREDENTIAL_LAYOUT,
  CREDENTIAL_MODES,
  type CredentialFile,
  credentialFiles,
  type MeshCredentials,
  WORKLOAD_SECRET_BYTES,
} from "./layout.js";
export { type MeshApiConnectorOptions, type MeshCertClient, meshApiConnector, requestMeshCert } from "./mesh-client.js";
export { type Obtained, type ObtainOptions, obtainMeshCredentials } from "./obtain.js";
export {
  type Backoff,
  backoffDelay,
  type ClassifiedFailure,
  classifyFailure,
  DEFAULT_BACKOFF,
  type FailureReason,
} from "./retry.js";
export { type CredentialFileSystem, nodeCredentialFs, type StagedFile, writeCredentials } from "./write.js";
