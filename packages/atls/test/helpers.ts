import { randomBytes } from "node:crypto";
import { createSimulatedAuthority, type SimulatedAuthority } from "@contrast/attestation/testing";
import { type Clock, fromHex, manualClock, sha256, toHex } from "@contrast/core";
import { SIM_TRUSTED_MEASUREMENT, simReferenceValues } from "@contrast/manifest";
import * as grpc from "@grpc/grpc-js";
import { type AtlsVerifyOptions, type EvidenceIssuer, simIssuer } from "../src/index.js";

export const random = (n: number) => new Uint8Array(randomBytes(n));

let shared: SimulatedAuthority | undefined;
/** One simulated TEE for the whole file: its 2048-bit chain takes a moment to make. */
export function authority(): SimulatedAuthority {
  shared ??= createSimulatedAuthority({ clock: manualClock("2026-12-01T00:00:00Z"), rsaModulusLength: 2048 });
  return shared;
}

export const POLICY_HASH = sha256(new TextEncoder().encode("atls test policy"));
export const MEASUREMENT = fromHex(SIM_TRUSTED_MEASUREMENT, 48);

export function issuer(a: SimulatedAuthority = authority(), hostData: Uint8Array = POLICY_HASH): EvidenceIssuer {
  return simIssuer(a, { measurement: MEASUREMENT, hostData });
}

export function verifyOptions(clock: Clock, a: SimulatedAuthority = authority()): AtlsVerifyOptions {
  return {
    referenceValues: { sim: [simReferenceValues(a.arkKeyDigest)] },
    allowedHostData: [toHex(POLICY_HASH)],
    clock,
  };
}

const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
/** A one-method service with raw bytes, so the tests need no generated code. */
export const ECHO: grpc.ServiceDefinition = {
  Echo: { path: "/atls.test.Echo/Echo", requestStream: false, responseStream: false, ...raw },
};

export const EchoClient = grpc.makeGenericClientConstructor(ECHO, "Echo");

export function echo(client: grpc.Client, body: Buffer, deadlineMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (...a: unknown[]) => void>).Echo?.(
      body,
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null, res: Buffer) => (err ? reject(err) : resolve(res)),
    );
  });
}

/**
 * A TLS server that is NOT a correct aTLS server: it answers each client with whatever
 * certificate `certFor(nonce)` makes, and counts the application bytes clients send after the
 * handshake, to prove that a refusing client never wrote a request.
 */
export async function fakeServer(
  certFor: (nonce: Uint8Array) => Promise<{ key: string; cert: string }>,
): Promise<{ port: number; received: () => number; handshakes: () => number; close: () => Promise<void> }> {
  const { createServer, createSecureContext } = await import("node:tls");
  let received = 0;
  let handshakes = 0;
  const server = createServer({
    ALPNProtocols: ["h2"],
    SNICallback: (name, cb) => {
      certFor(new Uint8Array(Buffer.from(name, "base64"))).then(
        (c) => cb(null, createSecureContext(c)),
        (e: Error) => cb(e),
      );
    },
  });
  server.on("secureConnection", (s) => {
    handshakes++;
    s.on("data", (d: Buffer) => {
      received += d.length;
    });
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    received: () => received,
    handshakes: () => handshakes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
