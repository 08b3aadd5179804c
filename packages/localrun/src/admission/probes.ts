import { isRecord, type JsonRecord } from "@contrast/kube";
import { AdmissionError } from "../admission-error-codes.js";
import type { AdmittedProbe, ProbeAction } from "./types.js";

export type ProbeType = AdmittedProbe["type"];

/** The probes in the order the kubelet's exec commands come (liveness, readiness, startup), as execCommands lists them. */
export const PROBE_FIELDS: readonly (readonly [ProbeType, string])[] = [
  ["liveness", "livenessProbe"],
  ["readiness", "readinessProbe"],
  ["startup", "startupProbe"],
];

export interface ContainerPort {
  readonly containerPort: number;
  readonly protocol: string;
  readonly name?: string;
}

export function containerPorts(c: JsonRecord): ContainerPort[] {
  return (Array.isArray(c.ports) ? c.ports.filter(isRecord) : []).flatMap((p) => {
    const port = Number(p.containerPort);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return [];
    const name = typeof p.name === "string" && p.name !== "" ? p.name : undefined;
    return [
      {
        containerPort: port,
        protocol: typeof p.protocol === "string" ? p.protocol : "TCP",
        ...(name === undefined ? {} : { name }),
      },
    ];
  });
}

function int(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : fallback;
}

/** A probe's port: a number, or the name of one of the container's ports (as the kubelet resolves it). */
function portOf(v: unknown, ports: readonly ContainerPort[], where: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  if (typeof v === "string" && /^[0-9]+$/.test(v)) return portOf(Number(v), ports, where);
  const named = typeof v === "string" ? ports.find((p) => p.name === v) : undefined;
  if (named !== undefined) return named.containerPort;
  throw new AdmissionError(
    "LOCALRUN_WORKLOAD_INVALID",
    `${where}: port ${JSON.stringify(v)} is neither a port number nor a named port of the container`,
    {
      hint: "Give the probe a port number or the name of one of the container's ports.",
      details: { where },
    },
  );
}

/** The probe's handler; undefined for a grpc probe or none (the runtime cannot run those). */
export function probeAction(
  probe: JsonRecord,
  ports: readonly ContainerPort[],
  where: string,
): ProbeAction | undefined {
  if (isRecord(probe.exec) && Array.isArray(probe.exec.command)) {
    return { kind: "exec", command: probe.exec.command.map((x) => String(x)) };
  }
  if (isRecord(probe.httpGet)) {
    const h = probe.httpGet;
    const host = typeof h.host === "string" && h.host !== "" ? h.host : undefined;
    return {
      kind: "httpGet",
      port: portOf(h.port, ports, where),
      path: typeof h.path === "string" && h.path !== "" ? h.path : "/",
      scheme: h.scheme === "HTTPS" ? "HTTPS" : "HTTP",
      ...(host === undefined ? {} : { host }),
    };
  }
  if (isRecord(probe.tcpSocket)) {
    const host =
      typeof probe.tcpSocket.host === "string" && probe.tcpSocket.host !== "" ? probe.tcpSocket.host : undefined;
    return {
      kind: "tcpSocket",
      port: portOf(probe.tcpSocket.port, ports, where),
      ...(host === undefined ? {} : { host }),
    };
  }
  return undefined;
}

/** Kubernetes' defaults for the probe's timing. */
export function probeTiming(probe: JsonRecord) {
  return {
    initialDelaySeconds: int(probe.initialDelaySeconds, 0),
    periodSeconds: Math.max(1, int(probe.periodSeconds, 10)),
    timeoutSeconds: Math.max(1, int(probe.timeoutSeconds, 1)),
    successThreshold: Math.max(1, int(probe.successThreshold, 1)),
    failureThreshold: Math.max(1, int(probe.failureThreshold, 3)),
  };
}
