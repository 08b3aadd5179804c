import { MeshAPI, toGrpcStatus, UserAPI } from "@contrast/api";
import type { Logger } from "@contrast/core";
import { ContrastError, noopLogger } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import type { Caller } from "./caller.js";
import type { Coordinator } from "./coordinator.js";

/**
 * Largest message either API accepts or sends: grpc-go's default receive limit, which upstream's
 * Coordinator runs with, so a request upstream takes is taken here and nothing larger.
 */
export const GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** grpc-js server options the Coordinator's servers should be created with. */
export const COORDINATOR_GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  "grpc.max_receive_message_length": GRPC_MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": GRPC_MAX_MESSAGE_BYTES,
  // Upstream's servers: keepalive pings every 15 s.
  "grpc.keepalive_time_ms": 15_000,
  // No channelz service is registered (upstream registers none either), so nothing can read the
  // per-call and per-socket bookkeeping grpc-js would otherwise keep on every RPC.
  "grpc.enable_channelz": 0,
};

/**
 * Codes answered with FAILED_PRECONDITION, as upstream does for state conflicts (the newer
 * upstream, for the cases where v1.5 answered INTERNAL; docs/coordinator.md lists the choices).
 */
export const COORDINATOR_STATUS_BY_CODE: Readonly<Record<string, grpc.status>> = {
  COORDINATOR_IN_RECOVERY: grpc.status.FAILED_PRECONDITION,
  COORDINATOR_NO_MANIFEST: grpc.status.FAILED_PRECONDITION,
  COORDINATOR_ALREADY_RECOVERED: grpc.status.FAILED_PRECONDITION,
  COORDINATOR_NOTHING_TO_RECOVER: grpc.status.FAILED_PRECONDITION,
  COORDINATOR_PEERS_AVAILABLE: grpc.status.FAILED_PRECONDITION,
  HISTORY_CONCURRENT_UPDATE: grpc.status.FAILED_PRECONDITION,
  COORDINATOR_PEER_LISTING_FAILED: grpc.status.INTERNAL,
  // A damaged store is the server's problem, as upstream answers it (INTERNAL), not the caller's
  // authentication (the kind crypto would say UNAUTHENTICATED) nor a retryable outage.
  HISTORY_HASH_MISMATCH: grpc.status.INTERNAL,
  HISTORY_CORRUPT: grpc.status.INTERNAL,
  HISTORY_ENTRY_MISSING: grpc.status.INTERNAL,
};

/** The caller of a grpc-js call, from the transport (the aTLS server's `peerOf`). */
export type PeerOf = (call: grpc.ServerUnaryCall<unknown, unknown>) => Caller | undefined;

export interface HandlerOptions {
  /** Logs failures that are bugs (non-ContrastErrors) with their stack; the client sees only "internal error". */
  readonly logger?: Logger;
}

type Unary = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

function unary(
  log: Logger,
  method: string,
  peerOf: PeerOf,
  run: (request: never, caller: Caller) => Promise<unknown>,
): Unary {
  return (call, callback) => {
    Promise.resolve()
      .then(() => run(call.request as never, peerOf(call) ?? {}))
      .then(
        (response) => callback(null, response),
        (e: unknown) => {
          const status = toGrpcStatus(e, { statusByCode: COORDINATOR_STATUS_BY_CODE });
          if (status.code === grpc.status.INTERNAL) {
            log.error("rpc failed", { method, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
          } else {
            log.debug("rpc refused", { method, status: grpc.status[status.code], message: status.details });
          }
          callback(status);
        },
      );
  };
}

/**
 * grpc-js handlers of the user API for `server.addService(grpcServiceDefinition(UserAPI), ...)`
 * (also under the pre-1.0 name `userapi.UserAPI`). Every error goes through toGrpcStatus.
 */
export function userApiHandlers(
  coordinator: Coordinator,
  peerOf: PeerOf,
  options: HandlerOptions = {},
): grpc.UntypedServiceImplementation {
  const log = options.logger ?? noopLogger;
  const impl: Record<string, Unary> = {
    setManifest: unary(log, "SetManifest", peerOf, (r, c) => coordinator.setManifest(r, c)),
    getManifests: unary(log, "GetManifests", peerOf, (_r, c) => coordinator.getManifests(c)),
    recover: unary(log, "Recover", peerOf, (r, c) => coordinator.recover(r, c)),
  };
  checkCovers(UserAPI.methods, impl);
  return impl;
}

/** grpc-js handlers of the mesh API for `server.addService(grpcServiceDefinition(MeshAPI), ...)`. */
export function meshApiHandlers(
  coordinator: Coordinator,
  peerOf: PeerOf,
  options: HandlerOptions = {},
): grpc.UntypedServiceImplementation {
  const log = options.logger ?? noopLogger;
  const impl: Record<string, Unary> = {
    newAttestationNonce: unary(log, "NewAttestationNonce", peerOf, (_r, c) => coordinator.newAttestationNonce(c)),
    newMeshCert: unary(log, "NewMeshCert", peerOf, (r, c) => coordinator.newMeshCert(r, c)),
    recover: unary(log, "Recover", peerOf, (r, c) => coordinator.meshRecover(r, c)),
  };
  checkCovers(MeshAPI.methods, impl);
  return impl;
}

// A method added to a .proto without a handler would answer UNIMPLEMENTED; fail at wiring instead.
function checkCovers(methods: readonly { localName: string }[], impl: Record<string, unknown>): void {
  for (const m of methods) {
    if (impl[m.localName] === undefined)
      throw new ContrastError("INTERNAL", `no handler for ${m.localName}`, { kind: "internal" });
  }
}
