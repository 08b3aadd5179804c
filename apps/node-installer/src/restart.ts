import { execFile } from "node:child_process";
import { lstatSync, readlinkSync } from "node:fs";
import { delimiter, dirname, join, posix } from "node:path";

/** What upstream runs: systemctl in the host's mount namespace (the pod has hostPID). */
export const DEFAULT_RESTART_COMMAND = ["nsenter", "--target", "1", "--mount", "--", "systemctl", "restart"];

const HOST_LOADERS = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-x86-64.so.2"];
const HOST_NSENTER = ["/usr/bin/nsenter", "/bin/nsenter", "/usr/sbin/nsenter", "/sbin/nsenter"];
const HOST_LIB_DIRS = [
  "/lib/x86_64-linux-gnu",
  "/usr/lib/x86_64-linux-gnu",
  "/lib/aarch64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/lib64",
  "/usr/lib64",
  "/lib",
  "/usr/lib",
];

export interface Probe {
  /** True when `command` is an executable file on the container's PATH. */
  readonly onPath: (command: string) => boolean;
  /** The host path with symlinks resolved inside the host mount, or undefined when absent. */
  readonly hostFile: (hostMount: string, path: string) => string | undefined;
}

/**
 * The restart command's argv; the unit name is appended when it runs. Given text is split on
 * white space. By default upstream's nsenter command; the node-installer image carries no
 * nsenter (only Node), so when the container has none the host's own nsenter runs, through the
 * host's dynamic loader and libraries, from the host mount. Once in the host's mount namespace
 * it finds the host's systemctl itself.
 */
export function restartCommand(
  text: string | undefined,
  hostMount: string,
  probe: Probe = nodeProbe,
): readonly string[] {
  if (text !== undefined && text.trim() !== "") return text.trim().split(/\s+/);
  if (probe.onPath("nsenter")) return DEFAULT_RESTART_COMMAND;
  const loader = firstFound(probe, hostMount, HOST_LOADERS);
  const nsenter = firstFound(probe, hostMount, HOST_NSENTER);
  if (loader === undefined || nsenter === undefined) return DEFAULT_RESTART_COMMAND;
  const libs = HOST_LIB_DIRS.flatMap((d) => {
    const found = probe.hostFile(hostMount, d);
    return found === undefined ? [] : [found];
  });
  return [loader, "--library-path", libs.join(":"), nsenter, ...DEFAULT_RESTART_COMMAND.slice(1)];
}

function firstFound(probe: Probe, hostMount: string, paths: readonly string[]): string | undefined {
  for (const p of paths) {
    const found = probe.hostFile(hostMount, p);
    if (found !== undefined) return found;
  }
  return undefined;
}

export const nodeProbe: Probe = {
  onPath(command) {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (dir === "") continue;
      try {
        const stat = lstatSync(join(dir, command));
        if (stat.isFile() || stat.isSymbolicLink()) return true;
      } catch {
        // not in this directory
      }
    }
    return false;
  },
  hostFile(hostMount, path) {
    // Symlinks on the host are absolute to the host's /, so each is resolved below the mount.
    let current = path;
    for (let hops = 0; hops < 40; hops++) {
      let stat: ReturnType<typeof lstatSync>;
      try {
        stat = lstatSync(join(hostMount, current));
      } catch {
        return undefined;
      }
      if (!stat.isSymbolicLink()) return join(hostMount, current);
      const target = readlinkSync(join(hostMount, current));
      current = target.startsWith("/") ? target : posix.join(dirname(current), target);
    }
    return undefined;
  },
};

/** Runs the command with `<service>.service` appended; rejects with its stderr on failure. */
export function runRestart(command: readonly string[], service: string): Promise<void> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(file, [...args, `${service}.service`], { timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`${command.join(" ")} ${service}.service: ${stderr.trim() || error.message}`));
    });
  });
}
