import { isRecord, type JsonRecord } from "@contrast/kube";
import { PolicyError } from "../errors.js";
import type { InfraContainer, Settings, VolumeSettings } from "../settings/types.js";
import type { KataMount, Storage } from "./types.js";

/** The mounts containerd gives every container (the pause container has no cgroup mount). */
export function containerdMounts(isPause: boolean, privileged: boolean): KataMount[] {
  const rw = privileged ? "rw" : "ro";
  const mounts: KataMount[] = [
    { destination: "/proc", source: "proc", type_: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      source: "tmpfs",
      type_: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      source: "devpts",
      type_: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      source: "shm",
      type_: "tmpfs",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", source: "mqueue", type_: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", source: "sysfs", type_: "sysfs", options: ["nosuid", "noexec", "nodev", rw] },
  ];
  if (!isPause) {
    mounts.push({
      destination: "/sys/fs/cgroup",
      source: "cgroup",
      type_: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", rw],
    });
  }
  return mounts;
}

function basename(path: string): string {
  const parts = path.split("/").filter((p) => p !== "");
  return parts[parts.length - 1] ?? "";
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A file the runtime shares into the guest: `$(sfprefix)<name>$` in the shared directory. */
function sharedFileSource(name: string): string {
  return `$(sfprefix)${escapeRegex(name)}$`;
}

/**
 * The settings' mounts for the pause or an application container (hosts, hostname, resolv.conf,
 * /dev/shm, the service account token...). A settings mount replaces containerd's mount at the
 * same destination; the others are added. A mount without a source is a shared file named after
 * the destination's last element.
 */
export function applyInfraMounts(
  mounts: KataMount[],
  infra: InfraContainer,
  app?: { readonly terminationMessagePath: string | undefined; readonly readOnlyRootFilesystem: boolean },
): void {
  const terminationMessagePath = app?.terminationMessagePath;
  for (const settingsMount of infra.Mounts ?? []) {
    // The kubelet mounts the termination log where the container asks for it (genpolicy too).
    const m =
      settingsMount.destination === "/dev/termination-log" && terminationMessagePath !== undefined
        ? { ...settingsMount, destination: terminationMessagePath }
        : settingsMount;
    const options = [...m.options];
    const access = !options.includes("ro") && !options.includes("rw");
    if (app !== undefined && access && (m.destination === "/etc/hostname" || m.destination === "/etc/resolv.conf")) {
      // containerd mounts these read-only in a container with a read-only root (genpolicy too).
      options.push(app.readOnlyRootFilesystem ? "ro" : "rw");
    } else if (m.type_ === "bind" && access && options.includes("rprivate")) {
      // containerd makes a bind mount writable unless told otherwise, and says so in its options.
      options.push("rw");
    }
    const mount: KataMount = {
      destination: m.destination,
      source: m.source ?? sharedFileSource(basename(m.destination)),
      type_: m.type_,
      options,
    };
    const i = mounts.findIndex((x) => x.destination === m.destination);
    if (i >= 0) mounts[i] = mount;
    else mounts.push(mount);
  }
}

/**
 * The propagation option of a volume mount. Stock Kata's runtime hands every volume to the agent
 * as "rprivate" whatever the pod's mountPropagation says (Kata's conformance cases expect exactly
 * that).
 */
function propagation(_volumeMount: JsonRecord): string {
  return "rprivate";
}

/**
 * An emptyDir's propagation where the runtime carries containerd's (Contrast's genpolicy patch,
 * `cluster_config.emptydir_mount_propagation`): the pod's mountPropagation, as containerd maps it.
 */
function emptyDirPropagation(volumeMount: JsonRecord, settings: Settings): string {
  if (settings.cluster_config.emptydir_mount_propagation !== true) return propagation(volumeMount);
  if (volumeMount.mountPropagation === "Bidirectional") return "rshared";
  if (volumeMount.mountPropagation === "HostToContainer") return "rslave";
  return "rprivate";
}

/** What a container's volumeMounts refer to, and where they are, for checks and messages. */
export interface VolumeRefs {
  readonly volumes: readonly JsonRecord[];
  /**
   * Names of a StatefulSet's volumeClaimTemplates: the controller gives each pod a
   * PersistentVolumeClaim per template and a volume of the template's name that refers to it.
   */
  readonly claimTemplates: readonly string[];
  /** `<file>: <Kind>/<name>`, for messages. */
  readonly where: string;
  readonly file: string | undefined;
  /** Full path of the pod spec ("spec.template.spec") and of the container ("….containers[0]"). */
  readonly specPath: string;
  readonly containerPath: string;
}

export interface VolumeContext extends VolumeRefs {
  readonly settings: Settings;
  readonly fsGroup: number | undefined;
}

const SHARED_VOLUME_TYPES = ["hostPath", "persistentVolumeClaim", "azureFile", "ephemeral", "image"] as const;
const CONFIG_VOLUME_TYPES = ["configMap", "secret", "projected", "downwardAPI"] as const;

/**
 * The volume a volumeMount refers to: "claim" for a StatefulSet's claim template (which replaces a
 * pod volume of the same name, as the controller does), else the pod volume. Throws when there is
 * none or its type is not supported, so that generation can check every pod before fetching.
 */
export function mountedVolume(vm: JsonRecord, i: number, refs: VolumeRefs): "claim" | JsonRecord {
  if (typeof vm.name === "string" && refs.claimTemplates.includes(vm.name)) return "claim";
  const volume = refs.volumes.find((v) => v.name === vm.name);
  if (volume === undefined) {
    const path = `${refs.containerPath}.volumeMounts[${i}].name`;
    const claims = refs.claimTemplates.length > 0 ? " or spec.volumeClaimTemplates" : "";
    throw new PolicyError(
      "POLICY_VOLUME_MISSING",
      `${refs.where}: ${path}: volumeMount ${JSON.stringify(vm.name)} names no volume of ${refs.specPath}.volumes${claims}`,
      {
        path,
        ...(refs.file === undefined ? {} : { file: refs.file }),
        hint: `Add a volume named ${JSON.stringify(vm.name)} to ${refs.specPath}.volumes (or, in a StatefulSet, a volumeClaimTemplate), or fix the volumeMount's name.`,
      },
    );
  }
  const known = ["emptyDir", ...CONFIG_VOLUME_TYPES, ...SHARED_VOLUME_TYPES].some((t) => isRecord(volume[t]));
  if (!known) {
    const path = `${refs.specPath}.volumes[${refs.volumes.indexOf(volume)}]`;
    throw new PolicyError(
      "POLICY_VOLUME_UNSUPPORTED",
      `${refs.where}: ${path}: volume ${JSON.stringify(volume.name)} has an unsupported type`,
      {
        path,
        ...(refs.file === undefined ? {} : { file: refs.file }),
        hint: "Supported volumes: emptyDir, configMap, secret, projected, downwardAPI, hostPath, persistentVolumeClaim, azureFile, ephemeral, image.",
      },
    );
  }
  return volume;
}

/** Checks every volumeMount of a container (see mountedVolume). */
export function checkVolumeMounts(container: JsonRecord, refs: VolumeRefs): void {
  if (!Array.isArray(container.volumeMounts)) return;
  container.volumeMounts.forEach((vm, i) => {
    if (isRecord(vm) && typeof vm.mountPath === "string") mountedVolume(vm, i, refs);
  });
}

/**
 * The mounts and storages of a container's volumeMounts, by volume type:
 * - emptyDir: by `cluster_config.emptydir_type` a block device the agent formats (encrypted or
 *   plain), a directory in the sandbox (shared-fs), or tmpfs for medium Memory. One storage per
 *   mount, as the runtime hands one to the agent per mount;
 * - configMap, secret, projected, downwardAPI, hostPath, persistentVolumeClaim, azureFile,
 *   ephemeral, image, and a StatefulSet's volumeClaimTemplates: files the runtime shares into the
 *   guest, bound from the shared directory (genpolicy: `$(sfprefix)<basename of mountPath>$`).
 */
export function volumeMountsAndStorages(
  container: JsonRecord,
  ctx: VolumeContext,
  mounts: KataMount[],
  storages: Storage[],
): void {
  if (!Array.isArray(container.volumeMounts)) return;
  container.volumeMounts.forEach((vm, i) => {
    if (!isRecord(vm) || typeof vm.mountPath !== "string") return;
    const access = vm.readOnly === true ? "ro" : "rw";
    const options = ["rbind", propagation(vm), access];
    const dest = vm.mountPath;
    const volume = mountedVolume(vm, i, ctx);
    if (volume !== "claim" && isRecord(volume.hostPath) && !isRecord(volume.emptyDir)) {
      putMount(mounts, hostPathMount(volume.hostPath, vm, dest, access));
    } else if (volume !== "claim" && isRecord(volume.emptyDir)) {
      emptyDir(volume, dest, ["rbind", emptyDirPropagation(vm, ctx.settings), access], ctx, mounts, storages);
    } else if (volume !== "claim" && CONFIG_VOLUME_TYPES.some((t) => isRecord(volume[t]))) {
      const cfg = ctx.settings.volumes.configMap;
      if (ctx.settings.kata_config.enable_configmap_secret_storages === true && cfg !== undefined) {
        const point = `${cfg.mount_point ?? cfg.mount_source}${escapeRegex(basename(dest))}$`;
        mounts.push({
          destination: dest,
          source: point,
          type_: cfg.mount_type,
          options: ["rbind", propagation(vm), "ro"],
        });
        storages.push(storage(cfg, `${cfg.mount_source}${escapeRegex(basename(dest))}$`, point, null));
      } else {
        mounts.push({
          destination: dest,
          source: sharedFileSource(basename(dest)),
          type_: "bind",
          options: ["rbind", propagation(vm), "ro"],
        });
      }
    } else {
      // Claims (a StatefulSet's claim templates too), host paths, Azure file shares, ephemeral and
      // image volumes: the host mounts them and the runtime shares the directory into the guest.
      putMount(mounts, { destination: dest, source: sharedFileSource(basename(dest)), type_: "bind", options });
    }
  });
}

/**
 * A volume mount at the destination of one of containerd's mounts replaces it (containerd drops a
 * default mount a supplied one overrides; genpolicy updates the mount in place for host paths and
 * shared directories). Otherwise the mount is added.
 */
function putMount(mounts: KataMount[], mount: KataMount): void {
  const i = mounts.findIndex((m) => m.destination === mount.destination);
  if (i >= 0) mounts[i] = mount;
  else mounts.push(mount);
}

/** Whether `path` is `dir` or below it, by path components (as Rust's Path::starts_with). */
function under(path: string, dir: string): boolean {
  const clean = path.replace(/\/+$/, "");
  return clean === dir || clean.startsWith(`${dir}/`);
}

/**
 * A hostPath volume, as genpolicy has it: /dev, /sys or a path below them reaches the guest as itself
 * (the runtime passes devices and sysfs through), anything else as a shared directory; with
 * `mountPropagation: Bidirectional` the mount is `rshared` (only for hostPath, as in genpolicy).
 */
function hostPathMount(hostPath: JsonRecord, vm: JsonRecord, dest: string, access: string): KataMount {
  const path = typeof hostPath.path === "string" ? hostPath.path : "";
  const propagation = vm.mountPropagation === "Bidirectional" ? "rshared" : "rprivate";
  // genpolicy tests `Path::starts_with("/dev/")`, which compares components: /dev itself is
  // passed through too (Kata's runtime never shares /dev or anything under /sys from the host).
  const passthrough = under(path, "/dev") || under(path, "/sys");
  return {
    destination: dest,
    source: passthrough ? path : sharedFileSource(basename(dest)),
    type_: "bind",
    options: ["rbind", propagation, access],
  };
}

function storage(v: VolumeSettings, source: string, mountPoint: string, fsGroup: number | undefined | null): Storage {
  return {
    driver: v.driver ?? "",
    driver_options: [...(v.driver_options ?? [])],
    source,
    fstype: v.fstype ?? "",
    options: [...(v.options ?? [])],
    mount_point: mountPoint,
    fs_group: fsGroup === undefined || fsGroup === null ? null : { group_id: fsGroup, group_change_policy: 0 },
    shared: v.shared ?? false,
  };
}

function emptyDir(
  volume: JsonRecord,
  dest: string,
  options: string[],
  ctx: VolumeContext,
  mounts: KataMount[],
  storages: Storage[],
): void {
  const medium = isRecord(volume.emptyDir) ? volume.emptyDir.medium : undefined;
  const name = escapeRegex(String(volume.name));
  const volumes = ctx.settings.volumes;
  const type = ctx.settings.cluster_config.emptydir_type ?? "shared-fs";
  let v: VolumeSettings | undefined;
  if (medium === "Memory") v = volumes.emptyDir_memory;
  else if (type === "block-encrypted") v = volumes.emptyDir_encrypted;
  else if (type === "block-plain" || type === "block") v = volumes.emptyDir_plain;
  else v = volumes.emptyDir;
  if (v === undefined) {
    throw new PolicyError("POLICY_SETTINGS_INVALID", `settings have no volume entry for emptyDir (${type})`, {
      path: "/volumes",
      hint: "Add the emptyDir entries of the default settings.json to /volumes.",
    });
  }
  const block = (v.mount_point ?? "").includes("$(b64_device_id)");
  if (block) {
    const point = v.mount_point ?? "";
    mounts.push({ destination: dest, source: point, type_: v.mount_type, options });
    storages.push(storage(v, v.source ?? "", point, ctx.fsGroup));
  } else {
    const point = `${v.mount_point ?? v.mount_source}${name}$`;
    const source = `${v.mount_source}${name}$`;
    mounts.push({ destination: dest, source, type_: v.mount_type, options });
    storages.push(storage(v, v.source ?? "", point, medium === "Memory" ? undefined : ctx.fsGroup));
  }
}

/**
 * Image VOLUMEs that no volumeMount covers: containerd backs each with a directory the runtime
 * shares into the guest.
 */
export function imageVolumeMounts(volumes: readonly string[], settings: Settings, mounts: KataMount[]): void {
  const v = settings.volumes.image_volume;
  for (const dest of volumes) {
    if (mounts.some((m) => m.destination === dest)) continue;
    mounts.push({
      destination: dest,
      source: sharedFileSource(basename(dest)),
      type_: v?.mount_type ?? "bind",
      options: [...(v?.options ?? ["rbind", "rprivate", "rw"])],
    });
  }
}
