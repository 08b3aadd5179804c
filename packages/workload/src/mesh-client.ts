import type { KeyObject } from "node:crypto";
import { type CallOptions, createServiceClient, MeshAPI, type NewAttestationNonceResponse } from "@contrast/api";
import {
  type AtlsVerifyOptions,
  atlsChannelCredentials,
  createAtlsCertificate,
  type EvidenceIssuer,
  NONCE_BYTES,
  nonceToServerName,
  reportData,
} from "@contrast/atls";
import { type Clock, ContrastError, utf8 } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import type { MeshCredentials } from "./layout.js";

/**
 * The two mesh API calls a workload makes. A `ServiceClient<typeof MeshAPI>` fits; tests pass a
 * fake. `close()` releases the channel.
 */
export interface MeshCertClient {
  newAttestationNonce(request: Record<string, never>, options?: CallOptions): Promise<NewAttestationNonceResponse>;
  newMeshCert(
    request: { AttestationNonce: Uint8Array; Evidence: Uint8Array; EvidenceOID: string },
    options?: CallOptions,
  ): Promise<MeshCredentials>;
  close(): void;
}

/**
 * One NewMeshCert over the nonce flow (docs/atls.md): ask for a nonce, have the issuer attest
 * `reportData(client key SPKI, nonce)`, and send the evidence. `publicKeyDer` must be the key
 * of the TLS client certificate `client` connects with: the Coordinator binds the evidence to
 * that connection's key and issues the leaf for it.
 */
export async function requestMeshCert(
  client: MeshCertClient,
  options: { readonly publicKeyDer: Uint8Array; readonly issuer: EvidenceIssuer; readonly deadline?: Date },
): Promise<MeshCredentials> {
  const call: CallOptions = options.deadline === undefined ? {} : { deadline: options.deadline };
  const { Nonce } = await client.newAttestationNonce({}, call);
  const evidence = await options.issuer.issue(reportData(options.publicKeyDer, Nonce));
  return client.newMeshCert({ AttestationNonce: Nonce, Evidence: evidence, EvidenceOID: options.issuer.oid }, call);
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
 * per connection. Without `verify`, the channel is plain TLS that accepts the Coordinator's
 * self-signed aTLS certificate unjudged; a random 32-byte client nonce still goes in SNI
 * (base64, as v1.5 clients send it), because an aTLS server needs one to make its evidence.
 * With `verify`, @contrast/atls's credentials check the evidence before any request is sent, and
 * a failed check surfaces as its aTLS error instead of a bare UNAVAILABLE.
 */
export function meshApiConnector(options: MeshApiConnectorOptions): () => Promise<MeshCertClient> {
  return async () => {
    if (options.verify !== undefined) {
      const credentials = atlsChannelCredentials({
        verify: options.verify,
        clientKey: options.key,
        random: options.random,
      });
      const client = createServiceClient(MeshAPI, options.address, credentials, CHANNEL_OPTIONS);
      const explain = (e: unknown): never => {
        const err = ContrastError.from(e);
        const handshake = credentials.lastError();
        throw err.code === "API_UNAVAILABLE" && handshake !== undefined ? handshake : err;
      };
      return {
        newAttestationNonce: (r, c) => client.newAttestationNonce(r, c).catch(explain),
        newMeshCert: (r, c) => client.newMeshCert(r, c).catch(explain),
        close: () => client.close(),
      };
    }
    const own = await createAtlsCertificate({ key: options.key, clock: options.clock, random: options.random });
    const credentials = grpc.credentials.createSsl(
      null,
      Buffer.from(utf8(own.keyPem)),
      Buffer.from(utf8(own.certificatePem)),
      {
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
      },
    );
    return createServiceClient(MeshAPI, options.address, credentials, {
      ...CHANNEL_OPTIONS,
      "grpc.ssl_target_name_override": nonceToServerName(options.random(NONCE_BYTES)),
    });
  };
}
