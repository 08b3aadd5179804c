// Kata agent policy decisions: every request of regorus' ten recorded Kata request streams,
// evaluated against its policy as the agent does (non-strict). Reports decisions per second,
// p50/p99 per decision, and parse+compile time of large.rego. There is no anchor engine on this
// machine (no OPA, no regorus, no genpolicy), so the figures stand alone.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Policy } from "@contrast/rego";
import { parseRequestStream } from "../dist/index.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const runs = Number(process.env.BENCH_RUNS ?? 20);
const dir = fileURLToPath(new URL("../../../testdata/rego/regorus-kata/", import.meta.url));
const read = (p) => readFileSync(dir + p, "utf8");

const streams = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
  .map((name) => ({
    name,
    policy: Policy.compile({ file: "policy.rego", source: read(`${name}/policy.rego`) }),
    requests: parseRequestStream(read(`${name}/inputs.txt`)),
    expected: JSON.parse(read(`${name}/outputs.json`)),
  }));
const total = streams.reduce((n, s) => n + s.requests.length, 0);

const decideAll = (samples) => {
  for (const s of streams) {
    for (let i = 0; i < s.requests.length; i++) {
      const r = s.requests[i];
      const t0 = samples === undefined ? 0 : process.hrtime.bigint();
      const v = s.policy.evalRule(`data.agent_policy.${r.name}`, { input: r.input, strict: false });
      if (samples !== undefined) samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (v !== s.expected[i]) throw new Error(`${s.name}[${i}] ${r.name}: got ${v}, want ${s.expected[i]}`);
    }
  }
};

decideAll(); // warm up and check every decision
const rates = [];
const latencies = [];
for (let round = 0; round < rounds; round++) {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    decideAll(latencies);
    n += total;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  rates.push((n / elapsed) * 1000);
}
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const large = read("large.rego");
const compiles = [];
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  Policy.compile({ file: "large.rego", source: large });
  compiles.push(Number(process.hrtime.bigint() - t0) / 1e6);
}

const rate = median(rates);
console.log(
  `rego decisions: ${total} recorded Kata requests in ${streams.length} streams, ${rounds} rounds of ${seconds} s; node ${process.version}`,
);
console.log("  no anchor engine: OPA, regorus and genpolicy are not installable on this machine");
console.log(`  decisions/s (median of rounds)    ${rate.toFixed(0).padStart(8)}`);
console.log(`  per decision p50                  ${pct(50).toFixed(3).padStart(8)} ms`);
console.log(`  per decision p99                  ${pct(99).toFixed(3).padStart(8)} ms`);
console.log(`  per decision max                  ${sorted[sorted.length - 1].toFixed(3).padStart(8)} ms`);
console.log(
  `  large.rego parse+compile (${(large.length / 1024).toFixed(0)} KiB)  ${median(compiles).toFixed(2).padStart(8)} ms median of ${runs}`,
);
console.log(
  `BENCH rego.decisions per_s=${rate.toFixed(0)} p50_ms=${pct(50).toFixed(3)} p99_ms=${pct(99).toFixed(3)} large_compile_ms=${median(compiles).toFixed(2)} anchor=none`,
);
