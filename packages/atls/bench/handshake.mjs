// aTLS handshakes with simulated evidence: server (per-connection key, certificate and evidence)
// and verifying client in one process, as many connections at once as BENCH_CONCURRENCY (500).
// Anchors, measured in the same run: plain Node TLS handshakes with client certificates (same
// concurrency, same process), and 1 / (P-384 sign + P-384 verify) from `openssl speed`, the two
// operations aTLS adds that no implementation can avoid (the TEE signs, the client verifies).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer as createTlsServer, connect as tlsConnect } from "node:tls";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { fromHex, sha256, systemClock, toHex } from "@contrast/core";
import { SIM_TRUSTED_MEASUREMENT, simReferenceValues } from "@contrast/manifest";
import * as grpc from "@grpc/grpc-js";
import { atlsConnect, createAtlsCertificate, createAtlsServer, EvidenceCache, simIssuer } from "../dist/index.js";

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 500);
const total = Number(process.env.BENCH_HANDSHAKES ?? 2000);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const random = (n) => new Uint8Array(randomBytes(n));

// A connection that never settles would hang `pnpm bench` (and CI's smoke run) for good: fail loudly instead.
const watchdog = Number(process.env.BENCH_TIMEOUT_S ?? 300);
setTimeout(() => {
  console.error(`atls bench: not finished after ${watchdog} s; giving up`);
  process.exit(1);
}, watchdog * 1000).unref();

function opensslRates(alg) {
  const out = execFileSync("openssl", ["speed", "-seconds", String(seconds), alg], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const row = out.split("\n").find((l) => /bits ecdsa/.test(l));
  const [sign, verify] = row.trim().split(/\s+/).slice(-2).map(Number);
  return { sign, verify };
}

const authority = createSimulatedAuthority({ clock: systemClock });
const hostData = sha256(new TextEncoder().encode("bench policy"));
const issuer = simIssuer(authority, { measurement: fromHex(SIM_TRUSTED_MEASUREMENT, 48), hostData });
const server = createAtlsServer({
  issuer,
  clock: systemClock,
  random,
  maxConcurrentHandshakes: concurrency * 2,
  handshakeTimeoutMs: 120_000,
});
server.attach(new grpc.Server());
const port = await server.listen(0, "127.0.0.1");
const verify = {
  referenceValues: { sim: [simReferenceValues(authority.arkKeyDigest)] },
  allowedHostData: [toHex(hostData)],
  clock: systemClock,
  cache: new EvidenceCache(),
};

let latencies = [];
let failures = 0;
let next = 0;
async function run(connectOnce) {
  const worker = async () => {
    while (next < total) {
      next++;
      const t = performance.now();
      try {
        (await connectOnce()).destroy();
        latencies.push(performance.now() - t);
      } catch {
        failures++;
      }
    }
  };
  latencies = [];
  next = total - 20; // warm-up
  await Promise.all(Array.from({ length: 20 }, worker));
  latencies = [];
  failures = 0;
  next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - start) / 1000;
}

const elapsed = await run(
  async () => (await atlsConnect("127.0.0.1", port, { verify, random, handshakeTimeoutMs: 120_000 })).socket,
);
await server.close({ force: true });
const atlsLatencies = latencies;
const atlsFailures = failures;

// Plain TLS: a fixed self-signed certificate on both sides, no evidence.
const own = await createAtlsCertificate({ clock: systemClock, random });
const plain = createTlsServer(
  { key: own.keyPem, cert: own.certificatePem, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ["h2"] },
  (s) => s.on("error", () => {}),
);
await new Promise((r) => plain.listen(0, "127.0.0.1", r));
const plainPort = plain.address().port;
const plainElapsed = await run(
  () =>
    new Promise((resolve, reject) => {
      const c = tlsConnect(
        {
          port: plainPort,
          host: "127.0.0.1",
          rejectUnauthorized: false,
          ALPNProtocols: ["h2"],
          key: own.keyPem,
          cert: own.certificatePem,
        },
        () => resolve(c),
      );
      c.on("error", reject);
      // A socket the server drops before the handshake ends closes without "error" on some paths.
      c.on("close", () => reject(new Error("closed before the handshake completed")));
      c.setTimeout(120_000, () => c.destroy(new Error("handshake timeout")));
    }),
);
const plainRate = latencies.length / plainElapsed;
plain.close();
latencies = atlsLatencies;
failures = atlsFailures;

const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const rate = latencies.length / elapsed;
const p384 = opensslRates("ecdsap384");
const anchor = 1 / (1 / p384.sign + 1 / p384.verify);
console.log(`aTLS handshakes (sim evidence, server and client in one process): node ${process.version}`);
console.log(
  `  ${latencies.length} handshakes, ${concurrency} at once: ${rate.toFixed(0)} /s, p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, failures ${failures}`,
);
console.log(
  `  anchor: plain Node TLS with client certificates, same setting: ${plainRate.toFixed(0)} /s (${(rate / plainRate).toFixed(2)}x)`,
);
console.log(
  `  anchor: 1/(openssl P-384 sign + verify): ${anchor.toFixed(0)} /s (sign ${p384.sign}, verify ${p384.verify}) (${(rate / anchor).toFixed(2)}x)`,
);
console.log(
  `BENCH atls-handshake rate=${rate.toFixed(1)} anchor=${plainRate.toFixed(1)} ratio=${(rate / plainRate).toFixed(3)} failures=${failures}`,
);
if (failures > 0) process.exitCode = 1;
