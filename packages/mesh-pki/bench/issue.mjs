// Mesh certificate issuance throughput (what a Coordinator does for every starting pod), against
// `openssl speed ecdsap384` sign/s measured in the same run: each leaf costs one P-384 signature,
// so the ratio says how much the certificate building around that signature costs.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { systemClock } from "@contrast/core";
import { CoordinatorCa, cryptoRandom, SeedEngine } from "../dist/index.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
// BENCH_RUNS, when set, caps the leaves issued per round (a quick CI smoke run).
const maxRuns = process.env.BENCH_RUNS === undefined ? Number.POSITIVE_INFINITY : Number(process.env.BENCH_RUNS);

// OpenSSL must see the same environment as any user would; NODE_EXTRA_CA_CERTS is Node's only.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const engine = SeedEngine.fromSeed(cryptoRandom(64), cryptoRandom(32));
const ca = CoordinatorCa.create(engine, { clock: systemClock, random: cryptoRandom });
const workloadKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
const request = {
  publicKey: workloadKey,
  sans: ["web", "*", "web.default.svc.cluster.local", "10.0.0.7"],
  workloadSecretId: "default/web",
};

function rate(fn) {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds * 1000 && n < maxRuns) {
    fn();
    n++;
    if ((n & 15) === 0 || n >= maxRuns) elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n / (Number(process.hrtime.bigint() - start) / 1e6)) * 1000;
}

function opensslSignRate(alg) {
  const out = execFileSync("openssl", ["speed", "-seconds", String(Math.max(1, Math.round(seconds))), alg], {
    encoding: "utf8",
    env,
    stdio: ["ignore", "pipe", "ignore"],
  });
  // " 384 bits ecdsa (nistp384)   0.0007s   0.0006s   1500.1   1700.2": sign/s is the second-to-last.
  const row = out.split("\n").find((l) => /bits ecdsa/.test(l));
  const nums = row?.trim().split(/\s+/).slice(-2).map(Number);
  if (!nums || nums.some(Number.isNaN)) throw new Error(`cannot read openssl speed output:\n${out}`);
  return nums[0];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Paired, alternating rounds; the ratio is the median of per-round ratios, because throughput on
// shared machines drifts by tens of percent within seconds.
const r = { leaf: [], p384: [], ratio: [] };
for (let i = 0; i < rounds; i++) {
  const leaf = rate(() => ca.issueLeaf(request));
  const p384 = opensslSignRate("ecdsap384");
  r.leaf.push(leaf);
  r.p384.push(p384);
  r.ratio.push(leaf / p384);
}
const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));

console.log(
  `mesh certificate issuance: ${rounds} rounds of ${seconds} s, medians; node ${process.version}, ${execFileSync("openssl", ["version"], { encoding: "utf8", env }).trim()}`,
);
console.log(
  `  leaf certificates (P-384 mesh CA)   ${m.leaf.toFixed(0).padStart(7)} /s   ${m.ratio.toFixed(2)}x openssl P-384 sign`,
);
console.log(`  openssl speed ecdsap384 sign        ${m.p384.toFixed(0).padStart(7)} /s   (anchor)`);
console.log(
  `BENCH mesh-pki.leaf_issue per_s=${m.leaf.toFixed(0)} anchor_openssl_p384_sign_per_s=${m.p384.toFixed(0)} ratio=${m.ratio.toFixed(2)}`,
);
