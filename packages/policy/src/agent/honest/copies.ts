import type { JsonValue } from "@contrast/core";
import { isRecord, type JsonRecord } from "@contrast/kube";
import type { StreamRequest } from "../stream.js";
import { hex } from "./identity.js";
import { basename, type Mount, type Pod, SHARED_DIR } from "./pod.js";

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** The parent directories' mode as the Go shim sends it (os.ModeDir | 0750). */
const DIR_MODE = 2147484136;

/** The files the kubelet writes for every container, with the modes it gives them. */
const KUBELET_FILES: Readonly<Record<string, number>> = {
  hosts: 0o644,
  "termination-log": 0o666,
  hostname: 0o644,
  "resolv.conf": 0o644,
};

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * What a runtime without a shared filesystem (Microsoft's fork on AKS) sends before creating a
 * container: a CopyFileRequest for each file or directory the container's mounts take from the
 * host's shared directory, in the container's mount order, in the form that fork's agent hands
 * to the policy (`file_mode` with the type bits, a symlink's target in `symlink_src`). Volumes
 * the kubelet writes atomically (projected, ConfigMap, Secret, downward API) arrive as their
 * directory, a timestamped directory holding the files, `..data` pointing at it, and one link per
 * key (as in the AKS streams of microsoft/regorus' Kata tests).
 */
export function sharedFileCopies(pod: Pod, c: JsonRecord | undefined, bundle: string, mounts: readonly Mount[]) {
  const out: StreamRequest[] = [];
  const copy = (path: string, mode: number, target = "") =>
    out.push({
      name: "CopyFileRequest",
      input: {
        path,
        file_size: 0,
        file_mode: mode,
        dir_mode: DIR_MODE,
        uid: 0,
        gid: 0,
        offset: 0,
        symlink_src: target,
      } as JsonValue,
    });
  const prefix = `${SHARED_DIR}${bundle}-`;
  for (const m of mounts) {
    if (!m.source.startsWith(prefix)) continue;
    const file = KUBELET_FILES[basename(m.destination)];
    const keys = file === undefined ? atomicKeys(pod, c, m.destination) : undefined;
    if (file !== undefined) copy(m.source, S_IFREG | file);
    else if (keys === undefined) copy(m.source, S_IFDIR | 0o755);
    else {
      const stamp = `..2026_01_01_00_00_00.${BigInt(`0x${hex(`stamp:${m.source}`, 12)}`) % 10_000_000_000n}`;
      copy(m.source, S_IFDIR | 0o1777);
      copy(`${m.source}/${stamp}`, S_IFDIR | 0o755);
      for (const k of keys) copy(`${m.source}/${stamp}/${k}`, S_IFREG | 0o644);
      copy(`${m.source}/..data`, S_IFLNK | 0o777, stamp);
      for (const k of keys) copy(`${m.source}/${k}`, S_IFLNK | 0o777, `..data/${k}`);
    }
  }
  return out;
}

/**
 * The keys of an atomically written volume at `destination`, or undefined for a plain directory.
 * The service-account token volume holds ca.crt, namespace and token; a ConfigMap or Secret its
 * keys as far as the given sources name them.
 */
function atomicKeys(pod: Pod, c: JsonRecord | undefined, destination: string): readonly string[] | undefined {
  if (destination === SERVICE_ACCOUNT) return ["ca.crt", "namespace", "token"];
  const vm = (Array.isArray(c?.volumeMounts) ? c.volumeMounts.filter(isRecord) : []).find(
    (v) => v.mountPath === destination,
  );
  const volume = pod.volumes.find((v) => vm !== undefined && v.name === vm.name);
  if (volume === undefined) return undefined;
  const items = (source: unknown) =>
    isRecord(source) && Array.isArray(source.items)
      ? source.items.filter(isRecord).map((i) => String(i.path ?? i.key ?? ""))
      : undefined;
  const namespace = pod.id.namespace;
  if (isRecord(volume.configMap)) {
    const data = pod.sources.configMap(String(volume.configMap.name ?? ""), namespace);
    return items(volume.configMap) ?? [...(data?.keys() ?? [])];
  }
  if (isRecord(volume.secret)) {
    const data = pod.sources.secret(String(volume.secret.secretName ?? ""), namespace);
    return items(volume.secret) ?? [...(data?.keys() ?? [])];
  }
  if (isRecord(volume.projected) || isRecord(volume.downwardAPI)) return items(volume.downwardAPI) ?? [];
  return undefined;
}
