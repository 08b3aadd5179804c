// The Coordinator's per-certificate work without the transport: NewAttestationNonce and
// NewMeshCert of @contrast/coordinator called in-process (memory store, the program's evidence
// verifier with its EvidenceCache, simulated evidence made beforehand and not timed), so the CPU
// per certificate of the library path can be measured to a few microseconds, beside its two
// public-key operations timed alone: the P-384 signature of a leaf and the P-384 verification of
// a report. BENCH_CERTS (default 2000) per round, BENCH_ROUNDS (default 3); the median is printed.
// BENCH_STUB_CRYPTO=1 replaces node:crypto's sign and verify, once everything is set up, by stubs
// (a fixed signature; every verification true), so the rest is measured directly rather than as
// a difference of two noisy figures. Only for measuring: nothing the stubs pass is checked.
import { generateKeyPairSync, sign, verify } from "node:crypto";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { EvidenceCache, reportData, simIssuer, verifyEvidence } from "@contrast/atls";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { Coordinator, MemoryStore } from "@contrast/coordinator";
import { fromHex, noopLogger, systemClock } from "@contrast/core";
import { SIM_TRUSTED_MEASUREMENT } from "@contrast/manifest";
import { cryptoRandom, publicKeyDer } from "@contrast/mesh-pki";
import { policy, setManifestRequest } from "./client.mjs";

const certs = Number(process.env.BENCH_CERTS ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
// Policies in the manifest (the certificates all go to the first): real deployments list many.
const workloads = Number(process.env.BENCH_WORKLOADS ?? 1);

const authority = createSimulatedAuthority({ clock: systemClock });
const coordinator = await Coordinator.open({
  history: new MemoryStore(),
  clock: systemClock,
  random: cryptoRandom,
  // As the program's verifier does it (apps/coordinator/src/verifier.ts): one EvidenceCache.
  verifyEvidence: (
    (cache) => (request) =>
      verifyEvidence({ ...request, cache })
  )(new EvidenceCache()),
  logger: noopLogger,
});
const owner = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
await coordinator.setManifest(
  setManifestRequest({
    authority,
    workloads: Object.fromEntries([
      ["web", { WorkloadSecretID: "web" }],
      ...Array.from({ length: workloads - 1 }, (_, i) => [`workload-${i}`, { WorkloadSecretID: `workload-${i}` }]),
    ]),
    owners: [owner],
  }),
  { publicKeyDer: publicKeyDer(owner) },
);
const issuer = simIssuer(authority, {
  measurement: fromHex(SIM_TRUSTED_MEASUREMENT),
  hostData: fromHex(policy("web").hash),
});
const keys = Array.from({ length: 64 }, () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
const callers = keys.map((k) => ({ publicKeyDer: publicKeyDer(k) }));

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function round() {
  // Nonces and evidence first (the clients' work), then the timed NewMeshCert calls.
  let nonceMs = 0;
  const requests = [];
  for (let i = 0; i < certs; i++) {
    const caller = callers[i % callers.length];
    const t = cpuMs();
    const { Nonce } = await coordinator.newAttestationNonce(caller);
    nonceMs += cpuMs() - t;
    const evidence = await issuer.issue(reportData(caller.publicKeyDer, Nonce));
    requests.push([{ AttestationNonce: Nonce, Evidence: evidence, EvidenceOID: issuer.oid }, caller]);
  }
  const t = cpuMs();
  for (const [request, caller] of requests) await coordinator.newMeshCert(request, caller);
  return { nonce: nonceMs / certs, meshCert: (cpuMs() - t) / certs };
}

// The two operations the anchor counts, as the Coordinator does them (same key types and sizes).
function primitives() {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const tbs = new Uint8Array(900).fill(7);
  const report = new Uint8Array(0x2a0).fill(3);
  const sig = sign("sha384", report, { key: ca.privateKey, dsaEncoding: "ieee-p1363" });
  const n = 1000;
  let t = cpuMs();
  for (let i = 0; i < n; i++) sign("sha384", tbs, ca.privateKey);
  const signMs = (cpuMs() - t) / n;
  t = cpuMs();
  for (let i = 0; i < n; i++) verify("sha384", report, { key: ca.publicKey, dsaEncoding: "ieee-p1363" }, sig);
  return { sign: signMs, verify: (cpuMs() - t) / n };
}

const stubCrypto = process.env.BENCH_STUB_CRYPTO === "1";
if (stubCrypto) {
  // ESM bindings of a builtin follow its CommonJS exports after syncBuiltinESMExports.
  const nodeCrypto = createRequire(import.meta.url)("node:crypto");
  const p1363 = Buffer.alloc(96, 1);
  const der = Buffer.from(`3066023100${"11".repeat(48)}023100${"22".repeat(48)}`, "hex");
  nodeCrypto.sign = (_alg, _data, key) => Buffer.from(key?.dsaEncoding === "ieee-p1363" ? p1363 : der);
  nodeCrypto.verify = () => true;
  syncBuiltinESMExports();
}

await round(); // warm-up
const results = [];
for (let r = 0; r < rounds; r++)
  results.push({ ...(await round()), ...(stubCrypto ? { sign: 0, verify: 0 } : primitives()) });
const m = (k) => median(results.map((x) => x[k]));
const rest = m("meshCert") - m("sign") - m("verify");
console.log(
  `Coordinator issuance path in-process (no transport${stubCrypto ? "; sign and verify STUBBED" : ""}), ${workloads} workload policies (+ the Coordinator's) in the manifest, ${certs} certificates x ${rounds} rounds, median CPU per certificate; node ${process.version}`,
);
console.log(`  NewAttestationNonce                 ${m("nonce").toFixed(3)} ms`);
console.log(`  NewMeshCert                         ${m("meshCert").toFixed(3)} ms`);
console.log(`    of which P-384 sign (alone)       ${m("sign").toFixed(3)} ms`);
console.log(`    of which P-384 verify (alone)     ${m("verify").toFixed(3)} ms`);
console.log(`    the rest                          ${rest.toFixed(3)} ms`);
console.log(
  `BENCH coordinator.${stubCrypto ? "issue_path_without_crypto" : "issue_path"} nonce_ms=${m("nonce").toFixed(3)} mesh_cert_ms=${m("meshCert").toFixed(3)} sign_ms=${m("sign").toFixed(3)} verify_ms=${m("verify").toFixed(3)} rest_ms=${rest.toFixed(3)}`,
);
