import type { Platform } from "@contrast/manifest";
import type { HostFs } from "./host.js";

/** Which containerd the node runs: its own service, or the one embedded in K3s or RKE2. */
export type ContainerdFlavour = "containerd" | "k3s" | "rke2";

export interface ContainerdTarget {
  readonly flavour: ContainerdFlavour;
  /** The file the installer writes. */
  readonly configPath: string;
  /** When configPath does not exist: the file to start from (K3s/RKE2 generate config.toml). */
  readonly basePath: string | undefined;
  /** The systemd unit to restart after a change. */
  readonly service: string;
}

export const CONTAINERD_CONFIG = "/etc/containerd/config.toml";
const RANCHER_DIR: Readonly<Record<"k3s" | "rke2", string>> = {
  k3s: "/var/lib/rancher/k3s/agent/etc/containerd",
  rke2: "/var/lib/rancher/rke2/agent/etc/containerd",
};
const UNIT_DIRS = [
  "/etc/systemd/system",
  "/usr/local/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/lib/systemd/system",
];

/**
 * Finds the containerd configuration to patch. K3s and RKE2 regenerate config.toml on every
 * start from a template when one exists, so the template is what must carry the runtime:
 * config-v3.toml.tmpl (newer K3s/RKE2 with containerd 2) if present, else config.toml.tmpl,
 * created from the generated config.toml when neither exists. Metal platforms run on any of
 * the three; the K3s/RKE2 directories tell which.
 */
export async function findContainerdTarget(
  platform: Platform,
  fs: HostFs,
  override?: ContainerdFlavour,
): Promise<ContainerdTarget> {
  const flavour = override ?? (await defaultFlavour(platform, fs));
  if (flavour === "containerd") {
    return { flavour, configPath: CONTAINERD_CONFIG, basePath: undefined, service: "containerd" };
  }
  const dir = RANCHER_DIR[flavour];
  const v3 = `${dir}/config-v3.toml.tmpl`;
  const configPath = (await fs.mode(v3)) !== undefined ? v3 : `${dir}/config.toml.tmpl`;
  const [server, agent] = flavour === "k3s" ? ["k3s", "k3s-agent"] : ["rke2-server", "rke2-agent"];
  const service = (await unitExists(fs, server)) || !(await unitExists(fs, agent)) ? server : agent;
  return { flavour, configPath, basePath: `${dir}/config.toml`, service };
}

async function defaultFlavour(platform: Platform, fs: HostFs): Promise<ContainerdFlavour> {
  if (platform.id.startsWith("k3s-")) return "k3s";
  if (platform.id.startsWith("rke2-")) return "rke2";
  if (platform.id.startsWith("metal-")) {
    if ((await fs.mode(RANCHER_DIR.k3s)) !== undefined) return "k3s";
    if ((await fs.mode(RANCHER_DIR.rke2)) !== undefined) return "rke2";
  }
  return "containerd";
}

async function unitExists(fs: HostFs, unit: string): Promise<boolean> {
  for (const dir of UNIT_DIRS) if ((await fs.mode(`${dir}/${unit}.service`)) !== undefined) return true;
  return false;
}
