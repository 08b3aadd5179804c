// Manifest parsing: parseManifest (strict JSON, decode, validate every field, canonical check,
// hash) on a 2,000-workload manifest, against the anchor JSON.parse on the same bytes, same run.
import { generateKeyPairSync } from "node:crypto";
import { parseManifest, serializeManifest } from "../dist/index.js";
import { emptyGuestPolicy } from "../dist/types.js";

const workloads = Number(process.env.BENCH_WORKLOADS ?? 2000);
const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const seedKey = publicKey.export({ type: "pkcs1", format: "der" }).toString("hex");
const hex = (i, bytes) => i.toString(16).padStart(bytes * 2, "0");
const manifest = {
  Policies: new Map(
    Array.from({ length: workloads }, (_, i) => [
      hex(i, 32),
      { SANs: [`workload-${i}`, "*"], WorkloadSecretID: `apps/v1/Deployment/default/workload-${i}`, Role: "" },
    ]),
  ),
  ReferenceValues: {
    snp: [
      {
        MinimumTCB: { BootloaderVersion: 9, TEEVersion: 0, SNPVersion: 21, MicrocodeVersion: 72 },
        ProductName: "Genoa",
        TrustedMeasurement: hex(1, 48),
        GuestPolicy: { ...emptyGuestPolicy(), SMT: true },
      },
    ],
    tdx: [],
    sim: [],
  },
  WorkloadOwnerKeyDigests: [hex(7, 32)],
  SeedshareOwnerPubKeys: [seedKey],
};
const bytes = new TextEncoder().encode(serializeManifest(manifest));

function measure(fn, minMs = 1500) {
  for (let i = 0; i < 5; i++) fn(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    fn();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (n / elapsed) * 1000;
}

const ours = measure(() => {
  const r = parseManifest(bytes);
  if (!r.canonical || r.issues.length > 0) throw new Error("benchmark manifest should be valid and canonical");
});
const anchor = measure(() => JSON.parse(new TextDecoder().decode(bytes)));
const mb = bytes.length / 1e6;
console.log(`manifest parse: ${workloads} workloads, ${(bytes.length / 1024).toFixed(0)} KiB, node ${process.version}`);
console.log(`  parseManifest            ${ours.toFixed(1).padStart(8)} manifests/s  ${(ours * mb).toFixed(1)} MB/s`);
console.log(
  `  JSON.parse (anchor)      ${anchor.toFixed(1).padStart(8)} manifests/s  ${(anchor * mb).toFixed(1)} MB/s`,
);
console.log(
  `BENCH manifest.parse ops_per_s=${ours.toFixed(1)} anchor_json_parse_ops_per_s=${anchor.toFixed(1)} ratio=${(ours / anchor).toFixed(3)}`,
);
