import type { JsonValue } from "@contrast/core";
import { execCommands, isRecord, type JsonRecord, type PodTemplate } from "@contrast/kube";
import {
  containerdImageName,
  GUEST_LAYERS_DIR,
  type ImageMetadata,
  type ImageMetadataSource,
  LAYER_SRC_PREFIX_OPTION,
  STOCK_LAYER_SRC_PREFIX,
  tardevLayers,
} from "@contrast/oci";
import { collectConfigSources } from "../config-sources.js";
import { PolicyError } from "../errors.js";
import { parseYamlDocuments, podTemplates } from "../kube-input.js";
import { builtinPauseImage } from "../pause-image.js";
import { tardevFormat } from "../policy-data/tardev-format.js";
import type { PolicyProfile, RuntimeFacts } from "../profiles/types.js";
import { DEFAULT_SETTINGS } from "../settings/defaults.js";
import type { Settings } from "../settings/types.js";
import { sharedFileCopies } from "./honest/copies.js";
import { hex, type ResolvedIdentity, resolveIdentity, type SandboxIdentity, uuid } from "./honest/identity.js";
import { containerdMounts, criMounts, sharedFile, volumeMounts } from "./honest/mounts.js";
import {
  basename,
  CONTAINERD_BUNDLE,
  DEFAULT_PATH,
  MASKED_PATHS,
  type Mount,
  num,
  type Pod,
  podFacts,
  READONLY_PATHS,
  type StorageReq,
  strings,
} from "./honest/pod.js";
import type { StreamRequest } from "./stream.js";

export type { ResolvedIdentity, SandboxIdentity } from "./honest/identity.js";
export { resolveIdentity } from "./honest/identity.js";

// The builder models containerd's CRI plugin, the kubelet and the Kata runtime from their own
// sources, and is written apart from policy-data/ (which models genpolicy) on purpose: where both
// encode the same fact (containerd's default mounts, exec probes), a mistake shared by the two
// would let the corpus tests pass a policy the real runtime is denied by.

export interface HonestRequestOptions {
  /** Image metadata by the reference as the pod spec writes it (and the pause image's). */
  readonly images: ImageMetadataSource | ReadonlyMap<string, ImageMetadata>;
  /**
   * The platform whose runtime sends the requests: its settings (unless `settings` is given) and
   * its runtime facts. Default: stock Kata (the `kata` profile).
   */
  readonly profile?: PolicyProfile;
  /** The settings the policy was generated with; default: the profile's settings. */
  readonly settings?: Settings;
  readonly identity?: SandboxIdentity;
  /** ConfigMaps and Secrets env vars may refer to (parsed documents). */
  readonly configDocuments?: readonly unknown[];
  /**
   * Names of a StatefulSet's volumeClaimTemplates: volumeMounts may name them instead of a volume
   * (honestRequestsForYaml fills this in).
   */
  readonly claimTemplates?: readonly string[];
}

/** One container of the stream: its name ("" for the pause container) and ID. */
export interface HonestContainer {
  readonly name: string;
  readonly containerId: string;
  /** Indexes of its CreateContainerRequest and of its ExecProcessRequests in `requests`. */
  readonly create: number;
  readonly execs: readonly number[];
}

export interface HonestStream {
  readonly identity: ResolvedIdentity;
  readonly requests: readonly StreamRequest[];
  readonly containers: readonly HonestContainer[];
}

async function imageOf(images: HonestRequestOptions["images"], reference: string): Promise<ImageMetadata> {
  const found = "get" in images && typeof images.get === "function" ? await images.get(reference) : undefined;
  if (found === undefined) {
    throw new PolicyError("POLICY_REQUESTS_UNBUILDABLE", `no image metadata for ${reference}`, {
      hint: "Pass the metadata of every image of the pod (and of the settings' pause image).",
    });
  }
  return found;
}

/**
 * The honest request streams for every pod template of a YAML text: what containerd's CRI plugin
 * and the Kata runtime would send the agent of each pod. `identity` applies to every template.
 */
export async function honestRequestsForYaml(
  yamlText: string,
  options: HonestRequestOptions & { readonly source?: string },
): Promise<{ readonly template: PodTemplate; readonly stream: HonestStream }[]> {
  const docs = parseYamlDocuments(yamlText, options.source ?? "input").map((d) => d.value);
  const configDocuments = [...docs, ...(options.configDocuments ?? [])];
  const out: { template: PodTemplate; stream: HonestStream }[] = [];
  const objects = docs.flatMap((d) => (isRecord(d) && d.kind === "List" && Array.isArray(d.items) ? d.items : [d]));
  for (const doc of objects) {
    const spec = isRecord(doc) && isRecord(doc.spec) ? doc.spec : {};
    const claimTemplates = (Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []).flatMap((c) =>
      isRecord(c) && isRecord(c.metadata) && typeof c.metadata.name === "string" ? [c.metadata.name] : [],
    );
    for (const template of podTemplates(doc)) {
      out.push({ template, stream: await honestRequests(template, { ...options, configDocuments, claimTemplates }) });
    }
  }
  return out;
}

/**
 * Builds the request stream the runtime sends for one pod, from the pod spec, the images'
 * configs and the settings (never from a generated policy, so that it can catch generator
 * bugs): CreateSandboxRequest; CreateContainerRequest and StartContainerRequest for the pause
 * container, each init container and each container; an ExecProcessRequest for each declared
 * exec probe and lifecycle hook.
 */
export async function honestRequests(template: PodTemplate, options: HonestRequestOptions): Promise<HonestStream> {
  const settings = options.settings ?? options.profile?.settings ?? DEFAULT_SETTINGS;
  const runtime: RuntimeFacts = options.profile?.runtime ?? { ociVersion: settings.kata_config.oci_version };
  const id = resolveIdentity(template, options.identity);
  const sources = collectConfigSources(options.configDocuments ?? []);
  const spec = template.spec;
  const pod = podFacts(template, spec, id, settings, runtime, sources, options.claimTemplates ?? []);
  const requests: StreamRequest[] = [];
  const containers: HonestContainer[] = [];

  requests.push({ name: "CreateSandboxRequest", input: createSandbox(id, settings, runtime) });
  // The same pause image metadata generation uses: built in for the default image, so an
  // offline run needs no entry for it.
  const pauseReference = settings.cluster_config.pause_container_image;
  const pauseImage = builtinPauseImage(pauseReference) ?? (await imageOf(options.images, pauseReference));
  const pause = pauseContainer(pod, pauseImage);
  if (runtime.sharedFileCopies === true)
    requests.push(...sharedFileCopies(pod, undefined, id.sandboxId, mountsOf(pause)));
  containers.push({ name: "", containerId: id.sandboxId, create: requests.length, execs: [] });
  requests.push({ name: "CreateContainerRequest", input: pause as JsonValue });
  requests.push({ name: "StartContainerRequest", input: { container_id: id.sandboxId } });

  const list = (v: unknown) => (Array.isArray(v) ? v.filter(isRecord) : []);
  let blockDevices = 0;
  for (const c of [...list(spec.initContainers), ...list(spec.containers)]) {
    const name = String(c.name ?? "");
    const reference = String(c.image ?? "");
    const image = await imageOf(options.images, reference);
    const containerId = hex(`container:${id.sandboxId}/${name}`, 64);
    const built = appContainer(pod, c, image, reference, containerId, blockDevices);
    blockDevices = built.blockDevices;
    if (runtime.sharedFileCopies === true) {
      requests.push(...sharedFileCopies(pod, c, containerId, mountsOf(built.request)));
    }
    const create = requests.length;
    requests.push({ name: "CreateContainerRequest", input: built.request as JsonValue });
    requests.push({ name: "StartContainerRequest", input: { container_id: containerId } });
    const execs: number[] = [];
    for (const [i, command] of execCommands(c).entries()) {
      execs.push(requests.length);
      const process = { ...built.process, Args: command, Terminal: false, Capabilities: null, OOMScoreAdj: 0 };
      requests.push({
        name: "ExecProcessRequest",
        input: { container_id: containerId, exec_id: uuid(`exec:${containerId}/${i}`), string_user: null, process },
      });
    }
    containers.push({ name, containerId, create, execs });
  }
  return { identity: id, requests, containers };
}

function mountsOf(request: JsonRecord): Mount[] {
  const oci = isRecord(request.OCI) ? request.OCI : {};
  return Array.isArray(oci.Mounts) ? (oci.Mounts as Mount[]) : [];
}

/** The runtime hands shareProcessNamespace to each container, never through this request's flag. */
function createSandbox(id: ResolvedIdentity, settings: Settings, runtime: RuntimeFacts): JsonValue {
  return {
    hostname: "",
    dns: [],
    storages: settings.sandbox.storages.map((s) => ({
      driver: s.driver,
      driver_options: [...(s.driver_options ?? [])],
      source: s.source,
      fstype: s.fstype,
      options: [...s.options],
      mount_point: s.mount_point,
      fs_group: null,
      shared: false,
    })),
    sandbox_pidns: false,
    sandbox_id: id.sandboxId,
    guest_hook_path: runtime.guestHookPath ?? "",
    kernel_modules: [],
  } as JsonValue;
}

function annotationsFor(pod: Pod, bundle: string): Record<string, string> {
  const { id } = pod;
  return {
    "io.katacontainers.pkg.oci.bundle_path": `${CONTAINERD_BUNDLE}${bundle}`,
    "io.kubernetes.cri.sandbox-cpu-period": "100000",
    "io.kubernetes.cri.sandbox-cpu-quota": "0",
    "io.kubernetes.cri.sandbox-cpu-shares": "2",
    "io.kubernetes.cri.sandbox-id": id.sandboxId,
    "io.kubernetes.cri.sandbox-memory": "0",
    "io.kubernetes.cri.sandbox-name": id.sandboxName,
    "io.kubernetes.cri.sandbox-namespace": id.namespace,
    "io.kubernetes.cri.sandbox-uid": id.podUid,
  };
}

interface Passwd {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The topmost layer's copy of /etc/passwd or /etc/group, as in the unpacked image. */
function etcFile(image: ImageMetadata, file: "passwd" | "group"): string[][] {
  for (let i = image.layers.length - 1; i >= 0; i--) {
    const text = image.layers[i]?.[file];
    if (text === null) return [];
    if (text !== undefined) return text.split("\n").map((l) => l.split(":"));
  }
  return [];
}

/** The process user as containerd resolves it from the security contexts and the image. */
function processUser(pod: Pod, sc: JsonRecord, image: ImageMetadata) {
  const passwd: Passwd[] = etcFile(image, "passwd").flatMap((f) =>
    f.length >= 4 && /^[0-9]+$/.test(f[2] ?? "") && /^[0-9]+$/.test(f[3] ?? "")
      ? [{ name: f[0] ?? "", uid: Number(f[2]), gid: Number(f[3]) }]
      : [],
  );
  const groups = etcFile(image, "group").flatMap((f) =>
    f.length >= 4 && /^[0-9]+$/.test(f[2] ?? "")
      ? [{ name: f[0] ?? "", gid: Number(f[2]), members: (f[3] ?? "").split(",").filter((m) => m !== "") }]
      : [],
  );
  const runAsUser = num(sc.runAsUser) ?? num(pod.security.runAsUser);
  const runAsGroup = num(sc.runAsGroup) ?? num(pod.security.runAsGroup);
  const [userPart = "", groupPart] = (image.config.User ?? "").split(":", 2);
  let uid = 0;
  let entry: Passwd | undefined;
  if (runAsUser !== undefined) {
    uid = runAsUser;
    entry = passwd.find((p) => p.uid === uid);
  } else if (/^[0-9]+$/.test(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else if (userPart !== "") {
    entry = passwd.find((p) => p.name === userPart);
    if (entry === undefined) {
      throw new PolicyError("POLICY_REQUESTS_UNBUILDABLE", `image user ${userPart} is not in the image's /etc/passwd`, {
        hint: "containerd would fail to start this container; use a numeric USER or runAsUser.",
      });
    }
    uid = entry.uid;
  } else entry = passwd.find((p) => p.uid === 0);
  let gid: number;
  if (runAsGroup !== undefined) gid = runAsGroup;
  else if (groupPart !== undefined && groupPart !== "" && runAsUser === undefined) {
    gid = /^[0-9]+$/.test(groupPart) ? Number(groupPart) : (groups.find((g) => g.name === groupPart)?.gid ?? 0);
  } else gid = entry?.gid ?? 0;
  const extra = new Set<number>([gid]);
  if (entry !== undefined) for (const g of groups) if (g.members.includes(entry.name)) extra.add(g.gid);
  if (Array.isArray(pod.security.supplementalGroups)) {
    for (const g of pod.security.supplementalGroups) if (typeof g === "number") extra.add(g);
  }
  const fsGroup = num(pod.security.fsGroup);
  if (fsGroup !== undefined) extra.add(fsGroup);
  return { UID: uid, GID: gid, AdditionalGids: [...extra].sort((a, b) => a - b), Username: "" };
}

function pauseContainer(pod: Pod, image: ImageMetadata): JsonRecord {
  const { id, settings } = pod;
  const infra = settings.pause_container;
  const bundle = id.sandboxId;
  const mounts = containerdMounts(true, false);
  if (pod.runtime.pauseSysfsRwWithPrivileged === true && anyPrivileged(pod.spec)) {
    // containerd since 2.0.4: the pause container's /sys follows the pod's privileged containers.
    for (const m of mounts) if (m.type_ === "sysfs") m.options = m.options.map((o) => (o === "ro" ? "rw" : o));
  }
  criMounts(pod, infra, bundle, mounts);
  const annotations: Record<string, string> = {
    ...annotationsFor(pod, bundle),
    "io.katacontainers.pkg.oci.container_type": "pod_sandbox",
    "io.kubernetes.cri.container-type": "sandbox",
    "io.kubernetes.cri.podsandbox.image-name": settings.cluster_config.pause_container_image,
    "io.kubernetes.cri.sandbox-log-directory": `/var/log/pods/${id.namespace}_${id.sandboxName}_${id.podUid}`,
    "nerdctl/network-namespace": `/var/run/netns/cni-${id.netnsId}`,
  };
  const user = processUser(pod, {}, image);
  const process = {
    ApparmorProfile: "",
    Args: [...(image.config.Entrypoint ?? []), ...(image.config.Cmd ?? [])],
    Capabilities: capabilitySets(settings.common.default_caps as string[]),
    ConsoleSize: null,
    Cwd: image.config.WorkingDir || "/",
    Env: image.config.Env !== undefined && image.config.Env.length > 0 ? [...image.config.Env] : [DEFAULT_PATH],
    NoNewPrivileges: true,
    OOMScoreAdj: -998,
    Rlimits: [],
    SelinuxLabel: "",
    Terminal: false,
    User: user,
  };
  const storages: StorageReq[] = [];
  if (settings.cluster_config.guest_pull === true) storages.push(guestPull("pause", annotations, bundle));
  else storages.push(...layerStorages(pod, image, bundle));
  return createRequest(pod, {
    containerId: bundle,
    annotations,
    mounts,
    process,
    root: { Path: containerRoot(pod, bundle), Readonly: true },
    storages,
    sysctl: { ...(infra.Linux?.Sysctl ?? {}), ...pod.sysctls },
    privileged: false,
  });
}

function rootPath(bundle: string): string {
  return `/run/kata-containers/${bundle}/rootfs`;
}

/**
 * The container's root in the guest: the settings' root_path for this bundle (a guest-pulled
 * image's overlay is always at rootPath; a host-pulled one where the platform's shim puts it).
 */
function containerRoot(pod: Pod, bundle: string): string {
  const template = pod.settings.common.root_path;
  return template === undefined ? rootPath(bundle) : template.replaceAll("$(bundle-id)", bundle);
}

function capabilitySets(caps: readonly string[]) {
  return { Ambient: [], Bounding: [...caps], Effective: [...caps], Inheritable: [], Permitted: [...caps] };
}

/**
 * The storage the Kata runtime builds for an image the guest pulls (docs/platform-profiles.md,
 * "Guest-pull storages"): the image reference (or "pause" for the sandbox), one driver option
 * `image_guest_pull=<JSON>` whose metadata are the container's annotations (Go's encoder sorts map
 * keys), an overlay at the container's root.
 */
function guestPull(source: string, annotations: Record<string, string>, bundle: string): StorageReq {
  const metadata: Record<string, string> = {};
  for (const key of Object.keys(annotations).sort()) metadata[key] = annotations[key] as string;
  return {
    driver: "image_guest_pull",
    driver_options: [`image_guest_pull=${goJson({ metadata })}`],
    source,
    fstype: "overlay",
    options: [],
    mount_point: rootPath(bundle),
    fs_group: null,
    shared: false,
  };
}

/** JSON as Go's encoding/json writes it: HTML-sensitive characters and U+2028/U+2029 escaped. */
function goJson(value: JsonValue): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The PCI address the runtime hot-plugs a layer's device at: one device per distinct layer in
 * the sandbox, slots 1 to 31 of segment 1, then of segment 2 (as in the AKS request streams of
 * microsoft/regorus' Kata tests). The policy does not check it.
 */
function layerDevice(pod: Pod, name: string): string {
  const known = pod.layerDevices.get(name);
  if (known !== undefined) return known;
  const n = pod.layerDevices.size;
  const segment = 1 + Math.floor(n / 31);
  const slot = (n % 31) + 1;
  const address = `${segment.toString(16).padStart(4, "0")}:00:${slot.toString(16).padStart(2, "0")}.0`;
  pod.layerDevices.set(name, address);
  return address;
}

/**
 * Layers the host pulled and the tardev snapshotter exposes: one dm-verity protected block
 * device per layer, named after the SHA-256 of its chain ID, and an overlay of them at the root.
 * The overlay's format (fstype, option encoding) is the settings' `common.tardev`; the directory
 * it names first is the runtime's snapshotter's.
 */
function layerStorages(pod: Pod, image: ImageMetadata, bundle: string): StorageReq[] {
  const format = tardevFormat(pod.settings);
  const layers = tardevLayers(image, format);
  const devices: StorageReq[] = layers.map((l) => ({
    driver: "blk",
    driver_options: [],
    source: layerDevice(pod, l.name),
    fstype: "tar",
    options: ["ro", ...l.fsOptions],
    mount_point: `${GUEST_LAYERS_DIR}${l.name}`,
    fs_group: null,
    shared: false,
  }));
  const overlay: StorageReq = {
    driver: "overlayfs",
    driver_options: [],
    source: "none",
    fstype: format.overlayFstype,
    options: [
      `${LAYER_SRC_PREFIX_OPTION}${pod.runtime.layerSrcPrefix ?? STOCK_LAYER_SRC_PREFIX}`,
      ...layers.map((l) => l.overlayOption).reverse(),
      "io.katacontainers.fs-opt.overlay-rw",
      `lowerdir=${layers
        .map((l) => l.name)
        .reverse()
        .join(":")}`,
    ],
    mount_point: containerRoot(pod, bundle),
    fs_group: null,
    shared: false,
  };
  return [...devices.reverse(), overlay];
}

function anyPrivileged(spec: JsonRecord): boolean {
  return ["initContainers", "containers"].some(
    (f) =>
      Array.isArray(spec[f]) &&
      (spec[f] as unknown[]).some(
        (c) => isRecord(c) && isRecord(c.securityContext) && c.securityContext.privileged === true,
      ),
  );
}

/**
 * containerd's rootfs propagation for a container whose volume mounts ask for propagation:
 * "rshared" with a Bidirectional mount, else "rslave" with a HostToContainer one.
 */
function rootfsPropagation(pod: Pod, c: JsonRecord | undefined): string {
  if (pod.runtime.mountPropagation !== true || c === undefined || !Array.isArray(c.volumeMounts)) return "";
  const modes = c.volumeMounts.filter(isRecord).map((vm) => vm.mountPropagation);
  if (modes.includes("Bidirectional")) return "rshared";
  if (modes.includes("HostToContainer")) return "rslave";
  return "";
}

interface CreateParts {
  readonly containerId: string;
  readonly annotations: Record<string, string>;
  readonly mounts: Mount[];
  readonly process: JsonRecord;
  readonly root: { Path: string; Readonly: boolean };
  readonly storages: StorageReq[];
  readonly sysctl: Record<string, string>;
  readonly privileged: boolean;
  /** The pod spec's container (none for the pause container). */
  readonly container?: JsonRecord;
}

/**
 * The Kata runtime hands the agent the IPC, UTS and mount namespaces only; the network namespace
 * is named by the sandbox's nerdctl/network-namespace annotation (as in Kata's recorded requests).
 */
function createRequest(pod: Pod, p: CreateParts): JsonRecord {
  const namespaces = [
    { Path: "", Type: "ipc" },
    { Path: "", Type: "uts" },
    { Path: "", Type: "mount" },
  ];
  return {
    container_id: p.containerId,
    exec_id: p.containerId,
    string_user: null,
    devices: [],
    storages: p.storages,
    sandbox_pidns: pod.spec.shareProcessNamespace === true,
    shared_mounts: [],
    stdin_port: 0,
    stdout_port: 0,
    stderr_port: 0,
    OCI: {
      Version: pod.runtime.ociVersion,
      Annotations: p.annotations,
      Hooks: null,
      Hostname: pod.hostname,
      Linux: {
        CgroupsPath: `/kubepods/besteffort/pod${pod.id.podUid}/${p.containerId}`,
        Devices: [],
        GIDMappings: [],
        IntelRdt: null,
        MaskedPaths: p.privileged ? [] : [...MASKED_PATHS],
        MountLabel: "",
        Namespaces: namespaces,
        ReadonlyPaths: p.privileged ? [] : [...READONLY_PATHS],
        Resources: {
          BlockIO: null,
          CPU: { Cpus: "", Mems: "", Period: 0, Quota: 0, RealtimePeriod: 0, RealtimeRuntime: 0, Shares: 2 },
          Devices: [],
          HugepageLimits: [],
          Memory: null,
          Network: null,
          Pids: null,
        },
        RootfsPropagation: rootfsPropagation(pod, p.container),
        Seccomp: null,
        Sysctl: p.sysctl,
        UIDMappings: [],
      },
      Mounts: p.mounts,
      Process: p.process,
      Root: p.root,
      Solaris: null,
      Windows: null,
    },
  };
}

/** The value the kubelet gives an env var with valueFrom. */
function fieldValue(pod: Pod, c: JsonRecord, item: JsonRecord): string | undefined {
  const from = isRecord(item.valueFrom) ? item.valueFrom : undefined;
  if (from === undefined) return "";
  const t = pod.template;
  for (const [field, kind] of [
    ["configMapKeyRef", "configMap"],
    ["secretKeyRef", "secret"],
  ] as const) {
    const ref = from[field];
    if (!isRecord(ref)) continue;
    const data = pod.sources[kind](String(ref.name ?? ""), pod.id.namespace);
    const v = data?.get(String(ref.key ?? ""));
    if (v === undefined && ref.optional !== true) {
      throw new PolicyError(
        "POLICY_REQUESTS_UNBUILDABLE",
        `${kind} ${String(ref.name)} has no key ${String(ref.key)}`,
        {
          hint: "Pass the ConfigMaps and Secrets the pod refers to.",
        },
      );
    }
    return v;
  }
  if (isRecord(from.fieldRef)) {
    const path = String(from.fieldRef.fieldPath ?? "");
    const labels = isRecord(t.podMetadata.labels) ? t.podMetadata.labels : {};
    const annotations = isRecord(t.podMetadata.annotations) ? t.podMetadata.annotations : {};
    const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (m?.[2] !== undefined) return String((m[1] === "labels" ? labels : annotations)[m[2]] ?? "");
    const values: Record<string, string> = {
      "metadata.name": pod.id.sandboxName,
      "metadata.namespace": pod.id.namespace,
      "metadata.uid": pod.id.podUid,
      "spec.nodeName": pod.id.nodeName,
      "spec.serviceAccountName":
        typeof pod.spec.serviceAccountName === "string" ? pod.spec.serviceAccountName : "default",
      "status.hostIP": pod.id.hostIp,
      "status.hostIPs": pod.id.hostIp,
      "status.podIP": pod.id.podIp,
      "status.podIPs": pod.id.podIp,
    };
    return values[path] ?? "";
  }
  if (isRecord(from.resourceFieldRef)) {
    const resource = String(from.resourceFieldRef.resource ?? "");
    const [kind, name] = resource.split(".");
    const resources = isRecord(c.resources) ? c.resources : {};
    const set = isRecord(resources[kind ?? ""]) ? (resources[kind ?? ""] as JsonRecord) : {};
    return String(set[name ?? ""] ?? "0");
  }
  return "";
}

/** Kubernetes' $(VAR) expansion: defined variables are replaced, `$$` becomes `$`. */
function expand(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === "$$") return "$";
    const v = name === undefined ? undefined : env.get(name);
    return v ?? m;
  });
}

/** The env as the kubelet computes it (with service links) and containerd lays it out. */
function containerEnv(pod: Pod, c: JsonRecord, image: ImageMetadata): { list: string[]; vars: Map<string, string> } {
  const kubelet = new Map<string, string>();
  const set = (k: string, v: string) => {
    kubelet.delete(k);
    kubelet.set(k, v);
  };
  if (Array.isArray(c.envFrom)) {
    for (const from of c.envFrom.filter(isRecord)) {
      const prefix = typeof from.prefix === "string" ? from.prefix : "";
      const ref = isRecord(from.configMapRef)
        ? from.configMapRef
        : isRecord(from.secretRef)
          ? from.secretRef
          : undefined;
      if (ref === undefined) continue;
      const kind = isRecord(from.configMapRef) ? "configMap" : "secret";
      for (const [k, v] of pod.sources[kind](String(ref.name ?? ""), pod.id.namespace) ?? []) set(`${prefix}${k}`, v);
    }
  }
  if (Array.isArray(c.env)) {
    for (const item of c.env.filter(isRecord)) {
      if (typeof item.name !== "string") continue;
      const v =
        item.value !== undefined && item.value !== null
          ? expand(String(item.value), kubelet)
          : fieldValue(pod, c, item);
      if (v !== undefined) set(item.name, v);
    }
  }
  const ip = pod.id.kubernetesServiceIp;
  const services: [string, string][] = [
    ["KUBERNETES_SERVICE_HOST", ip],
    ["KUBERNETES_SERVICE_PORT", "443"],
    ["KUBERNETES_SERVICE_PORT_HTTPS", "443"],
    ["KUBERNETES_PORT", `tcp://${ip}:443`],
    ["KUBERNETES_PORT_443_TCP", `tcp://${ip}:443`],
    ["KUBERNETES_PORT_443_TCP_PROTO", "tcp"],
    ["KUBERNETES_PORT_443_TCP_PORT", "443"],
    ["KUBERNETES_PORT_443_TCP_ADDR", ip],
  ];
  for (const [k, v] of services) if (!kubelet.has(k)) kubelet.set(k, v);
  // containerd: HOSTNAME, then the image's ENV, then the kubelet's; a later NAME replaces an earlier one.
  const list: string[] = [];
  const put = (line: string) => {
    const name = line.slice(0, Math.max(0, line.indexOf("=")));
    const i = list.findIndex((e) => e.startsWith(`${name}=`));
    if (i >= 0) list[i] = line;
    else list.push(line);
  };
  put(`HOSTNAME=${pod.hostname}`);
  for (const e of image.config.Env !== undefined && image.config.Env.length > 0 ? image.config.Env : [DEFAULT_PATH]) {
    put(e);
  }
  for (const [k, v] of kubelet) put(`${k}=${v}`);
  return { list, vars: kubelet };
}

function capabilitiesOf(sc: JsonRecord, settings: Settings, privileged: boolean) {
  let set = [...((privileged ? settings.common.privileged_caps : settings.common.default_caps) as string[])];
  const caps = isRecord(sc.capabilities) ? sc.capabilities : {};
  for (const c of strings(caps.drop) ?? []) set = c === "ALL" ? [] : set.filter((x) => x !== `CAP_${c}` && x !== c);
  for (const c of strings(caps.add) ?? []) {
    const cap = c.startsWith("CAP_") ? c : `CAP_${c}`;
    if (!set.includes(cap)) set.push(cap);
  }
  return capabilitySets(set);
}

function appContainer(
  pod: Pod,
  c: JsonRecord,
  image: ImageMetadata,
  reference: string,
  containerId: string,
  blockDevices: number,
): { request: JsonRecord; process: JsonRecord; blockDevices: number } {
  const { settings } = pod;
  const sc = isRecord(c.securityContext) ? c.securityContext : {};
  const privileged = sc.privileged === true;
  const env = containerEnv(pod, c, image);
  const command = strings(c.command)?.map((a) => expand(a, env.vars));
  const args = strings(c.args)?.map((a) => expand(a, env.vars));
  const argv =
    command !== undefined
      ? [...command, ...(args ?? [])]
      : [...(image.config.Entrypoint ?? []), ...(args ?? image.config.Cmd ?? [])];
  const process: JsonRecord = {
    ApparmorProfile: "",
    Args: argv,
    Capabilities: capabilitiesOf(sc, settings, privileged),
    ConsoleSize: null,
    Cwd: typeof c.workingDir === "string" && c.workingDir !== "" ? c.workingDir : image.config.WorkingDir || "/",
    Env: env.list,
    NoNewPrivileges: !privileged && sc.allowPrivilegeEscalation === false,
    OOMScoreAdj: 1000,
    Rlimits: [],
    SelinuxLabel: "",
    Terminal: c.tty === true,
    User: processUser(pod, sc, image),
  };
  const mounts = containerdMounts(false, privileged);
  criMounts(pod, settings.other_container, containerId, mounts, sc.readOnlyRootFilesystem === true);
  const storages: StorageReq[] = [];
  const annotations: Record<string, string> = {
    ...annotationsFor(pod, containerId),
    "io.katacontainers.pkg.oci.container_type": "pod_container",
    "io.kubernetes.cri.container-name": String(c.name ?? ""),
    "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.image-name": containerdImageName(reference),
  };
  if (settings.cluster_config.guest_pull === true) {
    // The runtime names the image to pull by the container's image-name annotation.
    storages.push(guestPull(annotations["io.kubernetes.cri.image-name"] as string, annotations, containerId));
  } else storages.push(...layerStorages(pod, image, containerId));
  const n = volumeMounts(pod, c, containerId, mounts, storages, blockDevices);
  const devices = gpus(c, settings, annotations, pod.runtime.vfioColdPlug === true);
  for (const dest of Object.keys(image.config.Volumes ?? {})) {
    if (mounts.some((m) => m.destination === dest)) continue;
    mounts.push({
      destination: dest,
      source: sharedFile(containerId, basename(dest)),
      type_: "bind",
      options: ["rbind", "rprivate", "rw"],
    });
  }
  const request = createRequest(pod, {
    containerId,
    annotations,
    mounts,
    process,
    root: { Path: containerRoot(pod, containerId), Readonly: sc.readOnlyRootFilesystem === true },
    storages,
    sysctl: { ...(settings.other_container.Linux?.Sysctl ?? {}), ...pod.sysctls },
    privileged,
    container: c,
  });
  request.devices = devices;
  return { request, process, blockDevices: n };
}

/**
 * GPUs the pod asks for through the settings' pGPU resource keys: the runtime hot-plugs one VFIO
 * device per GPU and the CDI plugin annotates each (as in Kata's gpu_vfio_cdi cases). Cold-plugged
 * GPUs are in the VM from its start: the request keeps the annotations and lists no devices.
 */
function gpus(c: JsonRecord, settings: Settings, annotations: Record<string, string>, coldPlug: boolean): JsonValue[] {
  const vfio = settings.devices?.vfio;
  const nvidia = vfio?.nvidia;
  if (vfio === undefined || nvidia === undefined) return [];
  const limits = isRecord(c.resources) && isRecord(c.resources.limits) ? c.resources.limits : {};
  let count = 0;
  for (const key of nvidia.pgpu_resource_keys ?? []) {
    const n = Number(limits[key] ?? 0);
    if (Number.isInteger(n) && n > 0) count += n;
  }
  const out: JsonValue[] = [];
  for (let i = 1; i <= count; i++) {
    annotations[`cdi.k8s.io/vfio${i}`] = `nvidia.com/gpu=${i - 1}`;
    if (coldPlug) continue;
    out.push({
      container_path: `${vfio.device_path}${i}`,
      id: `vfio${i}`,
      options: [`0000:${(0x64 + i).toString(16)}:00.0=06/00`],
      type_: nvidia.gpu_gk_device_type,
      vm_path: "",
    });
  }
  return out;
}
