import { isRecord, type JsonRecord, type PodTemplate } from "@contrast/kube";
import type { ImageMetadata } from "@contrast/oci";
import type { ConfigSources } from "../config-sources.js";
import type { Settings } from "../settings/types.js";
import { containerPolicy, type PodContext, pauseContainerPolicy } from "./container.js";
import type { PolicyData } from "./types.js";

export interface BuildInputs {
  readonly settings: Settings;
  readonly sources: ConfigSources;
  /** Image metadata by the reference written in the pod spec (and the pause image's). */
  readonly images: ReadonlyMap<string, ImageMetadata>;
  /** The input file's name, for messages and error details. */
  readonly file?: string;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/**
 * The sandbox name the policy accepts, as a regex. A Pod's name is known exactly; with
 * generateName the API server appends a random suffix; controllers append their own suffixes
 * (a Deployment's pods are <name>-<pod-template-hash>-<5 chars>, a StatefulSet's <name>-<ordinal>).
 */
function sandboxName(t: PodTemplate): string | undefined {
  const name = escapeRegex(t.name);
  switch (t.kind) {
    case "Pod":
      if (t.name !== "") return `^${name}$`;
      if (t.generateName !== undefined && t.generateName !== "") return `^${escapeRegex(t.generateName)}[a-z0-9]*$`;
      return undefined;
    // Controllers name pods <name>-<suffix>; a template without a name cannot be matched.
    case "Deployment":
      return t.name === "" ? undefined : `^${name}-[a-z0-9]+-[a-z0-9]{5}$`;
    case "StatefulSet":
      return t.name === "" ? undefined : `^${name}-[0-9]+$`;
    case "CronJob":
      return t.name === "" ? undefined : `^${name}-[0-9]+-[a-z0-9]{5}$`;
    default:
      return t.name === "" ? undefined : `^${name}-[a-z0-9]{5}$`;
  }
}

/** policy_data for one pod: the pause container, init containers and containers, plus settings. */
export function buildPolicyData(t: PodTemplate, inputs: BuildInputs): PolicyData {
  const { settings, sources, images } = inputs;
  const spec = t.spec;
  const podSecurity = isRecord(spec.securityContext) ? spec.securityContext : {};
  const sysctls: Record<string, string> = {};
  if (Array.isArray(podSecurity.sysctls)) {
    for (const s of podSecurity.sysctls)
      if (isRecord(s) && typeof s.name === "string") sysctls[s.name] = String(s.value ?? "");
  }
  const pod: PodContext = {
    settings,
    sources,
    namespace: t.namespace,
    labels: stringMap(t.podMetadata.labels),
    annotations: stringMap(t.podMetadata.annotations),
    serviceAccountName:
      typeof spec.serviceAccountName === "string"
        ? spec.serviceAccountName
        : typeof spec.serviceAccount === "string"
          ? spec.serviceAccount
          : "default",
    where: `${inputs.file === undefined ? "" : `${inputs.file}: `}${t.kind}/${t.name || t.generateName || "?"}`,
    file: inputs.file,
    specPath: `${t.itemPath}${t.specPath}`,
    claimTemplates: t.claimTemplates,
    sandboxName: sandboxName(t),
    podSecurity,
    volumes: Array.isArray(spec.volumes) ? spec.volumes.filter(isRecord) : [],
    sysctls,
    shareProcessNamespace: spec.shareProcessNamespace === true,
    hostname: typeof spec.hostname === "string" && spec.hostname !== "" ? spec.hostname : undefined,
    hostNetwork: spec.hostNetwork === true,
  };
  const image = (reference: string): ImageMetadata => {
    const m = images.get(reference);
    if (m === undefined) throw new Error(`internal: image ${reference} was not resolved`);
    return m;
  };
  const pause = pauseContainerPolicy(pod, image(settings.cluster_config.pause_container_image));
  const containers = [pause];
  let privileged = false;
  for (const { container: c, path } of podContainerEntries(spec, pod.specPath)) {
    containers.push(containerPolicy(pod, image(String(c.image)), c, String(c.image), path));
    if (isRecord(c.securityContext) && c.securityContext.privileged === true) privileged = true;
  }
  if (privileged && settings.cluster_config.privileged_sysfs_ro_or_rw === true) {
    // containerd since 2.0.4 mounts the pause container's /sys read-write when a container of the
    // pod is privileged; the rules let a read-only /sys (older containerd) pass for it as well.
    for (const m of pause.OCI.Mounts) {
      if (m.type_ === "sysfs") m.options = m.options.map((o) => (o === "ro" ? "rw" : o));
    }
  }
  const common: Record<string, unknown> = { ...settings.common };
  // Chooses how layers are verified at generation time; not something the rules read.
  delete common.image_layer_verification;
  const data: PolicyData = {
    containers,
    common,
    sandbox: {
      storages: settings.sandbox.storages.map((s) => ({ ...s, shared: s.shared ?? false })),
      // Only when the settings name some, so that stock Kata's policy data keeps its shape.
      ...(settings.sandbox.allowed_guest_hooks === undefined
        ? {}
        : { allowed_guest_hooks: [...settings.sandbox.allowed_guest_hooks] }),
    },
    request_defaults: { ...settings.request_defaults },
    cluster_config: { ...settings.cluster_config },
  };
  if (settings.devices !== undefined) data.devices = settings.devices;
  return data;
}

/** Init containers first, in order, then the containers: the order the kubelet creates them. */
export function podContainers(spec: JsonRecord): JsonRecord[] {
  return podContainerEntries(spec, "").map((e) => e.container);
}

/** podContainers with each container's full path ("<specPath>.initContainers[0]", …). */
export function podContainerEntries(spec: JsonRecord, specPath: string): { container: JsonRecord; path: string }[] {
  const list = (field: "initContainers" | "containers") => {
    const v = spec[field];
    if (!Array.isArray(v)) return [];
    return v.flatMap((c, i) => (isRecord(c) ? [{ container: c, path: `${specPath}.${field}[${i}]` }] : []));
  };
  return [...list("initContainers"), ...list("containers")];
}
