import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { AtlsVerifyOptions } from "@contrast/atls";
import { ContrastError, jsonLogger, systemClock } from "@contrast/core";
import { loadManifest, SIM_COORDINATOR_POLICY_HASH } from "@contrast/manifest";
import { execFileRunner, type IptablesRunner, removeDefaultDeny } from "@contrast/netfilter";
import { initializeWorkload, meshApiConnector, nodeCredentialFs } from "@contrast/workload";
import type { InitializerConfig } from "./config.js";
import { openIssuer } from "./issuer.js";
import { VERSION } from "./version.js";

/** Exit status when credentials could not be obtained or written. */
export const EXIT_FAILURE = 1;
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

const random = (size: number) => new Uint8Array(randomBytes(size));

/** Waits `ms`, or until `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

async function coordinatorVerification(config: InitializerConfig): Promise<AtlsVerifyOptions | undefined> {
  if (config.coordinatorManifest === undefined) return undefined;
  const bytes = new Uint8Array(await readFile(config.coordinatorManifest));
  const { manifest } = loadManifest(bytes, { source: config.coordinatorManifest });
  return {
    referenceValues: manifest.ReferenceValues,
    allowedHostData: [config.coordinatorPolicyHash ?? SIM_COORDINATOR_POLICY_HASH],
    clock: systemClock,
  };
}

/**
 * The initializer: banner, issuer, a fresh P-256 workload key, credentials from the Coordinator
 * (retried until issued), files written, exit 0. SIGTERM/SIGINT while waiting: exit 143/130,
 * nothing written. Every failure is one JSON log line with code, message and hint.
 */
export async function runInitializer(
  config: InitializerConfig,
  io: {
    readonly write: (line: string) => void;
    readonly signals?: NodeJS.EventEmitter;
    /** Runs iptables/ip6tables (tests inject one); default: the real binaries. */
    readonly iptables?: IptablesRunner;
  },
): Promise<number> {
  const clock = systemClock;
  const log = jsonLogger({ write: io.write, clock, level: config.logLevel, fields: { component: "initializer" } });
  log.info(`Contrast initializer ${VERSION}`, { version: VERSION });
  const controller = new AbortController();
  let stoppedBy: keyof typeof SIGNAL_EXIT | undefined;
  const signals = io.signals ?? process;
  const onSignal = (name: keyof typeof SIGNAL_EXIT) => () => {
    if (stoppedBy !== undefined) return;
    stoppedBy = name;
    log.info("stopping", { signal: name });
    controller.abort();
  };
  const handlers = { SIGTERM: onSignal("SIGTERM"), SIGINT: onSignal("SIGINT") };
  signals.on("SIGTERM", handlers.SIGTERM);
  signals.on("SIGINT", handlers.SIGINT);
  try {
    if (config.serviceMeshDisabled) {
      // As upstream: first, and a failure is fatal (the pod would stay unreachable otherwise).
      // IPv6 too, where the kernel has it (docs/service-mesh.md, "Interception").
      const families = existsSync("/proc/net/if_inet6") ? ([4, 6] as const) : ([4] as const);
      log.info("CONTRAST_SERVICE_MESH_DISABLED set, removing the default-deny rule");
      const removed = await removeDefaultDeny(io.iptables ?? execFileRunner(), families);
      log.info(removed ? "default-deny rule removed" : "no default-deny rule, nothing to do");
    }
    const issuer = await openIssuer(config, { clock, log });
    const verify = await coordinatorVerification(config);
    if (verify === undefined) {
      log.info("the Coordinator is not verified (as upstream v1.5); pass --coordinator-manifest to verify it");
    }
    const { privateKey: key } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const address = `${config.coordinatorHost}:${config.meshApiPort}`;
    log.info("requesting mesh credentials", { coordinator: address, platform: issuer.platform, root: config.root });
    const result = await initializeWorkload({
      key,
      connect: meshApiConnector({ address, key, clock, random, verify }),
      issuer,
      fs: nodeCredentialFs,
      root: config.root,
      marker: config.doneFile,
      clock,
      log,
      sleep,
      jitter: () => randomInt(0, 1_000_000) / 1_000_000,
      signal: controller.signal,
      backoff: { initialMs: config.retryInitialMs, maxMs: config.retryMaxMs, jitter: 0.2 },
      callTimeoutMs: config.callTimeoutMs,
    });
    log.info("wrote the workload's credentials", {
      attempts: result.attempts,
      files: result.written,
      workloadSecret: result.hasWorkloadSecret,
    });
    return 0;
  } catch (e) {
    const error = ContrastError.from(e);
    if (error.code === "INITIALIZER_STOPPED" && stoppedBy !== undefined) {
      log.warn("stopped before the credentials were issued; nothing was written", { error });
      return SIGNAL_EXIT[stoppedBy];
    }
    log.error("the initializer failed", { error });
    return EXIT_FAILURE;
  } finally {
    signals.off("SIGTERM", handlers.SIGTERM);
    signals.off("SIGINT", handlers.SIGINT);
  }
}
