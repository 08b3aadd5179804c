import { ContrastError, type ErrorCodeInfo, type ErrorKind } from "@contrast/core";

/**
 * The codes of the demo's admission, image building and sample app (apps/demo-app). D1's runtime codes live in
 * error-codes.ts; both lists make up the package's registry (docs/errors.md).
 */
export const ADMISSION_ERROR_CODES = [
  {
    code: "LOCALRUN_WORKLOAD_INVALID",
    kind: "input",
    meaning: "The deployed YAML given for one pod is not exactly one workload with a pod template.",
    hint: "Pass one workload document (Pod, Deployment, StatefulSet, ...) per pod.",
  },
  {
    code: "LOCALRUN_VOLUME_UNSUPPORTED",
    kind: "input",
    meaning: "A pod uses a volume type the local runtime cannot provide inside its working directory.",
    hint: "The demo runtime provides emptyDir, persistentVolumeClaim, volumeClaimTemplates, configMap, secret and projected configMap/secret volumes.",
  },
  {
    code: "LOCALRUN_VOLUME_SOURCE_MISSING",
    kind: "input",
    meaning: "A configMap or secret volume names an object that was not deployed.",
    hint: "Deploy the ConfigMap or Secret with the workload, or mark the volume optional.",
  },
  {
    code: "LOCALRUN_EXEC_CONTAINER_UNKNOWN",
    kind: "input",
    meaning: "An exec names a container the pod's admission did not allow.",
    hint: "Exec only into containers of an admitted pod.",
  },
  {
    code: "LOCALRUN_IMAGE_APP_INVALID",
    kind: "input",
    meaning: "An app given to the demo image build has no usable package.json image section or its files are missing.",
    hint: 'Build the apps first (pnpm build) and check the app\'s "image" section in package.json.',
  },
  {
    code: "LOCALRUN_DEMO_APP_USAGE",
    kind: "input",
    meaning: "The demo's sample app (demo-app) was started with arguments it does not take.",
    hint: "Run `demo-app --help` for usage.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type AdmissionErrorCode = (typeof ADMISSION_ERROR_CODES)[number]["code"];

/** The error of admission and demo images: a ContrastError with a registered code. */
export class AdmissionError extends ContrastError<AdmissionErrorCode> {
  constructor(
    code: AdmissionErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    const info = ADMISSION_ERROR_CODES.find((c) => c.code === code);
    const kind: ErrorKind = info?.kind ?? "input";
    super(code, message, {
      hint: options.hint ?? info?.hint ?? "",
      kind,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.details === undefined ? {} : { details: options.details }),
    });
  }
}
