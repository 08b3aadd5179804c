import { isRecord, type JsonRecord, type PodTemplate } from "@contrast/kube";
import type { ConfigSources } from "../../config-sources.js";
import type { RuntimeFacts } from "../../profiles/types.js";
import type { Settings } from "../../settings/types.js";
import type { ResolvedIdentity } from "./identity.js";

/** Paths and defaults of containerd and the Kata runtime that every request of a pod shares. */
export const CONTAINERD_BUNDLE = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/";
export const SHARED_DIR = "/run/kata-containers/shared/containers/";
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// containerd's (and Kata's) masked and read-only paths of an unprivileged container.
export const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
];
export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
export type Mount = { destination: string; source: string; type_: string; options: string[] };
export type StorageReq = {
  driver: string;
  driver_options: string[];
  source: string;
  fstype: string;
  options: string[];
  mount_point: string;
  fs_group: { group_id: number; group_change_policy: number } | null;
  shared: boolean;
};
export function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map((x) => String(x)) : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

export function basename(path: string): string {
  const parts = path.split("/").filter((p) => p !== "");
  return parts[parts.length - 1] ?? "";
}

/** What the builder knows about one pod: its identity, settings, spec and volumes. */
export interface Pod {
  readonly id: ResolvedIdentity;
  readonly settings: Settings;
  /** What the platform's runtime adds beyond the settings (the profile's runtime facts). */
  readonly runtime: RuntimeFacts;
  readonly sources: ConfigSources;
  readonly template: PodTemplate;
  readonly spec: JsonRecord;
  readonly security: JsonRecord;
  readonly hostname: string;
  readonly sysctls: Record<string, string>;
  readonly volumes: readonly JsonRecord[];
  /** The device address of each layer hot-plugged into the sandbox so far, by layer name. */
  readonly layerDevices: Map<string, string>;
}

export function podFacts(
  t: PodTemplate,
  spec: JsonRecord,
  id: ResolvedIdentity,
  settings: Settings,
  runtime: RuntimeFacts,
  sources: ConfigSources,
  claimTemplates: readonly string[],
) {
  const security = isRecord(spec.securityContext) ? spec.securityContext : {};
  const sysctls: Record<string, string> = {};
  if (Array.isArray(security.sysctls)) {
    for (const s of security.sysctls) if (isRecord(s) && typeof s.name === "string") sysctls[s.name] = String(s.value);
  }
  return {
    id,
    settings,
    runtime,
    sources,
    template: t,
    spec,
    security,
    hostname: typeof spec.hostname === "string" && spec.hostname !== "" ? spec.hostname : id.sandboxName,
    sysctls,
    layerDevices: new Map<string, string>(),
    // A claim template becomes a persistentVolumeClaim volume of the same name in each pod.
    volumes: [
      ...(Array.isArray(spec.volumes) ? spec.volumes.filter(isRecord) : []),
      ...claimTemplates.map((name) => ({ name, persistentVolumeClaim: { claimName: name } })),
    ],
  } satisfies Pod;
}
