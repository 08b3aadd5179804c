import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex, systemClock, toHex } from "@contrast/core";
import { childEnv } from "@contrast/testkit";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AtlsPeer, createAtlsServer, reportData, verifyEvidence } from "../src/index.js";
import { ECHO, issuer, POLICY_HASH, random, verifyOptions } from "./helpers.js";

// Go's standard library plays upstream's initializer (test/go/client.go): evidence in its client
// certificate, bound to the server nonce from the CertificateRequest.
const hasGo = (() => {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const scratch = mkdtempSync(join(tmpdir(), "atls-go-"));
const binary = join(scratch, "client");

beforeAll(() => {
  if (!hasGo) return;
  execFileSync("go", ["build", "-o", binary, join(__dirname, "go", "client.go")], {
    env: { ...childEnv(), GOCACHE: join(tmpdir(), "contrast-atls-gocache"), GOFLAGS: "", GO111MODULE: "off" },
    cwd: scratch,
    stdio: "ignore",
    timeout: 120_000,
  });
}, 180_000);

const stops: (() => void)[] = [];
afterAll(() => {
  for (const s of stops) s();
});

function run(args: string[]): Promise<{ out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { env: childEnv(), timeout: 30_000 }, (_e, out, err) => resolve({ out, err }));
  });
}

// Go is part of this project's toolchain (toolchain notes); without it there is no Go client.
describe.skipIf(!hasGo)("an upstream-style Go client attesting in its certificate", () => {
  it("gets through, and the handler verifies its handshake evidence for the server nonce", async () => {
    // The test's "TEE": issues simulated evidence for the report data the Go client asks for.
    const issuing = createHttpServer((req, res) => {
      const rd = new URL(req.url ?? "/", "http://x").searchParams.get("rd") ?? "";
      issuer()
        .issue(fromHex(rd, 64))
        .then((doc) => res.end(Buffer.from(doc)));
    });
    await new Promise<void>((r) => issuing.listen(0, "127.0.0.1", r));
    stops.push(() => issuing.close());
    const issuePort = (issuing.address() as { port: number }).port;

    const peers: (AtlsPeer | undefined)[] = [];
    const grpcServer = new grpc.Server();
    const atls = createAtlsServer({
      issuer: issuer(),
      clock: systemClock,
      random,
      serverNonceInCertificateRequest: true,
    });
    grpcServer.addService(ECHO, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        peers.push(atls.peerOf(call));
        cb(null, Buffer.concat([Buffer.from("echo:"), call.request]));
      },
    });
    atls.attach(grpcServer);
    const port = await atls.listen(0, "127.0.0.1");
    stops.push(() => {
      grpcServer.forceShutdown();
      void atls.close({ force: true });
    });

    const { out, err } = await run([`127.0.0.1:${port}`, `http://127.0.0.1:${issuePort}/`]);
    expect(out.trim()).toBe("proto HTTP/2.0 status 0 message echo:from go");
    const h = peers[0]?.handshakeEvidence;
    expect(h?.oid).toBe("1.3.9901.2.1");
    // The evidence is bound to the server nonce the Go client read from the CertificateRequest.
    const nonce = /server nonce ([0-9a-f]{64})/.exec(err)?.[1] as string;
    expect(toHex(reportData(peers[0]?.publicKeyDer as Uint8Array, fromHex(nonce, 32)))).toBe(
      toHex(h?.reportData as Uint8Array),
    );
    const v = await verifyEvidence({
      oid: h?.oid as string,
      evidence: h?.evidence as Uint8Array,
      reportData: h?.reportData as Uint8Array,
      referenceValues: verifyOptions(systemClock).referenceValues,
      allowedHostData: [toHex(POLICY_HASH)],
      now: new Date(),
    });
    expect(v.platform).toBe("sim");
    expect(toHex(v.reportData)).toBe(toHex(h?.reportData as Uint8Array));
  }, 60_000);
});
