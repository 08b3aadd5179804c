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
