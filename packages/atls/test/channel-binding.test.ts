import { createServer, type Server, type TLSSocket, connect as tlsConnect } from "node:tls";
import { systemClock, toHex } from "@contrast/core";
import { expectCode } from "@contrast/testkit";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  atlsChannelCredentials,
  CHANNEL_BINDING_BYTES,
  CHANNEL_BINDING_LABEL,
  channelBinding,
  createAtlsCertificate,
  createAtlsServer,
} from "../src/index.js";
import { ECHO, EchoClient, echo, issuer, random, verifyOptions } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A plain TLS pair on loopback, limited to `version`; resolves with both ends. */
async function tlsPair(version: "TLSv1.2" | "TLSv1.3"): Promise<{ server: TLSSocket; client: TLSSocket }> {
  const own = await createAtlsCertificate({ clock: systemClock, random });
  const server: Server = createServer({ key: own.keyPem, cert: own.certificatePem, maxVersion: version });
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const accepted = new Promise<TLSSocket>((resolve) => server.once("secureConnection", resolve));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const client = await new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false, maxVersion: version }, () => resolve(s));
    s.once("error", reject);
  });
  const serverEnd = await accepted;
  cleanups.push(() => {
    client.destroy();
    serverEnd.destroy();
  });
  return { server: serverEnd, client };
}

describe("channelBinding", () => {
  it("is the same 32 bytes at both ends of a TLS 1.3 connection, and differs between connections", async () => {
    const a = await tlsPair("TLSv1.3");
    const b = await tlsPair("TLSv1.3");
    const aClient = channelBinding(a.client);
    expect(aClient).toHaveLength(CHANNEL_BINDING_BYTES);
    expect(toHex(channelBinding(a.server))).toBe(toHex(aClient));
    // It is the RFC 5705 exporter with our label and an empty context, nothing else.
    expect(toHex(aClient)).toBe(toHex(a.client.exportKeyingMaterial(32, CHANNEL_BINDING_LABEL, Buffer.alloc(0))));
    expect(toHex(aClient)).not.toBe(toHex(a.client.exportKeyingMaterial(32, "EXPORTER-other", Buffer.alloc(0))));
    expect(toHex(channelBinding(b.client))).not.toBe(toHex(aClient));
    expect(toHex(channelBinding(b.server))).not.toBe(toHex(channelBinding(a.server)));
  });

  it("refuses a TLS 1.2 connection at both ends (ATLS_CHANNEL_BINDING_UNAVAILABLE)", async () => {
    const { server, client } = await tlsPair("TLSv1.2");
    expect(client.getProtocol()).toBe("TLSv1.2");
    expectCode(() => channelBinding(client), "ATLS_CHANNEL_BINDING_UNAVAILABLE", "crypto");
    expectCode(() => channelBinding(server), "ATLS_CHANNEL_BINDING_UNAVAILABLE", "crypto");
  });

  it("reads a connection's exporter once and hands each caller its own copy", () => {
    let reads = 0;
    const connection = {
      getProtocol: () => "TLSv1.3",
      exportKeyingMaterial: (length: number) => {
        reads++;
        return new Uint8Array(length).fill(7);
      },
    };
    const first = channelBinding(connection);
    first.fill(0);
    const second = channelBinding(connection);
    expect(toHex(second)).toBe("07".repeat(32));
    expect(second).not.toBe(first);
    expect(reads).toBe(1);
    // Another connection is read on its own.
    channelBinding({ ...connection });
    expect(reads).toBe(2);
  });

  it("refuses a connection without a negotiated protocol", () => {
    const notYet = { getProtocol: () => null, exportKeyingMaterial: () => new Uint8Array(32) };
    expectCode(() => channelBinding(notYet), "ATLS_CHANNEL_BINDING_UNAVAILABLE");
  });
});

describe("the aTLS client credentials' channel binding", () => {
  it("is the exporter the server's peer of the same connection gives; another client's differs", async () => {
    const grpcServer = new grpc.Server();
    const atls = createAtlsServer({ issuer: issuer(), clock: systemClock, random });
    const protocols: (string | null)[] = [];
    grpcServer.addService(ECHO, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const peer = atls.peerOf(call);
        protocols.push(peer?.getProtocol() ?? null);
        cb(null, Buffer.from(toHex(peer === undefined ? new Uint8Array(0) : channelBinding(peer))));
      },
    });
    atls.attach(grpcServer);
    const port = await atls.listen(0, "127.0.0.1");
    cleanups.push(async () => {
      grpcServer.forceShutdown();
      await atls.close({ force: true });
    });

    const bindings: string[] = [];
    for (let i = 0; i < 2; i++) {
      const credentials = atlsChannelCredentials({ verify: verifyOptions(systemClock), random });
      expectCode(() => credentials.channelBinding(), "ATLS_CHANNEL_BINDING_UNAVAILABLE");
      const client = new EchoClient(`127.0.0.1:${port}`, credentials);
      try {
        await new Promise<void>((resolve, reject) =>
          client.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())),
        );
        const before = toHex(credentials.channelBinding());
        const serverSide = (await echo(client, Buffer.from("x"))).toString();
        expect(serverSide).toBe(before);
        bindings.push(before);
      } finally {
        client.close();
      }
    }
    expect(protocols).toEqual(["TLSv1.3", "TLSv1.3"]);
    expect(bindings[0]).not.toBe(bindings[1]);
  });
});
