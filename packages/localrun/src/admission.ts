// Admission: the agent policy decides a pod's containers exactly as the Kata agent would.
export type {
  AdmissionInput,
  AdmittedContainer,
  AdmittedProbe,
  AdmittedVolumeMount,
  ExecDecision,
  PodAdmission,
  PodDenial,
  PodVolume,
  ProbeAction,
} from "./admission/types.js";

import type { AdmissionInput, ExecDecision, PodAdmission } from "./admission/types.js";

/** Builds the honest request stream of the pod and decides it with the pod's policy. */
export async function admitPod(input: AdmissionInput): Promise<PodAdmission> {
  void input;
  throw new Error("admitPod: not implemented yet");
}

/**
 * Decides an exec into a running container of an admitted pod (an ExecProcessRequest), against
 * the policy and the agent state its admission left, as the pod's agent would.
 */
export function admitExec(admission: PodAdmission, container: string, command: readonly string[]): ExecDecision {
  void admission;
  void container;
  void command;
  throw new Error("admitExec: not implemented yet");
}
