// SEV-SNP verification throughput with a cached chain (what a Coordinator does for every pod),
// against `openssl speed ecdsap384` and `ecdsap256` verify rates measured in the same run.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { manualClock } from "@contrast/core";
import { SnpVerifier, verifySnpReport } from "../dist/index.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const data = (name) =>
  readFileSync(fileURLToPath(new URL(`../../../testdata/attestation/snp/${name}`, import.meta.url)));
const report = data("virtee-milan-report.bin");
const vcek = data("virtee-milan-vcek.der");
const clock = manualClock("2024-01-01T00:00:00Z");

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
const cached = rate(() => verifier.verify({ report, endorsementKey: vcek, product: "Milan" }));
const uncached = rate(() => verifySnpReport({ report, endorsementKey: vcek, now: clock.now(), product: "Milan" }));
const p384 = opensslVerifyRate("ecdsap384");
const p256 = opensslVerifyRate("ecdsap256");

console.log(
  `SEV-SNP verification, ${seconds} s each, node ${process.version}, ${execFileSync("openssl", ["version"], { encoding: "utf8" }).trim()}`,
);
console.log(
  `  verify report, cached chain     ${cached.toFixed(0).padStart(8)} /s   ${(cached / p384).toFixed(2)}x openssl P-384 verify`,
);
console.log(`  verify report + full chain      ${uncached.toFixed(0).padStart(8)} /s`);
console.log(`  openssl speed ecdsap384 verify  ${p384.toFixed(0).padStart(8)} /s   (anchor)`);
console.log(`  openssl speed ecdsap256 verify  ${p256.toFixed(0).padStart(8)} /s`);
console.log(
  `BENCH attestation.snp_verify cached_per_s=${cached.toFixed(0)} full_chain_per_s=${uncached.toFixed(0)} anchor_openssl_p384_verify_per_s=${p384.toFixed(0)} ratio=${(cached / p384).toFixed(2)} openssl_p256_verify_per_s=${p256.toFixed(0)}`,
);
