import { shellQuote } from "./commands.js";

/** How the host's top-level system directories look, probed once per cluster. */
export interface HostLayout {
  /** `/lib`, `/lib64`, `/bin`, `/sbin`: a symlink's target, or "dir" to bind it, or absent. */
  readonly topLevel: Readonly<Record<string, string>>;
  /** Directories bound read-only: /usr/lib, /usr/bin, ..., /etc/alternatives (those the host has). */
  readonly systemDirs: readonly string[];
  /** Extra read-only files (the loader cache) that exist on the host. */
  readonly etcFiles: readonly string[];
  readonly nodeBinary: string;
}

export interface LaunchMount {
  readonly source: string;
  /** Absolute path inside the container. */
  readonly target: string;
  readonly readOnly: boolean;
  readonly file: boolean;
}

export interface LaunchSpec {
  /** The unpacked image: the read-only lower layer. */
  readonly imageDir: string;
  /** An empty directory for the container's root mount point. */
  readonly rootDir: string;
  /** An empty directory for the container's private tmpfs (overlay upper and work dirs). */
  readonly scratchDir: string;
  /** The pod's generated /etc files (hosts, resolv.conf, passwd, group, nsswitch.conf). */
  readonly podEtcDir: string;
  readonly layout: HostLayout;
  readonly rootless: boolean;
  /** Volumes and extra mounts, in the order to mount them. */
  readonly mounts: readonly LaunchMount[];
  readonly cwd: string;
  readonly uid: number;
  readonly gid: number;
  /** KEY=VALUE, exactly the process environment. */
  readonly env: readonly string[];
  readonly args: readonly string[];
  /** Capability names without the CAP_ prefix, lowercase; undefined keeps the full set. */
  readonly capabilities?: readonly string[];
}

/** Every capability Linux defines (to 6.x), as setpriv names them. */
const KNOWN_CAPABILITIES = new Set([
  "chown",
  "dac_override",
  "dac_read_search",
  "fowner",
  "fsetid",
  "kill",
  "setgid",
  "setuid",
  "setpcap",
  "linux_immutable",
  "net_bind_service",
  "net_broadcast",
  "net_admin",
  "net_raw",
  "ipc_lock",
  "ipc_owner",
  "sys_module",
  "sys_rawio",
  "sys_chroot",
  "sys_ptrace",
  "sys_pacct",
  "sys_admin",
  "sys_boot",
  "sys_nice",
  "sys_resource",
  "sys_time",
  "sys_tty_config",
  "mknod",
  "lease",
  "audit_write",
  "audit_control",
  "setfcap",
  "mac_override",
  "mac_admin",
  "syslog",
  "wake_alarm",
  "block_suspend",
  "audit_read",
  "perfmon",
  "bpf",
  "checkpoint_restore",
]);

/**
 * OCI capability names ("CAP_NET_ADMIN") as setpriv takes them ("net_admin"); names Linux does
 * not define are returned apart, to be reported (the process would not get them on a real node either).
 */
export function capabilityNames(oci: readonly string[]): { readonly known: string[]; readonly unknown: string[] } {
  const known: string[] = [];
  const unknown: string[] = [];
  for (const name of oci) {
    const short = name.toLowerCase().replace(/^cap_/, "");
    if (KNOWN_CAPABILITIES.has(short)) {
      if (!known.includes(short)) known.push(short);
    } else unknown.push(name);
  }
  return { known, unknown };
}

export const POD_ETC_FILES = ["hosts", "hostname", "resolv.conf", "passwd", "group", "nsswitch.conf"] as const;

/** The exit status of the setup script when it fails before the container's process starts. */
export const SETUP_FAILED_EXIT = 121;

/**
 * The shell script that turns a fresh mount namespace (already in the pod's network and UTS
 * namespaces) into the container and execs its process. Run by the host's /bin/sh before the
 * chroot, so it may use the host's mount, mkdir and cp. A path inside the container that passes
 * through a symlink of the image is refused, and a symlink at a mount target is replaced in the
 * container's private upper layer: host-side tools must never follow the image's links out of
 * the root.
 */
export function containerScript(spec: LaunchSpec): string {
  const q = shellQuote;
  const lines: string[] = [
    "# written by the localrun runtime; runs in the container's mount namespace before chroot",
    `R=${q(spec.rootDir)}`,
    `fail() { echo "localrun: container setup: $*" >&2; exit ${SETUP_FAILED_EXIT}; }`,
    // Intermediate components must be real directories; the last one is replaced if it is a link.
    'through() { [ -L "$R/$1" ] && fail "/$1 is a symlink in the image; a mount cannot go through it"; [ -d "$R/$1" ] || mkdir "$R/$1" || fail "mkdir /$1"; }',
    'at_dir() { [ -L "$R/$1" ] && { rm -f "$R/$1" || fail "rm /$1"; }; [ -d "$R/$1" ] || mkdir -p "$R/$1" || fail "mkdir /$1"; }',
    'at_file() { [ -L "$R/$1" ] && { rm -f "$R/$1" || fail "rm /$1"; }; [ -d "$R/$1" ] && { rm -rf "$R/$1" || fail "rm /$1"; }; [ -e "$R/$1" ] || touch "$R/$1" || fail "create /$1"; }',
    `ro() { mount -o remount,bind,ro "$1" 2>/dev/null || mount -o remount,bind,ro,nosuid,nodev "$1" 2>/dev/null || mount -o remount,bind,ro,nosuid,nodev,noexec "$1" 2>/dev/null || [ ${spec.rootless ? 1 : 0} = 1 ] || fail "read-only $1"; }`,
    'bind() { mount --rbind "$1" "$R/$2" || fail "bind $1 at /$2"; [ "$3" = ro ] && ro "$R/$2"; return 0; }',
    `mount -t tmpfs -o mode=0755 localrun-scratch ${q(spec.scratchDir)} || fail "tmpfs scratch"`,
    `mkdir -p ${q(`${spec.scratchDir}/upper`)} ${q(`${spec.scratchDir}/work`)} || fail "mkdir scratch"`,
    // The image stays untouched: an overlay gives the container a private writable layer. Where
    // overlayfs is refused (old kernels in a user namespace, odd paths), a private copy in tmpfs.
    `if ! mount -t overlay localrun-root -o ${q(`lowerdir=${spec.imageDir},upperdir=${spec.scratchDir}/upper,workdir=${spec.scratchDir}/work`)} "$R" 2>/dev/null; then`,
    '  echo "localrun: overlayfs refused here; the container gets a private copy of its image" >&2',
    `  mount -t tmpfs -o mode=0755 localrun-root "$R" || fail "tmpfs root"`,
    `  cp -a ${q(`${spec.imageDir}/.`)} "$R/" || fail "copy image"`,
    "fi",
  ];
  const targetLines = (path: string, file: boolean): string[] => {
    const parts = path.split("/").filter((p) => p !== "");
    const out: string[] = [];
    for (let i = 1; i < parts.length; i++) out.push(`through ${q(parts.slice(0, i).join("/"))}`);
    out.push(`${file ? "at_file" : "at_dir"} ${q(parts.join("/"))}`);
    return out;
  };
  const bind = (source: string, target: string, readOnly: boolean, file: boolean): void => {
    lines.push(...targetLines(target, file));
    lines.push(`bind ${q(source)} ${q(target.replace(/^\/+/, ""))} ${readOnly ? "ro" : "rw"}`);
  };

  for (const dir of spec.layout.systemDirs) bind(dir, dir, true, false);
  for (const [name, how] of Object.entries(spec.layout.topLevel)) {
    if (how === "dir") bind(`/${name}`, `/${name}`, true, false);
    else
      lines.push(
        `[ -e "$R/${name}" ] || [ -L "$R/${name}" ] || ln -s ${q(how)} "$R/${name}" || fail "symlink /${name}"`,
      );
  }
  bind("/proc", "/proc", false, false);
  bind("/dev", "/dev", false, false);
  for (const dir of ["tmp", "run"]) {
    lines.push(...targetLines(`/${dir}`, false));
    lines.push(
      `mount -t tmpfs -o mode=${dir === "tmp" ? "1777" : "0755"} localrun-${dir} "$R/${dir}" || fail "tmpfs /${dir}"`,
    );
  }
  for (const file of spec.layout.etcFiles) bind(file, file, true, true);
  bind(spec.layout.nodeBinary, "/usr/local/bin/node", true, true);
  for (const m of spec.mounts) bind(m.source, m.target, m.readOnly, m.file);
  // The kubelet's files win over the image's and over volumes, as in a real pod.
  for (const f of POD_ETC_FILES) {
    if (f === "hostname") continue;
    bind(`${spec.podEtcDir}/${f}`, `/etc/${f}`, f !== "hosts", true);
  }
  lines.push(...targetLines(spec.cwd, false));

  const exec = ["exec", "chroot", spec.rootDir];
  const setpriv: string[] = [];
  if (!(spec.uid === 0 && spec.gid === 0) && !spec.rootless) {
    setpriv.push(`--reuid=${spec.uid}`, `--regid=${spec.gid}`, "--clear-groups");
  }
  if (spec.capabilities !== undefined) {
    // The bounding set caps what root's process gets at exec: exactly the admitted capabilities.
    setpriv.push(`--bounding-set=${["-all", ...spec.capabilities.map((c) => `+${c}`)].join(",")}`);
  }
  if (setpriv.length > 0) exec.push("/usr/bin/setpriv", ...setpriv, "--");
  exec.push("/usr/bin/env", "-i", "-C", spec.cwd, ...spec.env, ...spec.args);
  lines.push(exec.map(q).join(" "));
  return `${lines.join("\n")}\n`;
}
