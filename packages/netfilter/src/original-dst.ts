import type { Socket } from "node:net";
import { constants } from "node:os";
import { NetfilterError } from "./errors.js";

/** Where a redirected connection was going before REDIRECT rewrote it to the proxy's port. */
export interface OriginalDestination {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
}

export interface AddonOptions {
  /**
   * The compiled addon, `original_dst.node`: this package's build puts it in `dist/` (exported as
   * `@contrast/netfilter/original_dst.node`); a bundled app keeps a copy next to its bundle. A
   * path, not a default found from this module's own location, so that bundles need no
   * `import.meta` and the library reads no file of its own choosing.
   */
  readonly addonPath: string;
}

/** The addon's file name, as the build writes it. */
export const ADDON_FILE_NAME = "original_dst.node";

interface Addon {
  originalDestination(fd: number): OriginalDestination;
}

const loaded = new Map<string, Addon | NetfilterError>();

function load(options: AddonOptions): Addon {
  const path = options.addonPath;
  let addon = loaded.get(path);
  if (addon === undefined) {
    try {
      const module = { exports: {} as Partial<Addon> };
      process.dlopen(module, path, constants.dlopen.RTLD_NOW);
      if (typeof module.exports.originalDestination !== "function") throw new Error("it has no originalDestination");
      addon = module.exports as Addon;
    } catch (cause) {
      addon = new NetfilterError(
        "NETFILTER_ADDON_UNAVAILABLE",
        `cannot load the original-destination addon ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    loaded.set(path, addon);
  }
  if (addon instanceof NetfilterError) throw addon;
  return addon;
}

/** Whether the addon loads; the error (NETFILTER_ADDON_UNAVAILABLE) when not, so pod mode can refuse to start. */
export function originalDestinationAvailable(
  options: AddonOptions,
): { ok: true } | { ok: false; error: NetfilterError } {
  try {
    load(options);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error as NetfilterError };
  }
}

/**
 * The original destination of an accepted connection that the nat table redirected to this
 * process. A connection that connection tracking does not know throws NETFILTER_NOT_REDIRECTED. A
 * tracked connection that was not rewritten gives its own local address and port.
 */
export function originalDestination(socket: Socket, options: AddonOptions): OriginalDestination {
  const addon = load(options);
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) {
    throw new NetfilterError(
      "NETFILTER_ORIGINAL_DST_FAILED",
      "the socket has no file descriptor (closed, or not a TCP socket)",
    );
  }
  try {
    return addon.originalDestination(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new NetfilterError(
        "NETFILTER_NOT_REDIRECTED",
        "the connection has no connection-tracking entry (not redirected by netfilter)",
        { cause: error },
      );
    }
    throw new NetfilterError(
      "NETFILTER_ORIGINAL_DST_FAILED",
      `reading the original destination failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

export interface RedirectTargetOptions extends AddonOptions {
  /** The proxy's own ports: a connection that was going to one of them is refused, not forwarded to itself. */
  readonly ownPorts: readonly number[];
}

/**
 * Where the proxy forwards a redirected connection after TLS termination: its original
 * destination (the pod's own address, so the proxy's connection there is local and not redirected
 * again), unless that is one of the proxy's ports (NETFILTER_PROXY_LOOP, upstream's
 * BlackHoleCluster).
 */
export function redirectTarget(socket: Socket, options: RedirectTargetOptions): { host: string; port: number } {
  const dst = originalDestination(socket, options);
  if (options.ownPorts.includes(dst.port)) {
    throw new NetfilterError(
      "NETFILTER_PROXY_LOOP",
      `the connection's original destination ${dst.family === 6 ? `[${dst.address}]` : dst.address}:${dst.port} is the proxy's own port`,
    );
  }
  return { host: dst.address, port: dst.port };
}
