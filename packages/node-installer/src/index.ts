export {
  INSTALL_CONFIG_FILE,
  type InstallConfig,
  type InstallFile,
  parseInstallConfig,
  RUNTIME_BASE_DIR,
  RUNTIME_NAME_PLACEHOLDER,
  resolveTargetPath,
  type SnapshotterChoice,
} from "./config.js";
export {
  type ContainerdConfigVersion,
  checkRuntimeRegistered,
  criImagesPlugin,
  criRuntimePlugin,
  defaultSnapshotter,
  type PatchResult,
  patchContainerdConfig,
  RUNTIME_TYPE,
  type RuntimeEntry,
  runtimeEntry,
  SHIM_BINARY,
} from "./containerd-config.js";
export { NODE_INSTALL_ERROR_CODES, type NodeInstallErrorCode } from "./error-codes.js";
export { NodeInstallError } from "./errors.js";
export { CONTAINERD_CONFIG, type ContainerdFlavour, type ContainerdTarget, findContainerdTarget } from "./flavour.js";
export { type Fetcher, type FetcherOptions, type HostFs, hostFsAt, nodeFetcher } from "./host.js";
export { atomicWrite, type InstallOptions, type InstallReport, installRuntime, resolveHandler } from "./install.js";
export { type KataConfigOptions, kataConfig, kataConfigFileName, kataConfigText, runtimeDir } from "./kata-config.js";
export { type Integrity, IntegrityCheck, integrityOf, parseIntegrity, type SriAlgorithm, type SriHash } from "./sri.js";
