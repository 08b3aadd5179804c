// SEV-SNP verification throughput with a cached chain (what a Coordinator does for every pod),
// against `openssl speed ecdsap384` and `ecdsap256` verify rates measured in the same run.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { manualClock } from "@contrast/core";
import { SnpVerifier, TdxVerifier, verifySnpReport, verifyTdxQuote } from "../dist/index.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const data = (name) =>
  readFileSync(fileURLToPath(new URL(`../../../testdata/attestation/snp/${name}`, import.meta.url)));
const report = data("virtee-milan-report.bin");
const vcek = data("virtee-milan-vcek.der");
const clock = manualClock("2024-01-01T00:00:00Z");
const tdxQuote = readFileSync(
  fileURLToPath(new URL("../../../testdata/attestation/tdx/phala-quote-v4.dat", import.meta.url)),
);
const tdxNow = new Date("2025-07-01T00:00:00Z");

function rate(fn) {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    fn();
    n++;
    if ((n & 15) === 0) elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n / (Number(process.hrtime.bigint() - start) / 1e6)) * 1000;
}

function opensslVerifyRate(alg) {
  const out = execFileSync("openssl", ["speed", "-seconds", String(seconds), alg], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  // "... nistp384) ... sign/s verify/s" then a row: " 384 bits ecdsa (nistp384)   0.0007s   0.0006s   1500.1   1700.2"
  const row = out.split("\n").find((l) => /bits ecdsa/.test(l));
  const nums = row?.trim().split(/\s+/).slice(-2).map(Number);
  if (!nums || nums.some(Number.isNaN)) throw new Error(`cannot read openssl speed output:\n${out}`);
  return nums[1];
}

const verifier = new SnpVerifier({ clock });
const tdxVerifier = new TdxVerifier({ clock: manualClock(tdxNow) });
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Each of our figures is measured right next to its anchor, in alternating rounds, and the ratio
// is the median of the per-round ratios: on a shared machine throughput drifts between runs.
const r = { snp: [], snpFull: [], p384: [], tdx: [], tdxFull: [], p256: [], snpRatio: [], tdxRatio: [] };
for (let i = 0; i < rounds; i++) {
  const snp = rate(() => verifier.verify({ report, endorsementKey: vcek, product: "Milan" }));
  const p384 = opensslVerifyRate("ecdsap384");
  const tdx = rate(() => tdxVerifier.verify(tdxQuote));
  const p256 = opensslVerifyRate("ecdsap256");
  r.snp.push(snp);
  r.p384.push(p384);
  r.tdx.push(tdx);
  r.p256.push(p256);
  r.snpRatio.push(snp / p384);
  r.tdxRatio.push(tdx / p256);
}
// Without caches, for reference: the whole chain on every call.
r.snpFull.push(rate(() => verifySnpReport({ report, endorsementKey: vcek, now: clock.now(), product: "Milan" })));
r.tdxFull.push(rate(() => verifyTdxQuote({ quote: tdxQuote, now: tdxNow })));
const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));

console.log(
  `attestation verification: ${rounds} rounds of ${seconds} s, medians; node ${process.version}, ${execFileSync("openssl", ["version"], { encoding: "utf8" }).trim()}`,
);
console.log(
  `  SNP report, cached chain          ${m.snp.toFixed(0).padStart(7)} /s   ${m.snpRatio.toFixed(2)}x openssl P-384 verify`,
);
console.log(`  SNP report + full RSA-PSS chain   ${m.snpFull.toFixed(0).padStart(7)} /s`);
console.log(`  openssl speed ecdsap384 verify    ${m.p384.toFixed(0).padStart(7)} /s   (anchor)`);
console.log(
  `  TDX quote, cached chain           ${m.tdx.toFixed(0).padStart(7)} /s   ${m.tdxRatio.toFixed(2)}x openssl P-256 verify (one signature per quote)`,
);
console.log(
  `  TDX quote + full chain            ${m.tdxFull.toFixed(0).padStart(7)} /s   (5 P-256 signatures and the PEM chain)`,
);
console.log(`  openssl speed ecdsap256 verify    ${m.p256.toFixed(0).padStart(7)} /s   (anchor)`);
console.log(
  `BENCH attestation.snp_verify cached_per_s=${m.snp.toFixed(0)} full_chain_per_s=${m.snpFull.toFixed(0)} anchor_openssl_p384_verify_per_s=${m.p384.toFixed(0)} ratio=${m.snpRatio.toFixed(2)}`,
);
console.log(
  `BENCH attestation.tdx_verify cached_per_s=${m.tdx.toFixed(0)} full_chain_per_s=${m.tdxFull.toFixed(0)} anchor_openssl_p256_verify_per_s=${m.p256.toFixed(0)} ratio=${m.tdxRatio.toFixed(2)}`,
);
