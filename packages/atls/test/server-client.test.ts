import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { sha256, systemClock, toHex } from "@contrast/core";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type AtlsPeer, type AtlsServer, atlsChannelCredentials, createAtlsServer } from "../src/index.js";
import { ECHO, EchoClient, echo, issuer, POLICY_HASH, random, verifyOptions } from "./helpers.js";

interface Running {
  atls: AtlsServer;
  grpcServer: grpc.Server;
  port: number;
  peers: (AtlsPeer | undefined)[];
  calls: number;
}

const running: Running[] = [];
const clients: grpc.Client[] = [];

async function start(opts: Partial<Parameters<typeof createAtlsServer>[0]> = {}): Promise<Running> {
  const grpcServer = new grpc.Server();
  const atls = createAtlsServer({ issuer: issuer(), clock: systemClock, random, handshakeTimeoutMs: 5000, ...opts });
  const r: Running = { atls, grpcServer, port: 0, peers: [], calls: 0 };
  grpcServer.addService(ECHO, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      r.calls++;
      r.peers.push(atls.peerOf(call));
      cb(null, Buffer.concat([Buffer.from("echo:"), call.request]));
    },
  });
  atls.attach(grpcServer);
  r.port = await atls.listen(0, "127.0.0.1");
  running.push(r);
  return r;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of running.splice(0)) {
    r.grpcServer.forceShutdown();
    await r.atls.close({ force: true });
  }
});

describe("aTLS server and grpc-js client credentials", () => {
  it("a verified server answers, and the handler sees the client certificate's key", async () => {
    const r = await start();
    const clientKey = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey;
    let verifiedHostData = "";
    const creds = atlsChannelCredentials({
      verify: verifyOptions(systemClock),
      clientKey,
      random,
      onVerified: (s) => {
        verifiedHostData = toHex(s.evidence.hostData);
      },
    });
    const client = new EchoClient(`127.0.0.1:${r.port}`, creds);
    clients.push(client);
    expect((await echo(client, Buffer.from("hi"))).toString()).toBe("echo:hi");
    expect(verifiedHostData).toBe(toHex(POLICY_HASH));
    const peer = r.peers[0];
    expect(peer?.publicKeyDer).toBeDefined();
    const spki = new Uint8Array(createPublicKey(clientKey).export({ type: "spki", format: "der" }));
    expect(toHex(sha256(peer?.publicKeyDer as Uint8Array))).toBe(toHex(sha256(spki)));
  });

  it.each([
    ["RSA-3072 (seed-share owner)", () => generateKeyPairSync("rsa", { modulusLength: 3072 }).privateKey],
    ["P-256 (mesh key)", () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey],
  ])("a %s client key is what the handler sees", async (_, make) => {
    const r = await start();
    const clientKey = make();
    const client = new EchoClient(
      `127.0.0.1:${r.port}`,
      atlsChannelCredentials({ verify: verifyOptions(systemClock), clientKey, random }),
    );
    clients.push(client);
    await echo(client, Buffer.from("k"));
    const spki = new Uint8Array(createPublicKey(clientKey).export({ type: "spki", format: "der" }));
    expect(toHex(r.peers[0]?.publicKeyDer as Uint8Array)).toBe(toHex(spki));
  });

  it("one channel makes a fresh, verified connection after the server drops it", async () => {
    const r = await start();
    const creds = atlsChannelCredentials({ verify: verifyOptions(systemClock), random });
    const client = new EchoClient(`127.0.0.1:${r.port}`, creds);
    clients.push(client);
    await echo(client, Buffer.from("1"));
    r.grpcServer.forceShutdown();
    await r.atls.close({ force: true });
    running.splice(running.indexOf(r), 1);
    // A new server on the same port: the channel reconnects and verifies it anew.
    const grpcServer = new grpc.Server();
    const again = createAtlsServer({ issuer: issuer(), clock: systemClock, random });
    grpcServer.addService(ECHO, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
    });
    again.attach(grpcServer);
    await again.listen(r.port, "127.0.0.1");
    running.push({ atls: again, grpcServer, port: r.port, peers: [], calls: 0 });
    let answer: Buffer | undefined;
    for (let i = 0; i < 20 && answer === undefined; i++) {
      answer = await echo(client, Buffer.from("2"), 2000).catch(() => undefined);
    }
    expect(answer?.toString()).toBe("2");
  });
});
