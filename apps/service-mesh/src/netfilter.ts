import { existsSync, realpathSync } from "node:fs";
import type { Socket } from "node:net";
import { dirname, join } from "node:path";
import type { Logger } from "@contrast/core";
import {
  execFileRunner,
  type InterceptedPort,
  type InterceptionReport,
  type IpFamily,
  type IptablesRunner,
  originalDestinationAvailable,
  type ProxyPorts,
  redirectTarget,
  setUpInterception,
} from "@contrast/netfilter";

/**
 * Pod mode's interception glue: the program's side of @contrast/netfilter (the library reads no
 * file system and no /proc of its own, so the addon's place and the address families are found
 * here).
 */

/** The addon's file name; the build copies packages/netfilter/dist/original_dst.node next to the bundle. */
export const ADDON_FILE = "original_dst.node";

/** The addon next to the running bundle (`dist/original_dst.node`), following a symlinked bin. */
export function bundledAddonPath(bundleDir?: string): string {
  const dir = bundleDir ?? dirname(realpathSync(process.argv[1] ?? "."));
  return join(dir, ADDON_FILE);
}

/** IPv4 always; IPv6 when the kernel has it (without it ip6tables has no nat table, and no IPv6 reaches the pod). */
export function interceptionFamilies(procIfInet6 = "/proc/net/if_inet6"): IpFamily[] {
  return existsSync(procIfInet6) ? [4, 6] : [4];
}

export interface PodInterceptionOptions {
  readonly ingress: readonly InterceptedPort[];
  readonly proxyPorts: ProxyPorts;
  /** Further ports of the proxy (egress listeners, admin) that a redirected connection must not be forwarded to. */
  readonly otherOwnPorts?: readonly number[];
  readonly addonPath?: string;
  readonly runner?: IptablesRunner;
  readonly families?: readonly IpFamily[];
  readonly log: Logger;
}

export interface PodInterception {
  readonly report: InterceptionReport;
  /** The plaintext target of a connection accepted on a proxy port (throws NETFILTER_NOT_REDIRECTED, NETFILTER_PROXY_LOOP). */
  readonly resolveTarget: (socket: Socket) => { host: string; port: number };
}

/**
 * Fails closed: without the addon the proxy could not tell where a connection was going, so it
 * refuses to start (NETFILTER_ADDON_UNAVAILABLE) before any rule is written. Then the rules for
 * every family, then (inside setUpInterception, only after them) the default-deny rule goes.
 * Call it after the listeners are up, and write the ready file after it returns.
 */
export async function startPodInterception(options: PodInterceptionOptions): Promise<PodInterception> {
  const addonPath = options.addonPath ?? bundledAddonPath();
  const addon = originalDestinationAvailable({ addonPath });
  if (!addon.ok) throw addon.error;
  const families = options.families ?? interceptionFamilies();
  const report = await setUpInterception({
    ingress: options.ingress,
    proxyPorts: options.proxyPorts,
    runner: options.runner ?? execFileRunner(),
    families,
    log: options.log,
  });
  const ownPorts = [options.proxyPorts.mtls, options.proxyPorts.tls, ...(options.otherOwnPorts ?? [])];
  return { report, resolveTarget: (socket) => redirectTarget(socket, { addonPath, ownPorts }) };
}
