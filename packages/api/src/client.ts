import type { DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ApiError } from "./error.js";
import { fromGrpcError } from "./grpc-error.js";
import { grpcServiceDefinition } from "./services.js";

type UnaryCall = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

/** Options of one call. */
export interface CallOptions {
  /** Absolute deadline of the call. */
  readonly deadline?: Date;
  readonly metadata?: grpc.Metadata;
}

/** A typed, promise-returning client of one protobuf-es service over grpc-js. */
export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : never;
} & { close(): void };

/** What createServiceClient's clients offer beyond the calls. */
export interface ChannelReadiness {
  /**
   * Resolves once the channel has a ready connection (connecting if it has none), so a caller
   * can read that connection's properties (e.g. its TLS exporter) before the first call.
   * Fails as fast as a call does: API_UNAVAILABLE as soon as a connection attempt fails (not
   * grpc-js's wait-for-ready, which waits out the deadline), API_DEADLINE_EXCEEDED at `deadline`.
   */
  waitForReady(deadline: Date): Promise<void>;
}

/**
 * A client of `service` at `address` (`host:port`, or `unix:/path`). Every call resolves with the
 * response message or rejects with the server's ContrastError (code, kind, hint restored by
 * fromGrpcError), never with a bare grpc-js error. The channel's credentials decide the
 * transport; the attested-TLS credentials come with @contrast/atls.
 */
export function createServiceClient<S extends DescService>(
  service: S,
  address: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ClientOptions = {},
): ServiceClient<S> & ChannelReadiness {
  const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.name);
  const client = new Client(address, credentials, options);
  const calls: Record<string, unknown> = {
    close: () => client.close(),
    waitForReady: (deadline: Date) => connected(client, address, deadline),
  };
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const raw = (client as unknown as Record<string, UnaryCall | undefined>)[method.localName];
    calls[method.localName] = (init: MessageInitShape<typeof method.input>, call: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const request = create(method.input, init);
        const callOptions: grpc.CallOptions = call.deadline === undefined ? {} : { deadline: call.deadline };
        raw?.call(client, request, call.metadata ?? new grpc.Metadata(), callOptions, (err, response) => {
          if (err) reject(fromGrpcError(err));
          else resolve(response);
        });
      });
  }
  return calls as ServiceClient<S> & ChannelReadiness;
}

function connected(client: grpc.Client, address: string, deadline: Date): Promise<void> {
  const channel = client.getChannel();
  return new Promise<void>((resolve, reject) => {
    const step = () => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) {
        resolve();
        return;
      }
      if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
        reject(new ApiError("API_UNAVAILABLE", `no connection to ${address}`));
        return;
      }
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err) reject(new ApiError("API_DEADLINE_EXCEEDED", `no connection to ${address} by the deadline`));
        else step();
      });
    };
    step();
  });
}
