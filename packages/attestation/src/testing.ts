// @contrast/attestation/testing: the simulated TEE's issuer, for tests, demos and development.
// It makes an ARK -> ASK -> VCEK chain and SEV-SNP reports signed by that VCEK; verifying them
// takes the main door's code path (verifySnpReport with `roots`, simEntriesNaming). Nothing here
// proves anything about confidentiality.

export {
  decodeSimulatedAuthority,
  encodeSimulatedAuthority,
  loadSimulatedAuthority,
  nodeSimAuthorityFileSystem,
  openSimulatedAuthority,
  type SimAuthorityFileSystem,
  saveSimulatedAuthority,
} from "./sim/persist.js";
export {
  type CreateSimulatedAuthorityOptions,
  createSimulatedAuthority,
  type SimReportRequest,
  type SimTcb,
  type SimulatedAuthority,
} from "./sim/tee.js";
