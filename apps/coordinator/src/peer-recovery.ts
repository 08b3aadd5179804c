import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServiceClient, MeshAPI } from "@contrast/api";
import { atlsChannelCredentials, type EvidenceCollateral, type EvidenceIssuer } from "@contrast/atls";
import { COORDINATOR_ROLE, type Coordinator, type PeerSource } from "@contrast/coordinator";
import { type Clock, ContrastError, type Logger } from "@contrast/core";
import { loadManifest } from "@contrast/manifest";
import { publicKeyDer } from "@contrast/mesh-pki";

/** How long one round waits for the aTLS connection to a peer (upstream's MinConnectTimeout). */
const CONNECT_TIMEOUT_MS = 30_000;

export interface PeerRecoveryLoopOptions {
  readonly coordinator: Coordinator;
  readonly peers: PeerSource;
  readonly issuer: EvidenceIssuer;
  readonly meshApiPort: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly collateral?: EvidenceCollateral;
  /** Between rounds while in recovery; upstream retries every few seconds. */
  readonly intervalMs?: number;
}

/**
 * Upstream's recovery loop: while this Coordinator is in recovery, ask the ready peers (other
 * Coordinator pods) in turn for the seed over the mesh API, attesting with this Coordinator's
 * evidence. A peer is trusted only if its aTLS evidence satisfies the reference values of the
 * latest manifest in the store and its policy hash has the role coordinator there. Returns a
 * function that stops the loop.
 */
export function startPeerRecovery(options: PeerRecoveryLoopOptions): () => void {
  const interval = options.intervalMs ?? 10_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    const status = await options.coordinator.status();
    if (status.phase !== "recovery") return;
    const verify = await peerVerification(options);
    if (verify === undefined) return;
    options.log.debug("asking peers for recovery", { coordinatorPolicies: verify.allowedHostData });
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const random = (n: number) => new Uint8Array(randomBytes(n));
    const peer = await options.coordinator.recoverFromPeers({
      peers: options.peers,
      connect: (p) => {
        const credentials = atlsChannelCredentials({ verify, clientKey: key, random });
        const client = createServiceClient(
          MeshAPI,
          `${p.ip.includes(":") ? `[${p.ip}]` : p.ip}:${options.meshApiPort}`,
          credentials,
        );
        return {
          ...client,
          // One call per recovery: the evidence binds this connection's TLS exporter.
          channelBinding: async () => {
            await client.waitForReady(new Date(options.clock.now().getTime() + CONNECT_TIMEOUT_MS));
            return credentials.channelBinding();
          },
        };
      },
      clientPublicKeyDer: publicKeyDer(key),
      issuer: options.issuer,
    });
    if (peer !== undefined) options.log.info("recovered from a peer", { peer: peer.name });
  };
  const loop = () => {
    if (stopped) return;
    round()
      .catch((e: unknown) => options.log.warn("peer recovery round failed", { error: ContrastError.from(e) }))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, interval);
      });
  };
  timer = setTimeout(loop, 0);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/** How to judge a peer: the latest manifest's reference values and its coordinator policies. */
async function peerVerification(options: PeerRecoveryLoopOptions) {
  const history = options.coordinator.history;
  const latest = await history.readLatestUnverified();
  if (latest === undefined) return undefined;
  const transition = await history.getTransition(latest.transitionHash);
  const { manifest } = loadManifest(await history.getManifest(transition.manifestHash));
  const coordinators = [...(manifest.Policies ?? [])]
    .filter(([, e]) => e.Role === COORDINATOR_ROLE)
    .map(([h]) => h.toLowerCase());
  if (coordinators.length === 0) {
    options.log.warn("peer recovery: the latest manifest names no policy with role coordinator");
    return undefined;
  }
  return {
    referenceValues: manifest.ReferenceValues,
    allowedHostData: coordinators,
    clock: options.clock,
    ...options.collateral,
  };
}
