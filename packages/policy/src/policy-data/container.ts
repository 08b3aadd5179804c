import { execCommands, isRecord, type JsonRecord } from "@contrast/kube";
import {
  containerdImageName,
  GUEST_LAYERS_DIR,
  type ImageMetadata,
  isPinned,
  LAYER_SRC_PREFIX_OPTION,
  LAYER_SRC_PREFIX_PLACEHOLDER,
  STOCK_LAYER_SRC_PREFIX,
  tardevLayers,
} from "@contrast/oci";
import type { ConfigSources } from "../config-sources.js";
import { PolicyError } from "../errors.js";
import type { Settings } from "../settings/types.js";
import { containerEnv, expandVars, type PodFacts } from "./env.js";
import { applyInfraMounts, containerdMounts, imageVolumeMounts, volumeMountsAndStorages } from "./mounts.js";
import { tardevFormat } from "./tardev-format.js";
import type { ContainerPolicy, Device, KataCapabilities, KataLinux, Storage } from "./types.js";
import { resolveUser, type UserInputs } from "./user.js";

/** Everything about the pod that every container's policy depends on. */
export interface PodContext extends PodFacts {
  readonly settings: Settings;
  readonly sources: ConfigSources;
  /** Regex for the sandbox name, or undefined when pods get generated names (templates). */
  readonly sandboxName: string | undefined;
  readonly podSecurity: JsonRecord;
  readonly volumes: readonly JsonRecord[];
  /** Names of a StatefulSet's volumeClaimTemplates (empty for other kinds). */
  readonly claimTemplates: readonly string[];
  /** Full path of the pod spec in the input, e.g. "spec.template.spec". */
  readonly specPath: string;
  readonly sysctls: Readonly<Record<string, string>>;
  readonly shareProcessNamespace: boolean;
  /** spec.hostname, when the pod sets it. */
  readonly hostname: string | undefined;
  /** spec.hostNetwork: the sandbox shares the node's network (and genpolicy drops its UTS namespace). */
  readonly hostNetwork: boolean;
}

/** containerd's masked and read-only paths for an unprivileged container. */
const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
];
const READONLY_PATHS = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const NET_NS_REGEX = "^/var/run/netns/cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
const HOST_NET_NS_REGEX = "^/var/run/netns/cnitest-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}
function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map((x) => String(x)) : undefined;
}

/** The policy entry for the pause (sandbox) container. */
export function pauseContainerPolicy(pod: PodContext, image: ImageMetadata): ContainerPolicy {
  const infra = pod.settings.pause_container;
  const security = { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };
  const policy = buildContainer(pod, image, { name: "", securityContext: security }, infra, true, undefined, "");
  if (!Object.hasOwn(policy.OCI.Annotations, "nerdctl/network-namespace")) {
    // The sandbox is created in a CNI network namespace; containers join it and must not name one.
    // With hostNetwork, genpolicy expects the namespace name containerd gives then ("cnitest-…").
    policy.OCI.Annotations["nerdctl/network-namespace"] = pod.hostNetwork ? HOST_NET_NS_REGEX : NET_NS_REGEX;
  }
  return policy;
}

/** The policy entry for an init or application container. */
export function containerPolicy(
  pod: PodContext,
  image: ImageMetadata,
  container: JsonRecord,
  imageReference: string,
  containerPath: string,
): ContainerPolicy {
  return buildContainer(pod, image, container, pod.settings.other_container, false, imageReference, containerPath);
}

function buildContainer(
  pod: PodContext,
  image: ImageMetadata,
  container: JsonRecord,
  infra: Settings["pause_container"],
  isPause: boolean,
  imageReference: string | undefined,
  containerPath: string,
): ContainerPolicy {
  const { settings } = pod;
  const sc = isRecord(container.securityContext) ? container.securityContext : {};
  const privileged = sc.privileged === true;
  const config = image.config;

  // Process: command line, environment, working directory, user, capabilities.
  // containerd sets TERM=xterm for a tty (over the image's TERM, under the pod's), as genpolicy.
  const runtimeEnv = !isPause && container.tty === true ? ["TERM=xterm"] : [];
  let env = containerEnv(config.Env, container, pod.sources, pod, containerPath, runtimeEnv);
  if (isPause && infra.Process?.Env !== undefined && infra.Process.Env.length > 0) env = [...infra.Process.Env];
  if (!isPause && !env.some((e) => e.startsWith("HOSTNAME="))) {
    // The kubelet sets HOSTNAME to the pod's hostname, which is the (maybe generated) pod name.
    env.push(`HOSTNAME=${pod.hostname ?? "$(host-name)"}`);
  }
  let args = commandLine(container, config.Entrypoint, config.Cmd).map((a) => expandVars(a, env));
  if (isPause && infra.Process?.Args !== undefined && infra.Process.Args.length > 0) args = [...infra.Process.Args];
  const userInputs: UserInputs = {
    runAsUser: num(sc.runAsUser) ?? num(pod.podSecurity.runAsUser),
    runAsGroup: num(sc.runAsGroup) ?? num(pod.podSecurity.runAsGroup),
    supplementalGroups: Array.isArray(pod.podSecurity.supplementalGroups)
      ? pod.podSecurity.supplementalGroups.flatMap((g) => (typeof g === "number" ? [g] : []))
      : [],
    fsGroup: num(pod.podSecurity.fsGroup),
  };
  const user = resolveUser(config.User, image.layers, userInputs);
  const noNewPrivileges = isPause
    ? (infra.Process?.NoNewPrivileges ?? true)
    : !privileged && (sc.allowPrivilegeEscalation ?? pod.podSecurity.allowPrivilegeEscalation) === false;

  // Mounts and storages.
  const mounts = containerdMounts(isPause, privileged);
  applyInfraMounts(
    mounts,
    infra,
    isPause
      ? undefined
      : {
          terminationMessagePath:
            typeof container.terminationMessagePath === "string" && container.terminationMessagePath !== ""
              ? container.terminationMessagePath
              : undefined,
          readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
        },
  );
  const storages: Storage[] = [];
  if (settings.cluster_config.guest_pull === false) storages.push(...layerStorages(image, settings));
  if (!isPause) {
    volumeMountsAndStorages(
      container,
      {
        settings,
        volumes: pod.volumes,
        claimTemplates: pod.claimTemplates,
        fsGroup: userInputs.fsGroup,
        where: pod.where,
        file: pod.file,
        specPath: pod.specPath,
        containerPath,
      },
      mounts,
      storages,
    );
    imageVolumeMounts(Object.keys(config.Volumes ?? {}), settings, mounts);
  }

  // Annotations the runtime sets, checked by the rules.
  const annotations: Record<string, string> = { ...(infra.Annotations ?? {}) };
  if (pod.sandboxName !== undefined) annotations["io.kubernetes.cri.sandbox-name"] = pod.sandboxName;
  annotations["io.kubernetes.cri.sandbox-namespace"] = pod.namespace ?? "";
  if (!isPause) {
    annotations["io.kubernetes.cri.container-name"] = String(container.name ?? "");
    if (imageReference !== undefined) {
      // The name containerd gives the image (with guest pull, the one the guest is asked to pull),
      // pinned to the digest it resolved to. Only an unpinned image keeps a tag in front of the
      // digest: the rules accept a pull by that tag for it, and by digest only for a pinned one.
      annotations["io.kubernetes.cri.image-name"] = isPinned(imageReference)
        ? containerdImageName(imageReference)
        : `${containerdImageName(imageReference)}@${image.digest}`;
    }
  }

  const linux: KataLinux = {
    // As genpolicy: a host-network sandbox has no UTS namespace of its own.
    Namespaces: [
      { Type: "ipc", Path: "" },
      ...(isPause && pod.hostNetwork ? [] : [{ Type: "uts", Path: "" }]),
      { Type: "mount", Path: "" },
    ],
    MaskedPaths: privileged ? [] : [...(infra.Linux?.MaskedPaths ?? MASKED_PATHS)],
    ReadonlyPaths: privileged ? [] : [...(infra.Linux?.ReadonlyPaths ?? READONLY_PATHS)],
    Devices: [],
    Sysctl: { ...(infra.Linux?.Sysctl ?? {}), ...pod.sysctls },
  };

  const volumeDevices = isPause ? [] : blockDevices(container, settings, pod, containerPath);
  linux.Devices.push(...volumeDevices.map((d) => ({ Type: "", Path: d.container_path })));
  const vfio = vfioDevices(container, settings);
  const devices = [...volumeDevices, ...vfio.devices];
  const patterns = vfio.patterns;
  return {
    OCI: {
      Version: settings.kata_config.oci_version,
      Process: {
        Terminal: container.tty === true,
        User: user,
        Args: args,
        Env: env,
        Cwd:
          typeof container.workingDir === "string" && container.workingDir !== ""
            ? container.workingDir
            : config.WorkingDir || "/",
        Capabilities: capabilities(privileged, sc, settings),
        NoNewPrivileges: noNewPrivileges,
      },
      Root: {
        Path: infra.Root?.Path ?? "$(root_path)",
        Readonly: isPause ? (infra.Root?.Readonly ?? true) : sc.readOnlyRootFilesystem === true,
      },
      Mounts: mounts,
      Annotations: annotations,
      Linux: linux,
    },
    storages,
    devices,
    sandbox_pidns: pod.shareProcessNamespace,
    exec_commands: execCommands(container),
    runtime_anno_patterns: patterns,
  };
}

/**
 * The process's argv as the kubelet and containerd build it: `command` replaces the image's
 * ENTRYPOINT and drops its CMD; `args` alone replaces CMD.
 */
function commandLine(
  container: JsonRecord,
  entrypoint: readonly string[] | null | undefined,
  cmd: readonly string[] | null | undefined,
): string[] {
  const command = strings(container.command);
  const args = strings(container.args);
  if (command !== undefined) return [...command, ...(args ?? [])];
  if (args !== undefined) return [...(entrypoint ?? []), ...args];
  return [...(entrypoint ?? []), ...(cmd ?? [])];
}

function capabilities(privileged: boolean, sc: JsonRecord, settings: Settings): KataCapabilities {
  const base = privileged ? settings.common.privileged_caps : settings.common.default_caps;
  let set = [...base];
  const caps = isRecord(sc.capabilities) ? sc.capabilities : {};
  for (const c of strings(caps.drop) ?? []) {
    set = c === "ALL" ? [] : set.filter((x) => x !== `CAP_${c}` && x !== c);
  }
  for (const c of strings(caps.add) ?? []) {
    const cap = c.startsWith("CAP_") ? c : `CAP_${c}`;
    if (!set.includes(cap)) set.push(cap);
  }
  // Named sets keep the policy short; the rules expand them from policy_data.common.
  const same = (a: readonly string[]) => a.length === set.length && a.every((x, i) => x === set[i]);
  const compressed = same(settings.common.default_caps)
    ? ["$(default_caps)"]
    : same(settings.common.privileged_caps)
      ? ["$(privileged_caps)"]
      : set;
  return {
    Ambient: [],
    Bounding: [...compressed],
    Effective: [...compressed],
    Inheritable: [],
    Permitted: [...compressed],
  };
}

/**
 * Raw block devices of `volumeDevices` (a block-mode claim): as genpolicy, one device per entry,
 * known by its path in the container only (the host decides the rest), and the same path in the
 * OCI spec's Linux.Devices. A path under the settings' VFIO device path is refused, as genpolicy
 * does: it would pass for a GPU.
 */
function blockDevices(container: JsonRecord, settings: Settings, pod: PodContext, containerPath: string): Device[] {
  if (!Array.isArray(container.volumeDevices)) return [];
  const vfioPath = settings.devices?.vfio?.device_path;
  return container.volumeDevices.flatMap((d, i) => {
    if (!isRecord(d) || typeof d.devicePath !== "string") return [];
    if (vfioPath !== undefined && vfioPath !== "" && d.devicePath.startsWith(vfioPath)) {
      const path = `${containerPath}.volumeDevices[${i}].devicePath`;
      throw new PolicyError(
        "POLICY_FIELD_INVALID",
        `${pod.where}: ${path}: ${d.devicePath} is under ${vfioPath}, the path reserved for VFIO devices`,
        {
          path,
          ...(pod.file === undefined ? {} : { file: pod.file }),
          hint: "Choose another devicePath; request GPUs through resource limits (e.g. nvidia.com/pgpu).",
        },
      );
    }
    return [{ id: "", type_: "", vm_path: "", container_path: d.devicePath, options: [] }];
  });
}

/**
 * VFIO devices for GPUs requested through the settings' pGPU resource keys: one device per unit,
 * plus the CDI annotation pattern the runtime adds for each.
 */
function vfioDevices(
  container: JsonRecord,
  settings: Settings,
): { devices: Device[]; patterns: Record<string, string> } {
  const vfio = settings.devices?.vfio;
  const nvidia = vfio?.nvidia;
  const resources = isRecord(container.resources) ? container.resources : {};
  const limits = isRecord(resources.limits) ? resources.limits : {};
  let count = 0;
  for (const key of nvidia?.pgpu_resource_keys ?? []) {
    const n = Number(limits[key] ?? 0);
    if (Number.isInteger(n) && n > 0) count += n;
  }
  if (vfio === undefined || nvidia === undefined || count === 0) return { devices: [], patterns: {} };
  const devices: Device[] = Array.from({ length: count }, () => ({
    id: "",
    type_: nvidia.gpu_gk_device_type,
    vm_path: "",
    container_path: vfio.device_path,
    options: [],
  }));
  return { devices, patterns: { [vfio.anno_key_regex]: nvidia.gpu_anno_value_regex } };
}

/**
 * Layer storages for images the host pulls (`cluster_config.guest_pull: false`): one read-only
 * block device per layer, verified by its dm-verity root hash, then an overlay of all layers.
 * The layer's mount point is named after the SHA-256 of its OCI chain ID. Where the settings
 * give a regex for the snapshotter's directory (`common.tardev.layer_src_prefix`), the policy
 * names it by a placeholder the rules match against that regex.
 */
function layerStorages(image: ImageMetadata, settings: Settings): Storage[] {
  const format = tardevFormat(settings);
  const layers = tardevLayers(image, format);
  const devices: Storage[] = layers.map((l) => ({
    driver: "blk",
    driver_options: [],
    source: "",
    fstype: "tar",
    options: ["ro", ...l.fsOptions],
    mount_point: `${GUEST_LAYERS_DIR}${l.name}`,
    fs_group: null,
    shared: false,
  }));
  const prefix = format.prefixRegex === undefined ? STOCK_LAYER_SRC_PREFIX : LAYER_SRC_PREFIX_PLACEHOLDER;
  const overlay: Storage = {
    driver: "overlayfs",
    driver_options: [],
    source: "",
    fstype: format.overlayFstype,
    options: [
      `${LAYER_SRC_PREFIX_OPTION}${prefix}`,
      ...layers.map((l) => l.overlayOption).reverse(),
      "io.katacontainers.fs-opt.overlay-rw",
      `lowerdir=${layers
        .map((l) => l.name)
        .reverse()
        .join(":")}`,
    ],
    mount_point: "$(root_path)",
    fs_group: null,
    shared: false,
  };
  return [...devices.reverse(), overlay];
}
