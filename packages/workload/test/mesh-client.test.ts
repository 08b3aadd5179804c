import { randomBytes } from "node:crypto";
import {
  EvidenceBinding,
  grpcServiceDefinition,
  MeshAPI,
  type NewAttestationNonceResponse,
  type NewMeshCertRequest,
} from "@contrast/api";
import { type AtlsServer, channelBinding, createAtlsServer, reportData } from "@contrast/atls";
import { bytesEqual, ContrastError, systemClock, toHex } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type MeshCertClient, meshApiConnector, requestMeshCert } from "../src/index.js";
import { answerFor, p256, spki } from "./helpers.js";

/** An issuer double whose "evidence" is the report data, so the server can check the binding. */
const echoIssuer = { platform: "sim" as const, oid: "1.3.9901.2.1", issue: async (rd: Uint8Array) => rd.slice() };
const random = (n: number) => new Uint8Array(randomBytes(n));

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/**
 * A mesh API server over the real aTLS server: NewMeshCert checks the evidence against the
 * CALLING connection's client key and TLS exporter (as the Coordinator does) and records what it saw.
 */
async function meshServer() {
  const seen = { nonces: 0, bindings: [] as EvidenceBinding[], exporters: [] as string[] };
  const atls: AtlsServer = createAtlsServer({ issuer: echoIssuer, clock: systemClock, random });
  const server = new grpc.Server();
  const refuse = (cb: grpc.sendUnaryData<unknown>, details: string) =>
    cb({ code: grpc.status.UNAUTHENTICATED, details } as grpc.ServiceError);
  server.addService(grpcServiceDefinition(MeshAPI), {
    newAttestationNonce: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      seen.nonces++;
      cb(null, { $typeName: "meshapi.NewAttestationNonceResponse", Nonce: random(32), TtlSeconds: 60 });
    },
    newMeshCert: (call: grpc.ServerUnaryCall<NewMeshCertRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const peer = atls.peerOf(call);
      if (peer?.publicKeyDer === undefined) return refuse(cb, "no peer");
      seen.bindings.push(call.request.EvidenceBinding);
      const exporter = channelBinding(peer);
      seen.exporters.push(toHex(exporter));
      if (!bytesEqual(call.request.Evidence, reportData(peer.publicKeyDer, exporter))) return refuse(cb, "binding");
      answerFor(p256()).then((a) => cb(null, { $typeName: "meshapi.NewMeshCertResponse", ...a }));
    },
    recover: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => refuse(cb, "not here"),
  });
  atls.attach(server);
  const port = await atls.listen(0, "127.0.0.1");
  stops.push(async () => {
    server.forceShutdown();
    await atls.close({ force: true });
  });
  return { port, seen };
}

describe("requestMeshCert", () => {
  const fake = (withBinding: boolean) => {
    const calls: string[] = [];
    const exporter = new Uint8Array(32).fill(7);
    const client: MeshCertClient = {
      newAttestationNonce: async () => {
        calls.push("nonce");
        return { Nonce: new Uint8Array(32).fill(1), TtlSeconds: 60 } as NewAttestationNonceResponse;
      },
      newMeshCert: async (r) => {
        calls.push(`cert:${r.EvidenceBinding}:${toHex(r.AttestationNonce)}`);
        return {
          MeshCACert: r.Evidence,
          CertChain: new Uint8Array(),
          RootCACert: new Uint8Array(),
          WorkloadSecret: new Uint8Array(),
        };
      },
      close: () => {},
      ...(withBinding ? { channelBinding: async () => exporter } : {}),
    };
    return { client, calls, exporter };
  };
  const key = spki(p256());

  it("takes one call with the exporter binding when the client offers one", async () => {
    const { client, calls, exporter } = fake(true);
    const res = await requestMeshCert(client, { publicKeyDer: key, issuer: echoIssuer });
    expect(calls).toEqual([`cert:${EvidenceBinding.TLS_EXPORTER}:`]);
    expect(toHex(res.MeshCACert)).toBe(toHex(reportData(key, exporter)));
  });

  it("falls back to the nonce flow without one, or when asked", async () => {
    for (const [withBinding, options] of [
      [false, {}],
      [true, { binding: "nonce" as const }],
    ] as const) {
      const { client, calls } = fake(withBinding);
      const res = await requestMeshCert(client, { publicKeyDer: key, issuer: echoIssuer, ...options });
      expect(calls).toEqual(["nonce", `cert:${EvidenceBinding.NONCE}:${toHex(new Uint8Array(32).fill(1))}`]);
      expect(toHex(res.MeshCACert)).toBe(toHex(reportData(key, new Uint8Array(32).fill(1))));
    }
  });
});

describe("meshApiConnector's channel binding, over real TLS", () => {
  it("without verify: one NewMeshCert per certificate, bound to the exporter the server sees", async () => {
    const { port, seen } = await meshServer();
    const key = p256();
    const connect = meshApiConnector({ address: `127.0.0.1:${port}`, key, clock: systemClock, random });
    for (let i = 0; i < 2; i++) {
      const client = await connect();
      try {
        const before = toHex(
          await (client.channelBinding as (d: Date) => Promise<Uint8Array>)(new Date(Date.now() + 10_000)),
        );
        await requestMeshCert(client, { publicKeyDer: spki(key), issuer: echoIssuer });
        expect(seen.exporters.at(-1)).toBe(before);
      } finally {
        client.close();
      }
    }
    expect(seen.nonces).toBe(0);
    expect(seen.bindings).toEqual([EvidenceBinding.TLS_EXPORTER, EvidenceBinding.TLS_EXPORTER]);
    // Each client is a new connection with its own exporter.
    expect(seen.exporters[0]).not.toBe(seen.exporters[1]);
  });

  it("evidence bound to another client's connection is refused", async () => {
    const { port } = await meshServer();
    const key = p256();
    const connect = meshApiConnector({ address: `127.0.0.1:${port}`, key, clock: systemClock, random });
    const [a, b] = [await connect(), await connect()];
    try {
      const deadline = new Date(Date.now() + 10_000);
      const exporterA = await (a.channelBinding as (d: Date) => Promise<Uint8Array>)(deadline);
      const onB = { ...b, channelBinding: async () => exporterA };
      await expect(requestMeshCert(onB, { publicKeyDer: spki(key), issuer: echoIssuer })).rejects.toBeInstanceOf(
        ContrastError,
      );
      await requestMeshCert(a, { publicKeyDer: spki(key), issuer: echoIssuer });
    } finally {
      a.close();
      b.close();
    }
  });

  it("an unreachable Coordinator fails fast with API_UNAVAILABLE, not at the deadline", async () => {
    const connect = meshApiConnector({ address: "127.0.0.1:1", key: p256(), clock: systemClock, random });
    const client = await connect();
    const started = Date.now();
    try {
      await expect(
        (client.channelBinding as (d: Date) => Promise<Uint8Array>)(new Date(Date.now() + 20_000)),
      ).rejects.toMatchObject({ code: "API_UNAVAILABLE" });
    } finally {
      client.close();
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
