// dm-verity hashing throughput (genpolicy's parameters: SHA-256, 4 KiB blocks, zero salt, no
// superblock) of our streaming implementation against `veritysetup format` on the same file,
// measured in alternating rounds; the ratio is the median of the per-round ratios.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { VerityHasher } from "../dist/verity.js";
import { WorkerBlockHasher } from "../dist/verity-workers.js";

const mib = Number(process.env.BENCH_VERITY_MIB ?? 256);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const threads = Number(process.env.BENCH_VERITY_THREADS ?? availableParallelism());
const dir = mkdtempSync(join(tmpdir(), "contrast-bench-verity-"));
const dataPath = join(dir, "data");
const hashPath = join(dir, "hash");
const size = mib * 1024 * 1024;
// Written in pieces so that the benchmark itself does not hold the file in memory.
writeFileSync(dataPath, "");
for (let off = 0; off < size; off += 16 << 20)
  writeFileSync(dataPath, randomBytes(Math.min(16 << 20, size - off)), { flag: "a" });

async function ours(hasher) {
  const v = new VerityHasher(hasher);
  for await (const chunk of createReadStream(dataPath, { highWaterMark: 1 << 20 })) await v.update(chunk);
  return Buffer.from(await v.digest()).toString("hex");
}

function veritysetup() {
  writeFileSync(hashPath, "");
  const out = execFileSync(
    "veritysetup",
    [
      "format",
      "--no-superblock",
      "--hash=sha256",
      "--data-block-size=4096",
      "--hash-block-size=4096",
      `--salt=${"0".repeat(64)}`,
      dataPath,
      hashPath,
    ],
    { encoding: "utf8" },
  );
  return /Root hash:\s*([0-9a-f]{64})/.exec(out)?.[1];
}

/** Runs `fn` at least once and until `seconds` have passed; returns MB/s and the last result. */
async function measure(fn) {
  let n = 0;
  let result;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    result = await fn();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < seconds);
  return { mbps: (size * n) / 1e6 / elapsed, result };
}

const pool = new WorkerBlockHasher(threads);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r = { ours: [], anchor: [], ratio: [], inline: [] };
try {
  await ours(pool); // warm the workers up
  for (let i = 0; i < rounds; i++) {
    const a = await measure(() => ours(pool));
    const b = await measure(async () => veritysetup());
    if (a.result !== b.result) throw new Error(`root hashes differ: ours ${a.result}, veritysetup ${b.result}`);
    r.ours.push(a.mbps);
    r.anchor.push(b.mbps);
    r.ratio.push(a.mbps / b.mbps);
  }
  r.inline.push((await measure(() => ours(undefined))).mbps);
} finally {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
}
const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
const version = execFileSync("veritysetup", ["--version"], { encoding: "utf8" }).trim();
console.log(
  `dm-verity root hash over ${mib} MiB: ${rounds} rounds of >= ${seconds} s, medians; node ${process.version}, ${version}`,
);
console.log(
  `  ours, ${threads} worker thread(s)     ${m.ours.toFixed(0).padStart(6)} MB/s   ${m.ratio.toFixed(2)}x veritysetup`,
);
console.log(`  ours, calling thread only      ${m.inline.toFixed(0).padStart(6)} MB/s`);
console.log(`  veritysetup format             ${m.anchor.toFixed(0).padStart(6)} MB/s   (anchor)`);
console.log(
  `BENCH policy.verity mib=${mib} threads=${threads} ours_mb_s=${m.ours.toFixed(0)} inline_mb_s=${m.inline.toFixed(0)} anchor_veritysetup_mb_s=${m.anchor.toFixed(0)} ratio=${m.ratio.toFixed(2)}`,
);
