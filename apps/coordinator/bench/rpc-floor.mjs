// The Coordinator's CPU per mesh API call when the call itself does almost nothing: BENCH_CLIENTS
// (default 500) aTLS connections, each asking NewAttestationNonce BENCH_ROUNDS times (default 8),
// against the built Coordinator on the simulated TEE. NewAttestationNonce costs ~0.05 ms in the
// library (issue-path.mjs), so the figure is the floor that TLS, HTTP/2, grpc-js, protobuf and the
// staleness read put under every NewMeshCert; mesh-cert.mjs's CPU per certificate minus this floor
// is what the certificate itself costs inside the running Coordinator.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ecKey, loadSim, meshClient, setManifestRequest, userClient } from "./client.mjs";
import { startCoordinator } from "./process.mjs";

const clients = Number(process.env.BENCH_CLIENTS ?? 500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const dir = mkdtempSync(join(tmpdir(), "coordinator-rpc-floor-"));
// As in mesh-cert.mjs: NODE_PROFILE_DIR for a CPU profile, BENCH_COORDINATOR_NODE_OPTIONS.
const profileDir = process.env.NODE_PROFILE_DIR;
const nodeOptions = process.env.BENCH_COORDINATOR_NODE_OPTIONS;
const c = await startCoordinator(
  ["--platform", "sim", "--state-dir", join(dir, "state"), "--sim-dir", join(dir, "sim")],
  {
    ...(profileDir ? { NODE_PROFILE_DIR: profileDir } : {}),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  },
);
const cpuSeconds = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
try {
  const authority = await loadSim(join(dir, "sim"));
  const owner = ecKey("P-384");
  const user = userClient(c.userApiPort, authority, owner);
  await user.setManifest(
    setManifestRequest({ authority, workloads: { web: { WorkloadSecretID: "web" } }, owners: [owner] }),
  );
  user.close();
  const conns = Array.from({ length: clients }, () => meshClient(c.meshApiPort, authority, ecKey()));
  await Promise.all(conns.map((m) => m.channelBinding()));
  let failures = 0;
  const t = performance.now();
  const before = cpuSeconds(c.proc.pid);
  await Promise.all(
    conns.map(async (m) => {
      for (let r = 0; r < rounds; r++) await m.newAttestationNonce({}).catch(() => failures++);
    }),
  );
  const cpu = cpuSeconds(c.proc.pid) - before;
  const elapsed = (performance.now() - t) / 1000;
  const calls = clients * rounds - failures;
  for (const m of conns) m.close();
  console.log(
    `NewAttestationNonce, ${clients} aTLS connections x ${rounds}: ${(calls / elapsed).toFixed(0)} calls/s, Coordinator CPU ${((cpu / calls) * 1000).toFixed(3)} ms per call (${cpu.toFixed(2)} CPU s for ${calls} calls), ${failures} failures`,
  );
  console.log(
    `BENCH coordinator.rpc_floor per_s=${(calls / elapsed).toFixed(0)} cpu_ms_per_call=${((cpu / calls) * 1000).toFixed(3)} failures=${failures}`,
  );
  if (failures > 0) process.exitCode = 1;
} finally {
  c.proc.kill(profileDir ? "SIGTERM" : "SIGKILL");
  await c.exited;
  rmSync(dir, { recursive: true, force: true });
}
