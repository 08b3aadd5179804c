export {
  COORDINATOR_BUNDLE,
  type SimCoordinatorOptions,
  type StartedCoordinator,
  simCoordinatorArgs,
  startSimCoordinator,
} from "./coordinator.js";
export { createPassStore, dockerLoginToFile, type PassStore, passStoreAvailable } from "./docker-credentials.js";
export { errorCode, expectCode, expectCodeAsync, thrownBy } from "./errors.js";
export { yamlFilesUnder } from "./files.js";
export { FUZZ_RUNS, fuzzRuns } from "./fuzz.js";
export { type BuiltImage, buildImage, buildIndex, buildTar, type FileSpec } from "./images.js";
export { KubeApiDouble, type KubeObject, type PodSpecForDouble } from "./kube-api-double.js";
export {
  connectNetns,
  createNetns,
  type ExecInOptions,
  type ExecResult,
  execIn,
  execInSync,
  type Netns,
  netnsAvailable,
  spawnIn,
  type VethEnd,
} from "./netns.js";
export { REPO_ROOT, repoPath, testdataPath } from "./paths.js";
export {
  hardLimits,
  Podman,
  type PodmanContainer,
  type PodmanExecOptions,
  type PodmanPaths,
  type PodmanRunSpec,
  podmanAvailable,
  podmanContainersConf,
  podmanPaths,
} from "./podman.js";
export { type CollectOptions, collectLogs, type LoggedProcess, type LogLine, startBundle } from "./processes.js";
export { freePort, LocalRegistry } from "./registry.js";
export { scratchDir } from "./scratch.js";
export { childEnv, openssl, opensslSelfSigned } from "./tools.js";
export { veritysetupRoot } from "./veritysetup.js";
