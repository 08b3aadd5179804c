import { GPU_ANNOTATIONS } from "./annotations.js";
import type { Finding, ResourceRef, YamlFile } from "./findings.js";
import { INITIALIZER_NAME, SERVICE_MESH_NAME } from "./injection.js";
import { MIB, parseQuantity } from "./quantity.js";
import { sourcedObjects } from "./resources.js";
import { isContrastRuntimeClass } from "./runtime-class.js";
import { isRecord, type JsonRecord, type PodTemplate, podTemplates, runtimeClassName } from "./workloads.js";

/**
 * Workload checks beyond upstream (issue 15): the mistakes the workload deployment guide warns
 * about, found before they cost a failed deployment. Pure: image sizes come from the caller.
 * Only Contrast pods (runtime class contrast-cc*, kata-cc-isolation) are checked.
 */
export interface LintOptions {
  /** The platform's fixed pod overhead in MiB (RuntimeClass overhead.podFixed.memory). */
  readonly podOverheadMiB: number;
  /** True on bare-metal platforms, where the pod VM pulls images into its encrypted memory. */
  readonly bareMetal: boolean;
  /** The compressed size in bytes of an image (sum of its layers), or undefined if unknown. */
  readonly imageSize?: (image: string) => number | undefined;
}

/** The memory of a pod's VM, as upstream's runtime sizes it. */
export interface PodVmMemory {
  /** Sum of the regular containers' memory limits, MiB. */
  readonly containersMiB: number;
  /** containersMiB + the runtime class overhead, MiB. */
  readonly totalMiB: number;
  /** Regular containers without a (valid) memory limit: they add nothing to the VM. */
  readonly unlimited: readonly string[];
}

/**
 * The pod VM's memory: the sum of the regular containers' memory limits plus the runtime class's
 * fixed overhead; init containers (native sidecars included) are not counted (upstream's
 * "Prepare deployment files" guide, "Pod resources").
 */
export function podVmMemory(spec: JsonRecord, podOverheadMiB: number): PodVmMemory {
  let bytes = 0;
  const unlimited: string[] = [];
  for (const c of containersOf(spec, "containers")) {
    const limit = memoryOf(c, "limits");
    if (limit === undefined) unlimited.push(nameOf(c));
    else bytes += limit;
  }
  const containersMiB = Math.ceil(bytes / MIB);
  return { containersMiB, totalMiB: containersMiB + podOverheadMiB, unlimited };
}

/** Runs every workload lint on every Contrast pod of the files. */
export function lintWorkloads(files: YamlFile | readonly YamlFile[], options: LintOptions): Finding[] {
  const findings: Finding[] = [];
  for (const { object, ref } of sourcedObjects(Array.isArray(files) ? files : [files as YamlFile])) {
    for (const t of podTemplates(object)) {
      if (!isContrastRuntimeClass(runtimeClassName(t.spec))) continue;
      findings.push(...memoryFindings(t, ref, options), ...imageFindings(t, ref, options), ...gpuFindings(t, ref));
    }
  }
  return findings;
}

function memoryFindings(t: PodTemplate, resource: ResourceRef, options: LintOptions): Finding[] {
  const out: Finding[] = [];
  for (const c of containersOf(t.spec, "containers")) {
    const container = nameOf(c);
    const limitRaw = resourceOf(c, "limits", "memory");
    const requestRaw = resourceOf(c, "requests", "memory");
    const limit = parseQuantity(limitRaw);
    const request = parseQuantity(requestRaw);
    if (limit === undefined) {
      out.push({
        code: "KUBE_MEMORY_LIMIT_MISSING",
        severity: "warning",
        message:
          limitRaw === undefined
            ? "no memory limit: the pod VM gets no memory for this container beyond the runtime overhead"
            : `memory limit ${JSON.stringify(limitRaw)} is not a Kubernetes quantity`,
        hint: "Set resources.limits.memory (and the same resources.requests.memory) on every container.",
        resource,
        container,
      });
    } else if (requestRaw !== undefined && request !== limit) {
      out.push({
        code: "KUBE_MEMORY_REQUEST_MISMATCH",
        severity: "warning",
        message: `memory request ${String(requestRaw)} differs from limit ${String(limitRaw)}: the scheduler counts the request, the pod VM takes the limit`,
        hint: "Set resources.requests.memory equal to resources.limits.memory.",
        resource,
        container,
      });
    }
  }
  const vm = podVmMemory(t.spec, options.podOverheadMiB);
  out.push({
    code: "KUBE_POD_VM_MEMORY",
    severity: "info",
    message: `pod VM memory ${vm.totalMiB} MiB = ${vm.containersMiB} MiB container limits + ${options.podOverheadMiB} MiB runtime overhead (init containers not counted)`,
    hint: "Raise a container's memory limit if the pod needs more; init containers do not count.",
    resource,
  });
  // Init containers run inside the same VM, before (or beside) the containers whose limits sized it.
  for (const c of containersOf(t.spec, "initContainers")) {
    const name = nameOf(c);
    if (name === INITIALIZER_NAME || name === SERVICE_MESH_NAME) continue;
    const limit = memoryOf(c, "limits");
    if (limit !== undefined && Math.ceil(limit / MIB) > vm.containersMiB) {
      out.push({
        code: "KUBE_POD_VM_MEMORY",
        severity: "warning",
        message: `init container's memory limit (${Math.ceil(limit / MIB)} MiB) exceeds the containers' limits (${vm.containersMiB} MiB) that size the pod VM`,
        hint: "Raise the memory limit of one of the pod's regular containers: init containers do not size the VM.",
        resource,
        container: name,
      });
    }
  }
  return out;
}

function imageFindings(t: PodTemplate, resource: ResourceRef, options: LintOptions): Finding[] {
  const out: Finding[] = [];
  for (const key of ["initContainers", "containers"] as const) {
    for (const c of containersOf(t.spec, key)) {
      const image = typeof c.image === "string" ? c.image : undefined;
      if (image === undefined) continue;
      const container = nameOf(c);
      if (!/@sha256:[0-9a-f]{64}$/.test(image)) {
        out.push({
          code: "KUBE_IMAGE_UNPINNED",
          severity: "warning",
          message: `image ${image} is not pinned by digest: the policy allows the layers seen now, and the pod fails once the tag moves`,
          hint: "Reference the image by digest (name@sha256:...).",
          resource,
          container,
          entry: image,
        });
      }
      if (key !== "containers" || !options.bareMetal || options.imageSize === undefined) continue;
      const size = options.imageSize(image);
      const limit = memoryOf(c, "limits");
      if (size === undefined || limit === undefined) continue;
      if (limit < 10 * size) {
        out.push({
          code: "KUBE_IMAGE_TMPFS",
          severity: "warning",
          message: `memory limit ${Math.ceil(limit / MIB)} MiB is below 10 x the image's compressed size (${Math.ceil(size / MIB)} MiB): the pod VM keeps compressed and unpacked layers in its memory`,
          hint: `Raise the container's memory limit to about ${Math.ceil((10 * size) / MIB)}Mi.`,
          resource,
          container,
          entry: image,
        });
      }
    }
  }
  return out;
}

/** `nvidia.com/pgpu=0,nvidia.com/pgpu=1` as [0, 1]; undefined when malformed. */
export function parseCdiGpuDevices(value: string): number[] | undefined {
  const devices = value.split(",").map((d) => d.trim());
  const out: number[] = [];
  for (const d of devices) {
    const m = /^nvidia\.com\/pgpu=(0|[1-9][0-9]*)$/.exec(d);
    if (m === null) return undefined;
    out.push(Number(m[1]));
  }
  return out;
}

function gpuFindings(t: PodTemplate, resource: ResourceRef): Finding[] {
  const podAnnotations = isRecord(t.podMetadata.annotations) ? t.podMetadata.annotations : {};
  const objectAnnotations = isRecord(t.objectMetadata.annotations) ? t.objectMetadata.annotations : {};
  const containers = containersOf(t.spec, "containers");
  const gpuLimits = containers.flatMap((c) => {
    const limits = isRecord(c.resources) && isRecord(c.resources.limits) ? c.resources.limits : {};
    return Object.entries(limits)
      .filter(([k]) => k.startsWith("nvidia.com/"))
      .map(([k, v]) => ({ container: nameOf(c), resource: k, count: Number(v) }));
  });
  const visible = containers.flatMap((c) => {
    const env = Array.isArray(c.env) ? c.env : [];
    return env
      .filter((e) => isRecord(e) && e.name === "NVIDIA_VISIBLE_DEVICES")
      .map((e) => ({ container: nameOf(c), value: (e as JsonRecord).value }));
  });
  const cdi = podAnnotations[GPU_ANNOTATIONS.cdi];
  const defaultMemory = podAnnotations[GPU_ANNOTATIONS.defaultMemory];
  const isGpuPod =
    cdi !== undefined ||
    defaultMemory !== undefined ||
    gpuLimits.length > 0 ||
    visible.length > 0 ||
    objectAnnotations[GPU_ANNOTATIONS.cdi] !== undefined;
  if (!isGpuPod) return [];
  const out: Finding[] = [];
  const incomplete = (message: string, container?: string): void => {
    out.push({
      code: "KUBE_GPU_INCOMPLETE",
      severity: "warning",
      message,
      hint: "Add cdi.k8s.io/gpu: nvidia.com/pgpu=<index>, io.katacontainers.config.hypervisor.default_memory, the nvidia.com/<GPU> limit and NVIDIA_VISIBLE_DEVICES=all.",
      resource,
      ...(container === undefined ? {} : { container }),
    });
  };
  const inconsistent = (message: string, entry?: string, container?: string): void => {
    out.push({
      code: "KUBE_GPU_INCONSISTENT",
      severity: "warning",
      message,
      hint: "Name as many nvidia.com/pgpu=<index> devices as the containers' nvidia.com/ limits add up to.",
      resource,
      ...(entry === undefined ? {} : { entry }),
      ...(container === undefined ? {} : { container }),
    });
  };
  const onObjectOnly = t.kind !== "Pod" && cdi === undefined && objectAnnotations[GPU_ANNOTATIONS.cdi] !== undefined;
  let devices: number[] | undefined;
  if (cdi === undefined) {
    incomplete(
      onObjectOnly
        ? `annotation ${GPU_ANNOTATIONS.cdi} is on the ${t.kind}'s metadata, not on its pod template's, where the runtime reads it`
        : `GPU pod without the ${GPU_ANNOTATIONS.cdi} annotation: no GPU is passed into the pod VM`,
    );
  } else {
    devices = typeof cdi === "string" ? parseCdiGpuDevices(cdi) : undefined;
    if (devices === undefined)
      inconsistent(
        `${GPU_ANNOTATIONS.cdi} ${JSON.stringify(cdi)} is not a list of nvidia.com/pgpu=<index>`,
        String(cdi),
      );
    else if (new Set(devices).size !== devices.length)
      inconsistent(`${GPU_ANNOTATIONS.cdi} names a device twice`, String(cdi));
  }
  if (defaultMemory === undefined) {
    incomplete(
      `GPU pod without the ${GPU_ANNOTATIONS.defaultMemory} annotation: the GPU pod VM needs more memory than the default (8192 MiB is a reasonable minimum)`,
    );
  } else if (typeof defaultMemory !== "string" || !/^[1-9][0-9]*$/.test(defaultMemory)) {
    inconsistent(
      `${GPU_ANNOTATIONS.defaultMemory} ${JSON.stringify(defaultMemory)} is not a number of MiB (as a quoted string)`,
      String(defaultMemory),
    );
  } else if (Number(defaultMemory) < 8192) {
    inconsistent(
      `${GPU_ANNOTATIONS.defaultMemory} is ${defaultMemory} MiB, below the 8192 MiB upstream calls a reasonable minimum for a GPU pod`,
      defaultMemory,
    );
  }
  if (gpuLimits.length === 0)
    incomplete("GPU pod without an nvidia.com/<GPU> resource limit on any container: no GPU is allocated to it");
  for (const g of gpuLimits) {
    if (!Number.isInteger(g.count) || g.count < 1)
      inconsistent(`limit ${g.resource} must be a positive whole number`, g.resource, g.container);
  }
  const gpuContainers = new Set(gpuLimits.map((g) => g.container));
  for (const name of gpuContainers) {
    const v = visible.find((e) => e.container === name);
    if (v === undefined)
      incomplete(
        "GPU container without NVIDIA_VISIBLE_DEVICES=all: the CUDA libraries of the pod VM are not visible to it",
        name,
      );
    else if (v.value !== "all")
      inconsistent(`NVIDIA_VISIBLE_DEVICES is ${JSON.stringify(v.value)}, not "all"`, String(v.value), name);
  }
  const total = gpuLimits.reduce((s, g) => s + (Number.isInteger(g.count) ? g.count : 0), 0);
  if (devices !== undefined && gpuLimits.length > 0 && devices.length !== total) {
    inconsistent(
      `${GPU_ANNOTATIONS.cdi} names ${devices.length} device(s), the containers' nvidia.com/ limits add up to ${total}`,
      String(cdi),
    );
  }
  return out;
}

function containersOf(spec: JsonRecord, key: "containers" | "initContainers"): JsonRecord[] {
  const list = spec[key];
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

function nameOf(c: JsonRecord): string {
  return typeof c.name === "string" ? c.name : "(unnamed)";
}

function resourceOf(c: JsonRecord, kind: "limits" | "requests", name: string): unknown {
  const r = isRecord(c.resources) && isRecord(c.resources[kind]) ? c.resources[kind] : undefined;
  return r === undefined ? undefined : r[name];
}

function memoryOf(c: JsonRecord, kind: "limits" | "requests"): number | undefined {
  return parseQuantity(resourceOf(c, kind, "memory"));
}
