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
