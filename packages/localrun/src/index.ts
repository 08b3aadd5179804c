// @contrast/localrun: the local runtime behind `contrast demo`.
export const LOCALRUN_PACKAGE = "@contrast/localrun";

export { controllerPodName } from "./admission/pod-names.js";
// D2: admission (the agent policy decides each pod) and the demo's images.
export {
  type AdmissionInput,
  type AdmittedContainer,
  type AdmittedProbe,
  type AdmittedVolumeMount,
  admitExec,
  admitPod,
  type ExecDecision,
  type PodAdmission,
  type PodDenial,
  type PodVolume,
  type ProbeAction,
} from "./admission.js";
export { ADMISSION_ERROR_CODES, AdmissionError, type AdmissionErrorCode } from "./admission-error-codes.js";
export {
  type BuildDemoImagesOptions,
  buildDemoImages,
  DEMO_IMAGE_REPOSITORY,
  type DemoApp,
  type DemoImage,
  type DemoImages,
  type DemoImagesFileSystem,
  nodeDemoImagesFileSystem,
} from "./demo-images.js";

// D1: the local runtime (pods as namespaced, chrooted processes).
export { LOCALRUN_ERROR_CODES, type LocalrunErrorCode } from "./error-codes.js";
export { startLocalCluster } from "./runtime/cluster.js";
export { LocalrunError } from "./runtime/errors.js";
export {
  type Host,
  type HostExit,
  type HostFileSystem,
  type HostOutput,
  type HostProcess,
  type HostRunResult,
  type HostSpawnOptions,
  type HostStat,
  nodeHost,
} from "./runtime/host.js";
export type {
  ContainerState,
  ContainerStatus,
  ExtraMount,
  LocalCluster,
  LocalClusterOptions,
  PodCondition,
  PodEvent,
  PodPhase,
  PodStatus,
  PodToRun,
  RunningPod,
  RuntimeContainer,
  RuntimePodAdmission,
  RuntimeProbe,
  RuntimeProbeAction,
  RuntimeVolume,
  ServiceEntry,
} from "./runtime/types.js";
export { type UnpackImageOptions, unpackImage } from "./runtime/unpack.js";
export {
  insideUserNamespace,
  type ReexecOptions,
  reexecInUserNamespace,
  USERNS_MARKER_ENV,
  type UserNamespaceCheck,
  userNamespaceAvailable,
} from "./runtime/userns.js";
