import { randomBytes } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import { performance } from "node:perf_hooks";
import { grpcServiceDefinition, MeshAPI, UserAPI } from "@contrast/api";
import { type AtlsPeer, type AtlsServer, channelBinding, createAtlsServer } from "@contrast/atls";
import {
  type Caller,
  COORDINATOR_GRPC_SERVER_OPTIONS,
  Coordinator,
  meshApiHandlers,
  userApiHandlers,
} from "@contrast/coordinator";
import { ContrastError, jsonLogger, systemClock } from "@contrast/core";
import type { IptablesRunner } from "@contrast/netfilter";
import * as grpc from "@grpc/grpc-js";
import type { CoordinatorConfig } from "./config.js";
import { liftDefaultDeny } from "./default-deny.js";
import { ServerError } from "./error.js";
import { openIssuer } from "./issuer.js";
import { createMetrics } from "./metrics.js";
import { startPeerRecovery } from "./peer-recovery.js";
import { createProbeServer } from "./probes.js";
import { type Stoppable, shutdown } from "./shutdown.js";
import { openStore } from "./store.js";
import { evidenceVerifier, httpFetcher } from "./verifier.js";
import { VERSION } from "./version.js";

export interface RunIo {
  readonly write: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Runs iptables/ip6tables for the default-deny step (tests inject one); default: the real binaries. */
  readonly iptables?: IptablesRunner;
}

/** aTLS handshakes in progress at once per API; more are refused (each costs a key and evidence). */
const MAX_CONCURRENT_HANDSHAKES = 512;

const random = (n: number) => new Uint8Array(randomBytes(n));

/**
 * Runs the Coordinator until SIGTERM/SIGINT: opens the history store and the TEE's evidence
 * issuer, serves the user API and mesh API over aTLS and the probe/metrics HTTP server, and on a
 * signal drains all three within the shutdown budget. Returns the exit status.
 */
export async function runCoordinator(config: CoordinatorConfig, io: RunIo): Promise<number> {
  const clock = systemClock;
  const log = jsonLogger({ write: io.write, clock, level: config.logLevel, fields: { component: "coordinator" } });
  log.info("coordinator starting", {
    version: VERSION,
    platform: config.platform,
    store: config.store.kind,
    ...(config.platform === "sim" ? { insecure: "simulated TEE: no confidentiality, for development only" } : {}),
  });
  const metrics = createMetrics({ monotonicMs: () => performance.now() });
  const parts: Stoppable[] = [];
  let listening = false;
  let stopping = false;
  try {
    const { store, peers } = await openStore(config, { clock, log, env: io.env });
    const issuer = await openIssuer(config, { clock, log });
    const coordinator = await Coordinator.open({
      history: store,
      clock,
      random,
      verifyEvidence: evidenceVerifier({ clock, log, fetcher: config.platform === "snp" ? httpFetcher : undefined }),
      logger: log,
      ...(peers === undefined ? {} : { peers }),
      metrics: {
        onGeneration: (n) => metrics.onGeneration(n),
        onAttestationFailure: (reason) => {
          metrics.onAttestationFailure(reason);
          log.warn("attestation failed", { reason });
        },
      },
    });

    const atlsOptions = {
      issuer,
      clock,
      random,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      maxConcurrentHandshakes: MAX_CONCURRENT_HANDSHAKES,
      log,
    };
    const handshakeFailure = (api: "user" | "mesh") => (code: string, error: ContrastError) => {
      metrics.onHandshakeFailure(api, code);
      log.debug("aTLS handshake failed", { api, code, message: error.message });
    };
    const userAtls = createAtlsServer({
      ...atlsOptions,
      requestClientCert: true,
      onHandshakeFailure: handshakeFailure("user"),
    });
    // Upstream's initializers attest in their client certificate against the server nonce.
    const meshAtls = createAtlsServer({
      ...atlsOptions,
      serverNonceInCertificateRequest: true,
      onHandshakeFailure: handshakeFailure("mesh"),
    });

    const userServer = new grpc.Server(COORDINATOR_GRPC_SERVER_OPTIONS);
    const userHandlers = userApiHandlers(coordinator, callerOf(userAtls), { logger: log });
    for (const def of [grpcServiceDefinition(UserAPI), grpcServiceDefinition(UserAPI, "userapi.UserAPI")]) {
      userServer.addService(def, metrics.instrument(def, userHandlers));
      metrics.initialize(def);
    }
    const meshServer = new grpc.Server(COORDINATOR_GRPC_SERVER_OPTIONS);
    const meshDef = grpcServiceDefinition(MeshAPI);
    meshServer.addService(
      meshDef,
      metrics.instrument(meshDef, meshApiHandlers(coordinator, callerOf(meshAtls), { logger: log })),
    );
    metrics.initialize(meshDef);
    userAtls.attach(userServer);
    meshAtls.attach(meshServer);
    parts.push(grpcPart("user API", userServer, userAtls), grpcPart("mesh API", meshServer, meshAtls));

    const probeServer = createProbeServer({
      registry: metrics.registry,
      logger: log,
      probes: {
        startup: () => (listening ? { ok: true } : { ok: false, reason: "starting" }),
        liveness: async () => {
          try {
            await coordinator.history.hasLatest();
            return { ok: true };
          } catch (e) {
            return { ok: false, reason: `history store unreadable: ${ContrastError.from(e).message}` };
          }
        },
        readiness: async () => {
          if (stopping) return { ok: false, reason: "shutting down" };
          const status = await coordinator.status();
          if (status.phase === "running") return { ok: true };
          if (status.phase === "uninitialised") return { ok: false, reason: "no manifest set" };
          return {
            ok: false,
            reason: status.stale
              ? "recovery: another Coordinator changed the history; recover this one"
              : "recovery: the Coordinator restarted; recover it with the seed or from a peer",
          };
        },
      },
    });
    parts.push(httpPart(probeServer));

    const userApiPort = await listenOn("user API", config.userApiPort, () =>
      userAtls.listen(config.userApiPort, config.host),
    );
    const meshApiPort = await listenOn("mesh API", config.meshApiPort, () =>
      meshAtls.listen(config.meshApiPort, config.host),
    );
    const probePort = await listenOn("probe server", config.probePort, () =>
      listenHttp(probeServer, config.probePort, config.host),
    );
    await liftDefaultDeny(config, { log, iptables: io.iptables });
    listening = true;
    if (peers !== undefined && config.store.kind === "configmap") {
      const stop = startPeerRecovery({
        coordinator,
        peers,
        issuer,
        meshApiPort: config.meshApiPort,
        clock,
        log,
        intervalMs: config.store.peerRecoveryIntervalMs,
      });
      parts.push({ name: "peer recovery", graceful: async () => stop(), force: stop });
    }
    const status = await coordinator.status();
    log.info("coordinator listening", { host: config.host, userApiPort, meshApiPort, probePort, phase: status.phase });

    const signal = await waitForSignal();
    stopping = true;
    log.info("shutting down", { signal, budgetSeconds: config.shutdownBudgetMs / 1000 });
    const drained = await shutdown(parts, { budgetMs: config.shutdownBudgetMs, logger: log });
    log.info("coordinator stopped", { drained });
    return 0;
  } catch (e) {
    const error = ContrastError.from(e);
    log.error("coordinator failed", { error });
    for (const p of parts) p.force();
    return 1;
  }
}

/** The caller of a call: the client certificate key of its aTLS connection. */
function callerOf(server: AtlsServer): (call: { getPeer(): string }) => Caller | undefined {
  return (call) => {
    const peer: AtlsPeer | undefined = server.peerOf(call);
    if (peer === undefined) return undefined;
    // Evidence in the client certificate (upstream initializers), bound to this handshake's server nonce.
    return {
      publicKeyDer: peer.publicKeyDer,
      ...(peer.handshakeEvidence === undefined ? {} : { handshakeEvidence: peer.handshakeEvidence }),
      // Read from this call's own connection, only when the request asks for it.
      channelBinding: () => channelBinding(peer),
    };
  };
}

function grpcPart(name: string, server: grpc.Server, atls: AtlsServer): Stoppable {
  return {
    name,
    async graceful() {
      // Stop accepting first, then let open calls finish (GOAWAY), then wait for sockets to end.
      const closed = atls.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await closed;
    },
    force() {
      server.forceShutdown();
      void atls.close({ force: true });
    },
  };
}

function httpPart(server: HttpServer): Stoppable {
  return {
    name: "probe server",
    graceful: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    force: () => server.closeAllConnections(),
  };
}

function listenHttp(server: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const a = server.address();
      resolve(typeof a === "object" && a !== null ? a.port : port);
    });
  });
}

async function listenOn(what: string, port: number, listen: () => Promise<number>): Promise<number> {
  try {
    return await listen();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new ServerError(
      "SERVER_PORT_UNAVAILABLE",
      `cannot listen for the ${what} on port ${port}: ${String(code ?? e)}`,
      {
        cause: e,
      },
    );
  }
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}
