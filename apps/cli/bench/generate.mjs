// `contrast generate` on 200 workloads with a warm layer cache (issue 15's bar: under 2 s), run
// as a user runs it: the CLI bundle as a separate process, images in a real registry (Debian's
// docker-registry on loopback), layers-cache.json filled by a first, unmeasured run. A measured
// run does everything a repeated `generate` does: reads the YAML, injects the initializer and
// the service mesh, fetches every image's manifest and config from the registry (layers come
// from the cache), builds and hashes 200 policies, writes the YAML and manifest.json. The inputs
// are restored before each run, so every run patches from scratch. Printed beside the bar and
// the `node -e 0` anchor of the cold-start bench.
import { spawn, spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const cli = fileURLToPath(new URL("../dist/contrast.cjs", import.meta.url));
const workloads = Number(process.env.BENCH_WORKLOADS ?? 200);
const imageCount = Number(process.env.BENCH_IMAGES ?? 20);
const files = Number(process.env.BENCH_FILES ?? 20);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const TARGET_MS = 2000;

const dir = mkdtempSync(join(tmpdir(), "contrast-bench-cli-generate-"));
const sha256 = (b) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const env = { ...process.env, NO_COLOR: "1" };
// As in the cold-start bench: a CA bundle read at every start would hide the CLI's own cost.
delete env.NODE_EXTRA_CA_CERTS;

/** A ustar archive of regular files: enough for a container layer. */
function tar(entries) {
  const blocks = [];
  for (const [name, content] of entries) {
    const data = Buffer.from(content);
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, "utf8");
    h.write("0000644\0", 100);
    h.write("0001750\0", 108);
    h.write("0001750\0", 116);
    h.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    h.write("00000000000\0", 136);
    h.write("        ", 148);
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

async function startRegistry() {
  const port = await freePort();
  const config = join(dir, "registry.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "registry")}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const proc = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).status === 200) return { host, proc };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill();
  throw new Error("docker-registry did not start");
}

async function push(host, repo, image) {
  const blob = async (bytes) => {
    const digest = sha256(bytes);
    const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    const url = new URL(start.headers.get("location"), `http://${host}`);
    url.searchParams.set("digest", digest);
    const put = await fetch(url, {
      method: "PUT",
      body: bytes,
      headers: { "Content-Type": "application/octet-stream" },
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
    return { digest, size: bytes.length };
  };
  const layers = [];
  const diffIds = [];
  for (const t of image.layers) {
    diffIds.push(sha256(t));
    layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await blob(gzipSync(t))) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin"], Entrypoint: [image.entrypoint], User: "1000:1000" },
      rootfs: { type: "layers", diff_ids: diffIds },
    }),
  );
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...(await blob(config)) },
    layers,
  });
  const res = await fetch(`http://${host}/v2/${repo}/manifests/v1`, {
    method: "PUT",
    body: manifest,
    headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
  });
  if (res.status !== 201) throw new Error(`manifest upload: ${res.status}`);
  return `${host}/${repo}:v1@${sha256(Buffer.from(manifest))}`;
}

function image(name, i) {
  return {
    entrypoint: `/srv/${name}`,
    layers: [0, 1].map((l) =>
      tar([
        ["etc/passwd", `root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n`],
        [`srv/${name}-${l}.bin`, Buffer.alloc(256 * 1024, i * 2 + l)],
      ]),
    ),
  };
}

function deployment(n, ref) {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${n}
  namespace: bench
  annotations:
    contrast.edgeless.systems/servicemesh-ingress: "web#8080#false"
spec:
  replicas: 1
  selector:
    matchLabels: {app: app-${n}}
  template:
    metadata:
      labels: {app: app-${n}}
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: app
          image: ${ref}
          env:
            - {name: INSTANCE, value: "${n}"}
          ports:
            - containerPort: 8080
          resources:
            limits: {memory: 128Mi}
            requests: {memory: 128Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: app-${n}
  namespace: bench
spec:
  selector: {app: app-${n}}
  ports:
    - port: 8080
`;
}

// CPU time of the CLI process (all its threads), next to wall time: on a shared machine the wall
// time mostly measures the other tenants.
const cpuFile = join(dir, "cpu.txt");
const preload = join(dir, "cpu-preload.cjs");
writeFileSync(
  preload,
  `process.on("exit", () => { const u = process.cpuUsage(); require("node:fs").writeFileSync(${JSON.stringify(cpuFile)}, String((u.user + u.system) / 1000)); });\n`,
);
const cpu = [];

function run(args, cwd) {
  const start = process.hrtime.bigint();
  // BENCH_PROFILE_DIR: a CPU profile of every run, to see where the time goes.
  const prof = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const r = spawnSync(process.execPath, [...prof, "--require", preload, cli, ...args], { cwd, env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`contrast ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  cpu.push(Number(readFileSync(cpuFile, "utf8")));
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const registry = await startRegistry();
try {
  const refs = [];
  for (let i = 0; i < imageCount; i++) refs.push(await push(registry.host, `bench/app${i}`, image(`app${i}`, i)));
  const initializer = await push(registry.host, "bench/initializer", image("initializer", 100));
  const mesh = await push(registry.host, "bench/service-mesh-proxy", image("service-mesh-proxy", 101));

  const pristine = join(dir, "pristine");
  mkdirSync(pristine);
  const perFile = Math.ceil(workloads / files);
  for (let f = 0; f < files; f++) {
    const docs = [];
    for (let n = f * perFile; n < Math.min(workloads, (f + 1) * perFile); n++)
      docs.push(deployment(n, refs[n % refs.length]));
    writeFileSync(join(pristine, `app-${String(f).padStart(2, "0")}.yml`), docs.join("---\n"));
  }
  const ws = join(dir, "ws");
  mkdirSync(ws);
  writeFileSync(
    join(ws, "replacements.txt"),
    `ghcr.io/edgelesssys/contrast/initializer:latest = ${initializer}\nghcr.io/edgelesssys/contrast/service-mesh-proxy:latest = ${mesh}\n`,
  );
  // Owner keys exist, as in any workspace after its first run (an RSA-4096 key takes seconds to make).
  const ec = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey;
  writeFileSync(join(ws, "workload-owner.pem"), ec.export({ type: "sec1", format: "pem" }), { mode: 0o600 });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 4096 }).privateKey;
  writeFileSync(join(ws, "seedshare-owner.pem"), rsa.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });

  const args = [
    "generate",
    "--reference-values",
    "metal-qemu-snp",
    "--image-replacements",
    "replacements.txt",
    "resources",
  ];
  const fresh = () => {
    rmSync(join(ws, "resources"), { recursive: true, force: true });
    cpSync(pristine, join(ws, "resources"), { recursive: true });
  };
  fresh();
  const cold = run(args, ws); // pulls every layer once and fills layers-cache.json
  const samples = [];
  cpu.length = 0;
  for (let i = 0; i < rounds; i++) {
    fresh();
    samples.push(run(args, ws));
  }
  const warmCpu = [...cpu];
  const cpuMs = median(warmCpu);
  const anchor = median(Array.from({ length: 5 }, () => run(["--version"], ws)));
  const m = median(samples);
  const load = (await import("node:os")).loadavg()[0];
  console.log(
    `cli generate: ${workloads} workloads in ${files} files over ${imageCount} images (local docker-registry), warm layer cache, median of ${rounds} runs, node ${process.version}`,
  );
  console.log(`  first run (pulls layers)  ${cold.toFixed(0).padStart(6)} ms`);
  console.log(`  warm runs                 ${samples.map((s) => s.toFixed(0)).join(", ")} ms`);
  console.log(
    `  warm runs, CPU time        ${warmCpu.map((s) => s.toFixed(0)).join(", ")} ms (user + system, all threads)`,
  );
  console.log(`  contrast --version        ${anchor.toFixed(0).padStart(6)} ms   (load average ${load.toFixed(1)})`);
  console.log(
    `BENCH cli.generate workloads=${workloads} median_ms=${m.toFixed(1)} cpu_ms=${cpuMs.toFixed(1)} target_ms=${TARGET_MS} ratio=${(m / TARGET_MS).toFixed(2)} cold_ms=${cold.toFixed(1)} version_ms=${anchor.toFixed(1)}`,
  );
} finally {
  registry.proc.kill();
  rmSync(dir, { recursive: true, force: true });
}
