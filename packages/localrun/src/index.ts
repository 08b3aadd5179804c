// @contrast/localrun: the local runtime behind `contrast demo`.
export const LOCALRUN_PACKAGE = "@contrast/localrun";

// D2: admission and demo images.
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
export {
  type BuildDemoImagesOptions,
  buildDemoImages,
  DEMO_IMAGE_REPOSITORY,
  type DemoApp,
  type DemoImage,
  type DemoImages,
} from "./demo-images.js";
