// NewMeshCert throughput of the built Coordinator on the simulated TEE, with BENCH_CLIENTS
// (default 500) concurrent clients, each on its own aTLS connection with its own mesh key: every
// client issues simulated evidence for its key and its connection's TLS exporter and asks for its
// certificate in one NewMeshCert (the product's flow, docs/atls.md "Channel binding"),
// BENCH_ROUNDS times (default 4). BENCH_FLOW=nonce runs the older two-call flow instead (a nonce
// from NewAttestationNonce first, then NewMeshCert with evidence for it), for comparison.
// Reported: certificates/s, p50/p99 of one certificate's round trip(s), failures (must be 0),
// and the ratio to the anchor, one P-384
// signature plus one verification per core from `openssl speed ecdsap384` in the same run
// (target >= 0.5). The Coordinator runs in its own process; the clients share this one.
// BENCH_EVIDENCE: "per-connection" (the default) has each client issue its simulated evidence once,
// after connecting and before the measured window, and send it in every round on that connection
// (the exporter binds it to the connection; the Coordinator verifies it in full at every call, it
// keeps no verdicts). In a cluster the evidence comes from each workload's own TEE, on other
// machines; "per-call" issues it inside the window, as before, so the clients' P-384 signatures
// compete with the Coordinator for this machine's two cores. The nonce flow is always per call.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { opensslP384Anchor } from "./anchor.mjs";
import {
  ecKey,
  exporterMeshCertRequest,
  loadSim,
  meshClient,
  requestMeshCert,
  setManifestRequest,
  userClient,
} from "./client.mjs";
import { imageNode, nodeVersion, startCoordinator } from "./process.mjs";

const clients = Number(process.env.BENCH_CLIENTS ?? 500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const flow = process.env.BENCH_FLOW ?? "tls-exporter";
if (flow !== "tls-exporter" && flow !== "nonce")
  throw new Error(`BENCH_FLOW must be tls-exporter or nonce, not ${flow}`);
const evidenceMode = flow === "nonce" ? "per-call" : (process.env.BENCH_EVIDENCE ?? "per-connection");
if (evidenceMode !== "per-connection" && evidenceMode !== "per-call")
  throw new Error(`BENCH_EVIDENCE must be per-connection or per-call, not ${evidenceMode}`);

// A call that never settles would hang `pnpm bench` (and CI's smoke run) for good: fail loudly,
// and take the Coordinator process down with us.
const watchdog = Number(process.env.BENCH_TIMEOUT_S ?? 300);
setTimeout(() => {
  console.error(`coordinator bench: not finished after ${watchdog} s; giving up`);
  c?.proc?.kill("SIGKILL");
  process.exit(1);
}, watchdog * 1000).unref();

const dir = mkdtempSync(join(tmpdir(), "coordinator-bench-"));
const args = ["--platform", "sim", "--state-dir", join(dir, "state"), "--sim-dir", join(dir, "sim")];
// NODE_PROFILE_DIR: the Coordinator writes a V8 CPU profile there (it needs a clean exit: SIGTERM).
const profileDir = process.env.NODE_PROFILE_DIR;
let c;
// BENCH_COORDINATOR_NODE_OPTIONS: NODE_OPTIONS for the Coordinator alone (e.g. a preload);
// BENCH_COORDINATOR_NODE_ARGS: node arguments before the bundle (V8 flags NODE_OPTIONS refuses).
const nodeOptions = process.env.BENCH_COORDINATOR_NODE_OPTIONS;
const nodeArgs = (process.env.BENCH_COORDINATOR_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
// The anchor is measured on both sides of the run and averaged: on a shared machine one
// `openssl speed` alone moved by up to 25 % between runs.
const anchorBefore = opensslP384Anchor(seconds);
const coordinatorNode = imageNode();
const coordinatorNodeVersion = nodeVersion(coordinatorNode);
c = await startCoordinator(
  args,
  {
    ...(profileDir ? { NODE_PROFILE_DIR: profileDir } : {}),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  },
  nodeArgs,
  coordinatorNode,
);
// CPU seconds (user + system) the Coordinator process has used, from /proc (clock ticks of 1/100 s
// on Linux): the clients share this machine's cores, so certificates per Coordinator CPU second is
// the per-core figure that compares with the per-core anchor.
const cpuTimes = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
try {
  const authority = await loadSim(join(dir, "sim"));
  const owner = ecKey("P-384");
  const user = userClient(c.userApiPort, authority, owner);
  await user.setManifest(
    setManifestRequest({ authority, workloads: { web: { WorkloadSecretID: "web" } }, owners: [owner] }),
  );
  user.close();

  // Connections first (each an aTLS handshake with the Coordinator's evidence verified), then the
  // certificate requests, so the figure is NewMeshCert and not connection setup.
  const keys = Array.from({ length: clients }, () => ecKey());
  const conns = keys.map((k) => meshClient(c.meshApiPort, authority, k));
  let t = performance.now();
  const connected = await Promise.allSettled(conns.map((m) => m.channelBinding()));
  const connectMs = performance.now() - t;
  const connectFailures = connected.filter((r) => r.status === "rejected").length;
  // A connection that failed above has no exporter: its rounds go the per-call way and count as
  // failures there, as every failed call does.
  const requests =
    evidenceMode === "per-connection"
      ? await Promise.all(
          conns.map((m, i) => exporterMeshCertRequest(m, authority, keys[i], "web").catch(() => undefined)),
        )
      : undefined;

  const latencies = [];
  let failures = 0;
  let firstFailure;
  t = performance.now();
  const cpuBefore = cpuTimes(c.proc.pid);
  const clientCpuBefore = process.cpuUsage();
  await Promise.all(
    conns.map(async (m, i) => {
      for (let r = 0; r < rounds; r++) {
        const s = performance.now();
        try {
          const request = requests?.[i];
          if (request !== undefined) await m.newMeshCert(request);
          else await requestMeshCert(m, authority, keys[i], "web", { binding: flow });
          latencies.push(performance.now() - s);
        } catch (e) {
          failures++;
          firstFailure ??= e;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t) / 1000;
  const cpuAfter = cpuTimes(c.proc.pid);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const clientCpuS = (clientCpu.user + clientCpu.system) / 1e6;
  const userCpu = cpuAfter.user - cpuBefore.user;
  const systemCpu = cpuAfter.system - cpuBefore.system;
  const coordinatorCpu = userCpu + systemCpu;
  const certsPerCpuS = latencies.length / coordinatorCpu;
  for (const m of conns) m.close();
  const certsPerS = latencies.length / elapsed;

  const anchorAfter = opensslP384Anchor(seconds);
  const anchor = {
    ...anchorAfter,
    sign: (anchorBefore.sign + anchorAfter.sign) / 2,
    verify: (anchorBefore.verify + anchorAfter.verify) / 2,
    signPlusVerifyPerS: (anchorBefore.signPlusVerifyPerS + anchorAfter.signPlusVerifyPerS) / 2,
  };
  const ratio = certsPerS / anchor.signPlusVerifyPerS;
  const ratioPerCore = certsPerCpuS / anchor.signPlusVerifyPerS;
  console.log(
    `NewMeshCert (${flow} binding, evidence issued ${evidenceMode}), simulated TEE, ${clients} concurrent aTLS connections x ${rounds} rounds; Coordinator on node ${coordinatorNodeVersion} (${coordinatorNode === process.execPath ? "this Node" : "the image's Node"}), clients on node ${process.version}, ${anchor.version}`,
  );
  console.log(
    `  connections (aTLS handshakes)                ${clients} in ${(connectMs / 1000).toFixed(2)} s, ${connectFailures} failed`,
  );
  console.log(
    `  certificates                                 ${certsPerS.toFixed(0).padStart(6)} /s   p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms (${flow === "nonce" ? "nonce + evidence + NewMeshCert" : "evidence + NewMeshCert"})`,
  );
  console.log(
    `  per Coordinator CPU second                   ${certsPerCpuS.toFixed(0).padStart(6)} /s   (${coordinatorCpu.toFixed(2)} CPU s for ${latencies.length} certificates, ${userCpu.toFixed(2)} user + ${systemCpu.toFixed(2)} system; the clients used ${clientCpuS.toFixed(2)} CPU s)`,
  );
  console.log(
    `  failures                                     ${failures}${firstFailure ? ` (first: ${firstFailure.code ?? ""} ${firstFailure.message})` : ""}`,
  );
  console.log(
    `  openssl speed ecdsap384 sign ${anchor.sign.toFixed(0)} /s, verify ${anchor.verify.toFixed(0)} /s: sign+verify ${anchor.signPlusVerifyPerS.toFixed(0)} /s per core (anchor; ${anchorBefore.signPlusVerifyPerS.toFixed(0)} before the run, ${anchorAfter.signPlusVerifyPerS.toFixed(0)} after)   ratio ${ratio.toFixed(2)} wall clock, ${ratioPerCore.toFixed(2)} per Coordinator core (target >= 0.5)`,
  );
  console.log(
    `BENCH coordinator.mesh_cert per_s=${certsPerS.toFixed(0)} p50_ms=${quantile(latencies, 0.5).toFixed(1)} p99_ms=${quantile(latencies, 0.99).toFixed(1)} failures=${failures + connectFailures} anchor_openssl_p384_sign_plus_verify_per_s=${anchor.signPlusVerifyPerS.toFixed(0)} ratio=${ratio.toFixed(2)} per_core_per_s=${certsPerCpuS.toFixed(0)} ratio_per_core=${ratioPerCore.toFixed(2)} flow=${flow} evidence=${evidenceMode} coordinator_node=${coordinatorNodeVersion}`,
  );
  if (failures + connectFailures > 0) process.exitCode = 1;
} finally {
  c.proc.kill(profileDir ? "SIGTERM" : "SIGKILL");
  await c.exited;
  rmSync(dir, { recursive: true, force: true });
}
