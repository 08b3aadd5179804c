import { join } from "node:path";
import { scratchDir } from "@contrast/testkit";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll } from "vitest";

/**
 * A real grpc-js server and client over a Unix socket, with one unary method whose handler does
 * what the request (JSON) says: usually fail in a given way. No .proto is needed: the messages
 * are raw bytes.
 */
const identity = (b: Buffer): Buffer => b;
const SERVICE: grpc.ServiceDefinition = {
  call: {
    path: "/contrast.test.Probe/Call",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export type Handler = (request: unknown, callback: grpc.sendUnaryData<Buffer>) => void;

export interface Probe {
  /** Calls the method; resolves to the client's error, or rejects if the call succeeded. */
  fail(request: unknown, options?: { deadlineMs?: number }): Promise<grpc.ServiceError>;
  readonly address: string;
}

export function probeServer(handler: Handler): Probe {
  const dir = scratchDir("contrast-api-");
  const address = `unix://${join(dir, "api.sock")}`;
  const server = new grpc.Server();
  server.addService(SERVICE, {
    call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      handler(JSON.parse(call.request.toString("utf8")), callback),
  });
  const Client = grpc.makeGenericClientConstructor(SERVICE, "Probe");
  let client: grpc.Client & Record<string, grpc.requestCallback<Buffer> | unknown>;
  beforeAll(async () => {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    client = new Client(address, grpc.credentials.createInsecure()) as typeof client;
  });
  afterAll(() => {
    client?.close();
    server.forceShutdown();
  });
  return {
    address,
    fail: (request, options = {}) => callFailing(client, request, options.deadlineMs),
  };
}

/** A client for any address (one nothing listens on, for transport failures). */
export function callAt(address: string, request: unknown, deadlineMs?: number): Promise<grpc.ServiceError> {
  const Client = grpc.makeGenericClientConstructor(SERVICE, "Probe");
  const client = new Client(address, grpc.credentials.createInsecure());
  return callFailing(client as never, request, deadlineMs).finally(() => client.close());
}

function callFailing(
  client: grpc.Client & Record<string, unknown>,
  request: unknown,
  deadlineMs = 10_000,
): Promise<grpc.ServiceError> {
  const call = client.call as (
    req: Buffer,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: grpc.requestCallback<Buffer>,
  ) => void;
  return new Promise((resolve, reject) => {
    call.call(
      client,
      Buffer.from(JSON.stringify(request)),
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null) => (err ? resolve(err) : reject(new Error("the call succeeded"))),
    );
  });
}
