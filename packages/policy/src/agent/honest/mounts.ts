import { toBase64, utf8 } from "@contrast/core";
import { isRecord, type JsonRecord } from "@contrast/kube";
import { PolicyError } from "../../errors.js";
import type { InfraContainer } from "../../settings/types.js";
import { hex } from "./identity.js";
import { basename, type Mount, num, type Pod, SHARED_DIR, type StorageReq } from "./pod.js";

/** The mounts containerdMounts made, which a mount the container asks for overrides. */
export const CONTAINERD_DEFAULTS = new WeakSet<Mount>();

/**
 * Adds a mount the kubelet asks for. containerd's WithMounts drops a default mount at the same
 * destination and, when /dev itself is supplied, every default mount under /dev (spec_opts.go).
 */
export function supplyMount(mounts: Mount[], mount: Mount): void {
  const i = mounts.findIndex((m) => m.destination === mount.destination);
  if (i >= 0) mounts[i] = mount;
  else mounts.push(mount);
  if (mount.destination !== "/dev") return;
  for (let j = mounts.length - 1; j >= 0; j--) {
    const m = mounts[j] as Mount;
    if (m.destination.startsWith("/dev/") && CONTAINERD_DEFAULTS.has(m)) mounts.splice(j, 1);
  }
}

/**
 * Whether the runtime hands a hostPath to the guest as itself rather than sharing it: Kata never
 * shares /dev, device files (isHostDevice) or system paths under /sys (isSystemMount) from the
 * host; the guest's own are bound. Keyed on the host path, as genpolicy does.
 */
export function hostPathPassthrough(path: string): boolean {
  const clean = path.replace(/\/+$/, "");
  return ["/dev", "/sys"].some((d) => clean === d || clean.startsWith(`${d}/`));
}

/** containerd's mounts of every container; a privileged one gets /sys and cgroups writable. */
export function containerdMounts(isPause: boolean, privileged: boolean): Mount[] {
  const rw = privileged ? "rw" : "ro";
  const mounts: Mount[] = [
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
  for (const m of mounts) CONTAINERD_DEFAULTS.add(m);
  return mounts;
}

/** A file the Kata runtime copies or shares into the guest for this container. */
export function sharedFile(bundle: string, name: string): string {
  return `${SHARED_DIR}${bundle}-${hex(`shared:${bundle}/${name}`, 16)}-${name}`;
}

/**
 * The kubelet's and containerd's mounts (hosts, hostname, resolv.conf, termination log, the
 * sandbox's /dev/shm, the service account token), with the options the settings describe.
 */
export function criMounts(
  pod: Pod,
  infra: InfraContainer,
  bundle: string,
  mounts: Mount[],
  readOnlyRoot = false,
): void {
  const token = pod.spec.automountServiceAccountToken !== false;
  for (const m of infra.Mounts ?? []) {
    // Only mounted on clusters with workload identity; a plain pod does not get it.
    if (m.source?.startsWith("$(")) continue;
    if (m.destination === "/var/run/secrets/kubernetes.io/serviceaccount" && !token) continue;
    const options = [...m.options];
    if (m.type_ === "bind" && options.includes("rprivate") && !options.includes("ro") && !options.includes("rw")) {
      // containerd's CRI plugin mounts the sandbox's hostname and resolv.conf with the container's
      // readOnlyRootFilesystem (containerMounts in container_create_linux.go); /etc/hosts is the
      // kubelet's own mount and always writable.
      const followsRoot = m.destination === "/etc/hostname" || m.destination === "/etc/resolv.conf";
      options.push(followsRoot && readOnlyRoot ? "ro" : "rw");
    }
    const mount = {
      destination: m.destination,
      source: m.source ?? sharedFile(bundle, basename(m.destination)),
      type_: m.type_,
      options,
    };
    const i = mounts.findIndex((x) => x.destination === m.destination);
    if (i >= 0) mounts[i] = mount;
    else mounts.push(mount);
  }
}

/**
 * Where the runtime creates shared-fs emptyDirs: the directory the settings' emptyDir mount
 * point names (a regex prefix over $(cpath) and $(sandbox-id)) for this sandbox.
 */
function localEmptyDirs(mountPoint: string | undefined, sandboxId: string): string {
  const template = (mountPoint ?? "^$(cpath)/$(sandbox-id)/rootfs/local/").replace(/^\^/, "");
  return template.replaceAll("$(cpath)/", SHARED_DIR).replaceAll("$(sandbox-id)", sandboxId);
}

/** Block device addresses the runtime hot-plugs for block emptyDirs (SCSI "<host>:<lun>"). */
export function scsiAddress(n: number): string {
  // Padded so that its base64url form has no padding characters either way.
  let s = `0:${n}`;
  while (s.length % 3 !== 0) s = `0${s}`;
  return s;
}

export function volumeMounts(
  pod: Pod,
  c: JsonRecord,
  bundle: string,
  mounts: Mount[],
  storages: StorageReq[],
  blockDevices: number,
): number {
  const { settings, id } = pod;
  let n = blockDevices;
  const fsGroup = num(pod.security.fsGroup);
  for (const vm of Array.isArray(c.volumeMounts) ? c.volumeMounts.filter(isRecord) : []) {
    const dest = String(vm.mountPath ?? "");
    const volume = pod.volumes.find((v) => v.name === vm.name);
    if (volume === undefined) {
      throw new PolicyError("POLICY_REQUESTS_UNBUILDABLE", `volumeMount ${String(vm.name)} names no volume`, {
        hint: "The kubelet would refuse this pod; fix its volumes.",
      });
    }
    const options = ["rbind", "rprivate", vm.readOnly === true ? "ro" : "rw"];
    const name = String(volume.name);
    if (isRecord(volume.emptyDir)) {
      if (pod.runtime.mountPropagation === true) {
        // containerd's propagation of the pod's mountPropagation, carried through to the agent.
        if (vm.mountPropagation === "Bidirectional") options[1] = "rshared";
        else if (vm.mountPropagation === "HostToContainer") options[1] = "rslave";
      }
      const memory = volume.emptyDir.medium === "Memory";
      const type = settings.cluster_config.emptydir_type ?? "shared-fs";
      const v = memory
        ? settings.volumes.emptyDir_memory
        : type === "block-encrypted"
          ? settings.volumes.emptyDir_encrypted
          : type === "block-plain" || type === "block"
            ? settings.volumes.emptyDir_plain
            : settings.volumes.emptyDir;
      if (v === undefined) continue;
      const block = !memory && type.startsWith("block");
      let point: string;
      let source: string;
      if (block) {
        source = scsiAddress(n++);
        point = `${settings.common.spath}/${toBase64(utf8(source)).replace(/\+/g, "-").replace(/\//g, "_")}`;
      } else if (memory) {
        source = "tmpfs";
        point = `/run/kata-containers/sandbox/ephemeral/${name}`;
      } else {
        source = v.source ?? "local";
        point = `${localEmptyDirs(v.mount_point, id.sandboxId)}${name}`;
      }
      mounts.push({ destination: dest, source: point, type_: v.mount_type, options });
      storages.push({
        driver: block ? "scsi" : (v.driver ?? ""),
        driver_options: [...(v.driver_options ?? [])],
        source,
        fstype: v.fstype ?? "",
        options: [...(v.options ?? [])],
        mount_point: point,
        fs_group: fsGroup !== undefined && !memory ? { group_id: fsGroup, group_change_policy: 0 } : null,
        shared: v.shared ?? false,
      });
    } else if (
      isRecord(volume.configMap) ||
      isRecord(volume.secret) ||
      isRecord(volume.projected) ||
      isRecord(volume.downwardAPI)
    ) {
      mounts.push({
        destination: dest,
        source: sharedFile(bundle, basename(dest)),
        type_: "bind",
        options: ["rbind", "rprivate", "ro"],
      });
    } else if (isRecord(volume.hostPath)) {
      // Bidirectional propagation reaches the runtime as "rshared" (containerd) for host paths.
      const propagation = vm.mountPropagation === "Bidirectional" ? "rshared" : "rprivate";
      const path = String(volume.hostPath.path ?? "");
      const source = hostPathPassthrough(path) ? path : sharedFile(bundle, basename(dest));
      supplyMount(mounts, {
        destination: dest,
        source,
        type_: "bind",
        options: ["rbind", propagation, options[2] as string],
      });
    } else {
      supplyMount(mounts, { destination: dest, source: sharedFile(bundle, basename(dest)), type_: "bind", options });
    }
  }
  return n;
}
