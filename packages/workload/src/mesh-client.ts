import type { KeyObject } from "node:crypto";
import {
  type CallOptions,
  createServiceClient,
  EvidenceBinding,
  MeshAPI,
  type NewAttestationNonceResponse,
} from "@contrast/api";
import { type AtlsVerifyOptions, atlsChannelCredentials, type EvidenceIssuer, reportData } from "@contrast/atls";
import { type Clock, ContrastError } from "@contrast/core";
import type * as grpc from "@grpc/grpc-js";
import type { MeshCredentials } from "./layout.js";
import { unverifiedTlsCredentials } from "./tls-credentials.js";

/**
 * The mesh API calls a workload makes. A `ServiceClient<typeof MeshAPI>` fits; tests pass a
 * fake. `close()` releases the channel.
 */
export interface MeshCertClient {
  newAttestationNonce(request: Record<string, never>, options?: CallOptions): Promise<NewAttestationNonceResponse>;
  newMeshCert(
    request: {
      AttestationNonce: Uint8Array;
      Evidence: Uint8Array;
      EvidenceOID: string;
      EvidenceBinding?: EvidenceBinding;
    },
    options?: CallOptions,
  ): Promise<MeshCredentials>;
  /**
   * The TLS exporter channel binding (@contrast/atls channelBinding) of the connection the next
   * call goes on, connecting first by `deadline`. Present: one call per certificate. Absent: the
   * nonce flow.
   */
  channelBinding?(deadline: Date): Promise<Uint8Array>;
  close(): void;
}

/**
 * One NewMeshCert (docs/atls.md). With the client's channel binding: one call, the issuer
 * attests `reportData(client key SPKI, TLS exporter of the connection)`. Without: ask for a
 * nonce and attest `reportData(client key SPKI, nonce)`. `publicKeyDer` must be the key of the
 * TLS client certificate `client` connects with: the Coordinator binds the evidence to that
 * connection's key and issues the leaf for it.
 */
export async function requestMeshCert(
  client: MeshCertClient,
  options: {
    readonly publicKeyDer: Uint8Array;
    readonly issuer: EvidenceIssuer;
    readonly deadline?: Date;
    /** Use the nonce flow even when the client offers a channel binding (two calls). */
    readonly binding?: "tls-exporter" | "nonce";
  },
): Promise<MeshCredentials> {
  const call: CallOptions = options.deadline === undefined ? {} : { deadline: options.deadline };
  const { issuer, publicKeyDer } = options;
  if (client.channelBinding !== undefined && options.binding !== "nonce") {
    const binding = await client.channelBinding(options.deadline ?? new Date(Date.now() + 30_000));
    const evidence = await issuer.issue(reportData(publicKeyDer, binding));
    return client.newMeshCert(
      {
        AttestationNonce: new Uint8Array(0),
        Evidence: evidence,
        EvidenceOID: issuer.oid,
        EvidenceBinding: EvidenceBinding.TLS_EXPORTER,
      },
      call,
    );
  }
  const { Nonce } = await client.newAttestationNonce({}, call);
  const evidence = await issuer.issue(reportData(publicKeyDer, Nonce));
  return client.newMeshCert(
    { AttestationNonce: Nonce, Evidence: evidence, EvidenceOID: issuer.oid, EvidenceBinding: EvidenceBinding.NONCE },
    call,
  );
}

export interface MeshApiConnectorOptions {
  /** `host:port` of the Coordinator's mesh API (upstream: `<COORDINATOR_HOST>:7777`). */
  readonly address: string;
  /** The workload key: the TLS client certificate is self-signed for it. */
  readonly key: KeyObject;
  readonly clock: Clock;
  readonly random: (size: number) => Uint8Array;
  /**
   * How to judge the Coordinator's aTLS evidence. Absent: the Coordinator is not verified, as
   * upstream v1.5's initializer does not (it has no manifest to verify against; what it receives
   * is bound to its key, and a false Coordinator gains nothing it could not make itself).
   */
  readonly verify?: AtlsVerifyOptions | undefined;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": 8 * 1024 * 1024,
  // One attempt per channel: the retry loop above decides when to try again, and logs why.
  "grpc.enable_retries": 0,
};

/**
 * A factory of mesh API clients over TLS with a fresh self-signed client certificate for `key`
 * per connection, each offering the channel binding of its connection. Without `verify`, the
 * channel is plain TLS that accepts the Coordinator's self-signed aTLS certificate unjudged; a
 * random 32-byte client nonce still goes in SNI (base64, as v1.5 clients send it), because an
 * aTLS server needs one to make its evidence. With `verify`, @contrast/atls's credentials check
 * the evidence before any request is sent, and a failed check surfaces as its aTLS error instead
 * of a bare UNAVAILABLE.
 */
export function meshApiConnector(options: MeshApiConnectorOptions): () => Promise<MeshCertClient> {
  return async () => {
    const credentials =
      options.verify !== undefined
        ? atlsChannelCredentials({ verify: options.verify, clientKey: options.key, random: options.random })
        : unverifiedTlsCredentials({ key: options.key, clock: options.clock, random: options.random });
    const client = createServiceClient(MeshAPI, options.address, credentials, CHANNEL_OPTIONS);
    const explain = (e: unknown): never => {
      const err = ContrastError.from(e);
      const handshake = credentials.lastError();
      throw err.code === "API_UNAVAILABLE" && handshake !== undefined ? handshake : err;
    };
    return {
      newAttestationNonce: (r, c) => client.newAttestationNonce(r, c).catch(explain),
      newMeshCert: (r, c) => client.newMeshCert(r, c).catch(explain),
      channelBinding: async (deadline) => {
        await client.waitForReady(deadline).catch(explain);
        return credentials.channelBinding();
      },
      close: () => client.close(),
    };
  };
}
