import type { Logger } from "@contrast/core";
import {
  EgressListener,
  fixedTarget,
  formatHostPort,
  HandshakeLimiter,
  IngressListener,
  MeshMetrics,
} from "@contrast/mesh-proxy";
import { drainOnSignal, markReady, reloadOnHangup, type Serving, startAdmin } from "./lifecycle.js";
import type { StandaloneEgressOptions, StandaloneOptions } from "./options.js";
import { readMeshCredentials } from "./tls-dir.js";

/**
 * `service-mesh ingress`: one ingress port, for benchmarks, tests and debugging. The same listener
 * as in a pod, with a fixed upstream instead of each connection's original destination, and no
 * iptables.
 */
export async function runStandalone(
  options: StandaloneOptions,
  log: Logger,
  signals?: NodeJS.EventEmitter,
): Promise<number> {
  const credentials = await readMeshCredentials(options.tlsDir);
  const metrics = new MeshMetrics();
  const name = options.clientAuth === "required" ? "ingress" : "ingressWithoutClientAuth";
  const listener = new IngressListener({
    name,
    credentials,
    clientAuth: options.clientAuth,
    resolveTarget: fixedTarget(options.upstream),
    metrics,
    handshakes: new HandshakeLimiter(options.maxHandshakes),
    timeouts: options.timeouts,
    logger: log,
  });
  return serveOne(listener, metrics, options, log, signals, "ingress listening", {
    listener: name,
    upstream: formatHostPort(options.upstream),
    clientAuth: options.clientAuth,
  });
}

/**
 * `service-mesh egress`: one egress listener, as a pod's `name#listen#remote` entry makes, for
 * benchmarks (the client side of a mesh hop) and debugging.
 */
export async function runStandaloneEgress(
  options: StandaloneEgressOptions,
  log: Logger,
  signals?: NodeJS.EventEmitter,
): Promise<number> {
  const credentials = await readMeshCredentials(options.tlsDir);
  const metrics = new MeshMetrics();
  const listener = new EgressListener({
    name: "egress",
    credentials,
    remote: options.remote,
    metrics,
    handshakes: new HandshakeLimiter(options.maxHandshakes),
    timeouts: options.timeouts,
    logger: log,
  });
  return serveOne(listener, metrics, options, log, signals, "egress listening", {
    listener: "egress",
    remote: formatHostPort(options.remote),
  });
}

/**
 * One listener's life in standalone mode: drain on SIGTERM/SIGINT, reload on SIGHUP, listen, log
 * the bound address (tests and the bench read its port), the admin interface, the ready file.
 */
async function serveOne(
  listener: IngressListener | EgressListener,
  metrics: MeshMetrics,
  options: StandaloneOptions | StandaloneEgressOptions,
  log: Logger,
  signals: NodeJS.EventEmitter | undefined,
  message: string,
  fields: Record<string, unknown>,
): Promise<number> {
  const serving: Serving = { listeners: [listener], admin: undefined, ready: false };
  const stopped = drainOnSignal(serving, options.drainMs, log, signals);
  reloadOnHangup(serving, () => readMeshCredentials(options.tlsDir), log, signals);
  const bound = await listener.listen(options.listen);
  log.info(message, { ...fields, address: formatHostPort(bound), port: bound.port });
  (serving as { admin: Serving["admin"] }).admin = await startAdmin(options.admin, metrics, () => serving.ready, log);
  serving.ready = true;
  await markReady(options.readyFile, log);
  return stopped;
}
