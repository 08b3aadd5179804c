import { isRecord, type JsonRecord } from "./workloads.js";

/**
 * The commands the kubelet runs in a container, in the order the pod spec names them: exec
 * liveness, readiness and startup probes, then exec postStart and preStop hooks. Reading the pod
 * spec is shared by the generator and the honest-request builder; what each makes of the
 * commands is not.
 */
export function execCommands(container: JsonRecord): string[][] {
  const out: string[][] = [];
  const add = (handler: unknown) => {
    if (isRecord(handler) && isRecord(handler.exec) && Array.isArray(handler.exec.command)) {
      out.push(handler.exec.command.map((x) => String(x)));
    }
  };
  add(container.livenessProbe);
  add(container.readinessProbe);
  add(container.startupProbe);
  if (isRecord(container.lifecycle)) {
    add(container.lifecycle.postStart);
    add(container.lifecycle.preStop);
  }
  return out;
}
