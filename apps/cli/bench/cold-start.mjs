// CLI cold start: `contrast --version` against the anchor `node -e 0`, measured in the same run
// on the same machine, interleaved so that drift in machine load hits both alike.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/contrast.cjs", import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 40);
const warmup = 5;

// A second anchor: an empty CommonJS script (the bundle's format), the floor for any program.
const emptyModule = join(mkdtempSync(join(tmpdir(), "contrast-bench-")), "empty.cjs");
writeFileSync(emptyModule, "");

const cases = {
  "contrast --version": [process.execPath, cli, "--version"],
  "contrast --help": [process.execPath, cli, "--help"],
  "node -e 0 (anchor)": [process.execPath, "-e", "0"],
  "node empty.cjs": [process.execPath, emptyModule],
  // The floor for any program that prints: initialising process.stdout loads Node's stream code.
  "node prints a line": [process.execPath, "-e", 'process.stdout.write("x\\n")'],
};

// NODE_EXTRA_CA_CERTS makes every Node start read a CA bundle (about 80 ms on our machines),
// which would hide the CLI's own cost; it is cleared for every case alike.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

function once([cmd, ...args]) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < warmup + runs; i++) {
  for (const [name, argv] of Object.entries(cases)) {
    const ms = once(argv);
    if (i >= warmup) samples[name].push(ms);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const anchor = median(samples["node -e 0 (anchor)"]);
console.log(
  `cli cold start: median wall time of ${runs} interleaved runs (after ${warmup} warm-up), node ${process.version}`,
);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(20)} ${m.toFixed(1).padStart(7)} ms   ${(m / anchor).toFixed(2)}x anchor`);
}
const version = median(samples["contrast --version"]);
const printFloor = median(samples["node prints a line"]);
console.log(
  `BENCH cli.cold_start version_ms=${version.toFixed(1)} anchor_node_e0_ms=${anchor.toFixed(1)} ratio=${(version / anchor).toFixed(2)} ratio_vs_printing_script=${(version / printFloor).toFixed(2)}`,
);
