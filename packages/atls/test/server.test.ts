import { spawn } from "node:child_process";
import { connect as netConnect, type Socket } from "node:net";
import { decodePem, systemClock, toBase64, toHex } from "@contrast/core";
import { childEnv } from "@contrast/testkit";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AtlsErrorCode,
  type AtlsPeer,
  type AtlsServer,
  type AtlsServerOptions,
  atlsChannelCredentials,
  createAtlsCertificate,
  createAtlsServer,
  verifyAtlsCertificate,
} from "../src/index.js";
import { ECHO, EchoClient, echo, issuer, POLICY_HASH, random, verifyOptions } from "./helpers.js";

interface Running {
  atls: AtlsServer;
  grpcServer: grpc.Server;
  port: number;
  peers: (AtlsPeer | undefined)[];
  keyingMaterial: number[];
  failures: AtlsErrorCode[];
}

const running: Running[] = [];
const cleanups: (() => void)[] = [];

async function start(opts: Partial<AtlsServerOptions> = {}): Promise<Running> {
  const grpcServer = new grpc.Server();
  const failures: AtlsErrorCode[] = [];
  const atls = createAtlsServer({
    issuer: issuer(),
    clock: systemClock,
    random,
    handshakeTimeoutMs: 5000,
    onHandshakeFailure: (code) => failures.push(code),
    ...opts,
  });
  const r: Running = { atls, grpcServer, port: 0, peers: [], keyingMaterial: [], failures };
  grpcServer.addService(ECHO, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      r.peers.push(atls.peerOf(call));
      r.keyingMaterial.push(atls.peerOf(call)?.exportKeyingMaterial(32, "EXPORTER-test").length ?? 0);
      cb(null, Buffer.concat([Buffer.from("echo:"), call.request]));
    },
  });
  atls.attach(grpcServer);
  r.port = await atls.listen(0, "127.0.0.1");
  running.push(r);
  return r;
}

afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  for (const r of running.splice(0)) {
    r.grpcServer.forceShutdown();
    await r.atls.close({ force: true });
  }
});

/** The real openssl client, run asynchronously (the server lives in this process). */
function sClient(args: readonly string[], timeoutMs = 10_000): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const p = spawn("openssl", ["s_client", ...args], { env: childEnv(), stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.stdin.end();
    const t = setTimeout(() => p.kill(), timeoutMs);
    p.on("close", (code) => {
      clearTimeout(t);
      resolve({ out, code });
    });
  });
}

async function goodCall(r: Running): Promise<void> {
  const client = new EchoClient(
    `127.0.0.1:${r.port}`,
    atlsChannelCredentials({ verify: verifyOptions(systemClock), random }),
  );
  try {
    expect((await echo(client, Buffer.from("ok"))).toString()).toBe("echo:ok");
  } finally {
    client.close();
  }
}

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: "127.0.0.1" }, () => resolve(s));
    s.on("error", reject);
    cleanups.push(() => s.destroy());
  });
}

const closed = (s: Socket) =>
  new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once("close", () => resolve())));

describe("openssl s_client against the aTLS server", () => {
  for (const variant of ["SNI (v1.5 clients)", "ALPN (newer clients)"] as const) {
    it(`gets a certificate whose evidence verifies for the nonce sent in ${variant}`, async () => {
      const r = await start({ requestClientCert: false });
      const nonce = random(32);
      const args =
        variant === "SNI (v1.5 clients)"
          ? ["-servername", toBase64(nonce), "-alpn", "h2"]
          : ["-noservername", "-alpn", `atls:v1:nonce:${toHex(nonce)},h2`];
      const { out } = await sClient(["-connect", `127.0.0.1:${r.port}`, "-showcerts", ...args]);
      expect(out).toContain("ALPN protocol: h2");
      const der = decodePem(out).find((b) => b.type === "CERTIFICATE")?.der;
      const peer = await verifyAtlsCertificate(der, nonce, verifyOptions(systemClock));
      expect(toHex(peer.evidence.hostData)).toBe(toHex(POLICY_HASH));
      // ... and the same certificate does not verify for another nonce.
      await expect(verifyAtlsCertificate(der, random(32), verifyOptions(systemClock))).rejects.toMatchObject({
        code: "ATLS_REPORT_DATA_MISMATCH",
      });
    });
  }

  it("an atls ALPN entry of another version wins over a valid SNI nonce and fails the handshake", async () => {
    const r = await start();
    const nonce = random(32);
    const { out } = await sClient([
      "-connect",
      `127.0.0.1:${r.port}`,
      "-servername",
      toBase64(nonce),
      "-alpn",
      `atls:v2:nonce:${toHex(nonce)},h2`,
    ]);
    expect(out).not.toContain("BEGIN CERTIFICATE");
    expect(r.failures).toContain("ATLS_VERSION_UNSUPPORTED");
    await goodCall(r);
  });

  it("a client with no nonce at all is refused (ATLS_NONCE_MISSING)", async () => {
    const r = await start();
    await sClient(["-connect", `127.0.0.1:${r.port}`, "-noservername", "-alpn", "h2"]);
    expect(r.failures).toContain("ATLS_NONCE_MISSING");
  });

  it("puts the server nonce into the CertificateRequest's acceptable CA names when asked", async () => {
    const r = await start({ serverNonceInCertificateRequest: true });
    const { out } = await sClient([
      "-connect",
      `127.0.0.1:${r.port}`,
      "-servername",
      toBase64(random(32)),
      "-alpn",
      "h2",
    ]);
    const m = /Acceptable client certificate CA names\s*\n\s*CN\s*=\s*"?([A-Za-z0-9+/=]+)"?/.exec(out);
    expect(m?.[1]).toHaveLength(44);
    expect(Buffer.from(m?.[1] as string, "base64")).toHaveLength(32);
  });
});

describe("the aTLS server under bad input stays up", () => {
  it("garbage bytes: the socket is closed with ATLS_CLIENT_HELLO_MALFORMED", async () => {
    const r = await start();
    const s = await rawConnect(r.port);
    s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await closed(s);
    expect(r.failures).toEqual(["ATLS_CLIENT_HELLO_MALFORMED"]);
    await goodCall(r);
  });

  it("an oversized ClientHello is refused after at most the limit (ATLS_CLIENT_HELLO_TOO_LARGE)", async () => {
    const r = await start({ maxClientHelloBytes: 4096 });
    const s = await rawConnect(r.port);
    // A handshake record announcing a 1 MiB ClientHello.
    s.write(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x10, 0x00, 0x00]));
    await closed(s);
    expect(r.failures).toEqual(["ATLS_CLIENT_HELLO_TOO_LARGE"]);
    await goodCall(r);
  });

  it("a slow client that sends nothing is disconnected at the handshake timeout", async () => {
    const r = await start({ handshakeTimeoutMs: 300 });
    const s = await rawConnect(r.port);
    s.write(Buffer.from([0x16, 0x03, 0x01])); // half a record header, then silence
    await closed(s);
    expect(r.failures).toEqual(["ATLS_HANDSHAKE_TIMEOUT"]);
    expect(r.atls.handshaking).toBe(0);
    await goodCall(r);
  });

  it("respects the cap on concurrent handshakes, and serves again once they end", async () => {
    const r = await start({ maxConcurrentHandshakes: 2, handshakeTimeoutMs: 60_000 });
    const idle = [await rawConnect(r.port), await rawConnect(r.port)];
    await new Promise((res) => setTimeout(res, 100));
    expect(r.atls.handshaking).toBe(2);
    const third = await rawConnect(r.port);
    await closed(third);
    expect(r.failures).toEqual(["ATLS_HANDSHAKE_LIMIT"]);
    for (const s of idle) s.destroy();
    await Promise.all(idle.map(closed));
    await new Promise((res) => setTimeout(res, 100));
    expect(r.atls.handshaking).toBe(0);
    await goodCall(r);
  });

  it("a client that closes mid-handshake is counted and forgotten", async () => {
    const r = await start();
    const s = await rawConnect(r.port);
    s.end();
    await closed(s);
    await new Promise((res) => setTimeout(res, 100));
    expect(r.failures).toEqual(["ATLS_HANDSHAKE_FAILED"]);
    expect(r.atls.handshaking).toBe(0);
  });
});

describe("attaching", () => {
  it("takes a connection injector made by the caller as well as a grpc-js server", async () => {
    const grpcServer = new grpc.Server();
    grpcServer.addService(ECHO, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
    });
    const atls = createAtlsServer({ issuer: issuer(), clock: systemClock, random });
    atls.attach(grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
    const r: Running = {
      atls,
      grpcServer,
      port: await atls.listen(0, "127.0.0.1"),
      peers: [],
      keyingMaterial: [],
      failures: [],
    };
    running.push(r);
    const client = new EchoClient(
      `127.0.0.1:${r.port}`,
      atlsChannelCredentials({ verify: verifyOptions(systemClock), random }),
    );
    cleanups.push(() => client.close());
    expect((await echo(client, Buffer.from("inj"))).toString()).toBe("inj");
  });

  it("refuses connections until attached", async () => {
    const atls = createAtlsServer({ issuer: issuer(), clock: systemClock, random });
    const port = await atls.listen(0, "127.0.0.1");
    running.push({ atls, grpcServer: new grpc.Server(), port, peers: [], keyingMaterial: [], failures: [] });
    const s = await rawConnect(port);
    await closed(s);
  });
});

describe("client certificates", () => {
  it("are used for their key only: an expired certificate from another issuer still names its key", async () => {
    const { connect: tlsConnect } = await import("node:tls");
    const { connect: h2Connect } = await import("node:http2");
    const r = await start();
    // A certificate that expired a day ago, issued by "someone else" (not self-signed).
    const past = { now: () => new Date(Date.now() - 86_400_000) };
    const issuerCert = await createAtlsCertificate({ clock: past, random });
    const own = await createAtlsCertificate({ clock: past, random });
    const { signCertificate, ecdsaSigner, derCommonNameName } = await import("@contrast/x509");
    const der = signCertificate({
      serial: 7,
      signer: ecdsaSigner(issuerCert.privateKey),
      issuer: derCommonNameName("someone else"),
      subject: derCommonNameName("client"),
      notBefore: new Date(Date.now() - 2 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
      subjectPublicKeyInfo: own.publicKeyDer,
    });
    const { encodePem } = await import("@contrast/core");
    const socket = tlsConnect({
      port: r.port,
      host: "127.0.0.1",
      servername: toBase64(random(32)),
      ALPNProtocols: ["h2"],
      key: own.keyPem,
      cert: encodePem("CERTIFICATE", der),
      rejectUnauthorized: false,
    });
    const session = h2Connect(`https://127.0.0.1:${r.port}`, { createConnection: () => socket });
    cleanups.push(() => session.destroy());
    const req = session.request({
      ":method": "POST",
      ":path": "/atls.test.Echo/Echo",
      "content-type": "application/grpc",
      te: "trailers",
    });
    req.end(Buffer.from([0, 0, 0, 0, 2, 0x68, 0x69]));
    const body = await new Promise<Buffer>((resolve) => {
      const parts: Buffer[] = [];
      req.on("data", (d: Buffer) => parts.push(d));
      req.on("end", () => resolve(Buffer.concat(parts)));
    });
    expect(body.subarray(5).toString()).toBe("echo:hi");
    expect(toHex(r.peers[0]?.publicKeyDer as Uint8Array)).toBe(toHex(own.publicKeyDer));
    expect(r.failures).toEqual([]);
  });
});

describe("a failing TEE", () => {
  it("is reported as ATLS_ISSUER_FAILED, the client refuses, and the server stays up", async () => {
    let broken = true;
    const good = issuer();
    const r = await start({
      issuer: {
        platform: "snp",
        oid: good.oid,
        issue: async (rd) => {
          if (broken) throw new Error("sev-guest: firmware busy");
          return good.issue(rd);
        },
      },
    });
    const client = new EchoClient(
      `127.0.0.1:${r.port}`,
      atlsChannelCredentials({ verify: verifyOptions(systemClock), random }),
    );
    cleanups.push(() => client.close());
    await expect(echo(client, Buffer.from("x"), 1500)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(r.failures).toContain("ATLS_ISSUER_FAILED");
    broken = false;
    await goodCall(r);
  });
});

describe("peers as handlers see them", () => {
  it("the handler's peer is the live connection's client certificate, and is forgotten when it closes", async () => {
    // The good path also pins the `secureConnecting = false` workaround: without it, grpc-js's
    // http2 server waits forever for a 'secureConnect' that a server-side socket never emits.
    const r = await start();
    await goodCall(r);
    await goodCall(r);
    expect(r.peers).toHaveLength(2);
    expect(r.peers[0]?.publicKeyDer).toBeDefined();
    // Two connections, two fresh client keys (no clientKey given).
    expect(toHex(r.peers[0]?.publicKeyDer as Uint8Array)).not.toBe(toHex(r.peers[1]?.publicKeyDer as Uint8Array));
    expect(r.keyingMaterial).toEqual([32, 32]);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.atls.peerOf({ getPeer: () => r.peers[0]?.address as string })).toBeUndefined();
  });
});
