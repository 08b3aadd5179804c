import type { Socket } from "node:net";
import type { Logger } from "@contrast/core";
import {
  EgressListener,
  formatHostPort,
  HandshakeLimiter,
  type HostPort,
  IngressListener,
  type MeshConfig,
  MeshMetrics,
  MeshProxyError,
  meshConfigFromEnv,
} from "@contrast/mesh-proxy";
import { drainOnSignal, markReady, reloadOnHangup, type Serving, startAdmin } from "./lifecycle.js";
import type { PodInterception } from "./netfilter.js";
import type { PodOptions } from "./options.js";
import { readMeshCredentials } from "./tls-dir.js";

/** Upstream's ingress ports (§8.2): 15006 requires a mesh client certificate, 15007 does not. */
export const PROXY_PORTS = { mtls: 15006, tls: 15007 } as const;

/**
 * Binds on the IPv6 wildcard (dual-stack: IPv4 connections arrive as IPv4-mapped), so that both
 * families' REDIRECT rules land here; on a kernel without IPv6, on 0.0.0.0.
 */
async function listenAnyFamily(
  listen: (address: HostPort) => Promise<HostPort>,
  port: number,
  log: Logger,
): Promise<HostPort> {
  try {
    return await listen({ host: "::", port });
  } catch (e) {
    log.debug("no IPv6 wildcard; listening on IPv4 only", { port, error: e });
    return listen({ host: "0.0.0.0", port });
  }
}

export interface InterceptionRequest {
  readonly ingress: MeshConfig["ingress"];
  readonly proxyPorts: { readonly mtls: number; readonly tls: number };
  readonly addonPath: string | undefined;
  readonly log: Logger;
}

export interface PodDependencies {
  /** Fails when the interception cannot work (the addon); runs before anything is bound. */
  readonly preflight?: (addonPath: string | undefined) => Promise<void>;
  /** Sets up the rules and lifts the default-deny; the default is the netfilter glue. */
  readonly startInterception?: (request: InterceptionRequest) => Promise<Pick<PodInterception, "resolveTarget">>;
  /** The ingress ports; upstream's 15006/15007 unless a test needs free ones. */
  readonly proxyPorts?: { readonly mtls: number; readonly tls: number };
}

/**
 * Pod mode, in upstream's order (§8.1): configuration (every grammar error at once, exit 2),
 * credentials, listeners (15006, 15007, egress, admin), then the interception (the addon first,
 * fail closed; the nat rules; only then the default-deny rule goes), then the ready file. Until
 * the interception is up, an accepted connection has no destination and is refused.
 */
export async function runPod(
  options: PodOptions,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
  signals?: NodeJS.EventEmitter,
  deps: PodDependencies = {},
): Promise<number> {
  const config = meshConfigFromEnv(env);
  if (options.ignored.length > 0) log.debug("ignoring arguments meant for Envoy", { args: options.ignored });
  // Fail closed before binding anything: without the addon no connection could be forwarded.
  await (deps.preflight ?? defaultPreflight)(options.addonPath);
  const credentials = await readMeshCredentials(options.tlsDir);
  const proxyPorts = deps.proxyPorts ?? PROXY_PORTS;
  const metrics = new MeshMetrics();
  const handshakes = new HandshakeLimiter(options.maxHandshakes);
  let interception: Pick<PodInterception, "resolveTarget"> | undefined;
  const resolveTarget = (socket: Socket): HostPort | Error =>
    interception === undefined
      ? new MeshProxyError("PROXY_TARGET_REFUSED", "connection accepted before the interception was set up")
      : interception.resolveTarget(socket);
  const common = { credentials, metrics, handshakes, timeouts: options.timeouts, logger: log, resolveTarget };
  const mtls = new IngressListener({ ...common, name: "ingress", clientAuth: "required" });
  const tls = new IngressListener({ ...common, name: "ingressWithoutClientAuth", clientAuth: "none" });
  const egress = config.egress.map(
    (e) =>
      new EgressListener({
        name: e.name,
        credentials,
        remote: { host: e.remoteHost, port: e.remotePort },
        metrics,
        handshakes,
        timeouts: options.timeouts,
        logger: log,
      }),
  );
  const serving: Serving = { listeners: [mtls, tls, ...egress], admin: undefined, ready: false };
  const stopped = drainOnSignal(serving, options.drainMs, log, signals);
  reloadOnHangup(serving, () => readMeshCredentials(options.tlsDir), log, signals);

  for (const [listener, port] of [
    [mtls, proxyPorts.mtls],
    [tls, proxyPorts.tls],
  ] as const) {
    const bound = await listenAnyFamily((a) => listener.listen(a), port, log);
    log.info("ingress listening", { listener: listener.name, address: formatHostPort(bound) });
  }
  for (const [i, e] of config.egress.entries()) {
    const bound = await (egress[i] as EgressListener).listen({ host: e.listenAddress, port: e.listenPort });
    log.info("egress listening", {
      listener: e.name,
      address: formatHostPort(bound),
      remote: formatHostPort({ host: e.remoteHost, port: e.remotePort }),
    });
  }
  const adminAddress =
    options.admin ??
    (config.adminPort === undefined ? undefined : { host: options.adminAddress, port: config.adminPort });
  (serving as { admin: Serving["admin"] }).admin = await startAdmin(adminAddress, metrics, () => serving.ready, log);

  const start = deps.startInterception ?? defaultInterception;
  interception = await start({ ingress: config.ingress, proxyPorts, addonPath: options.addonPath, log });
  log.info("interception in place", { ingress: config.ingress.length });
  serving.ready = true;
  await markReady(options.readyFile, log);
  return stopped;
}

async function defaultPreflight(addonPath: string | undefined): Promise<void> {
  const { bundledAddonPath } = await import("./netfilter.js");
  const { originalDestinationAvailable } = await import("@contrast/netfilter");
  const addon = originalDestinationAvailable({ addonPath: addonPath ?? bundledAddonPath() });
  if (!addon.ok) throw addon.error;
}

async function defaultInterception(options: InterceptionRequest): Promise<Pick<PodInterception, "resolveTarget">> {
  const { startPodInterception } = await import("./netfilter.js");
  return startPodInterception({
    ingress: options.ingress,
    proxyPorts: options.proxyPorts,
    log: options.log,
    ...(options.addonPath === undefined ? {} : { addonPath: options.addonPath }),
  });
}
