// The ingress TLS termination path of our proxy (standalone mode, `service-mesh ingress`) side by
// side with haproxy (tcp mode + ssl) and nginx (stream TLS), in the same run, over the same
// certificates, in front of the same plaintext nginx HTTP backend; every proxy with one worker
// thread. Scenarios (wrk, one thread):
//   - small requests (64-byte body), keep-alive, BENCH_CONNECTIONS (50) connections;
//   - small requests with `Connection: close`: a new connection, so a full TLS handshake, each;
//   - bulk: BENCH_BULK_MIB (8) MiB responses over 4 keep-alive connections, MB/s;
// each on the TLS-without-client-auth port (wrk speaks TLS itself) and on the mTLS-required port
// through one client-side haproxy shared by all three (wrk cannot present a client certificate);
// and the mesh path with the same kind on both sides (ours egress → ours ingress, haproxy →
// haproxy, nginx stream → nginx stream), small requests only, counting both sides' CPU.
// BENCH_ROUNDS (2) rounds of BENCH_SECONDS (5) s each after BENCH_WARMUP_SECONDS (3) s of warm-up
// per path and target, the targets' order rotating; medians.
// Besides requests/s and p99 the proxies' own CPU time is read from /proc, so requests per proxy
// CPU second compares them even when the machine is busy. Prints the ratios ours/haproxy and
// ours/nginx and `BENCH service_mesh.*` lines; exits 1 when a run had errors.
// BENCH_ANCHORS_ONLY=1 measures haproxy and nginx alone; NODE_PROFILE_DIR=dir makes our proxy
// write V8 CPU profiles there.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { makeMeshCredentials } from "./certs.mjs";
import { ensurePackages } from "./packages.mjs";
import {
  startBackend,
  startClientSide,
  startHaproxy,
  startNginxClient,
  startNginxStream,
  startOurs,
  startOursEgress,
} from "./servers.mjs";
import { runWrk } from "./wrk.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const bulkMiB = Number(process.env.BENCH_BULK_MIB ?? 8);
const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? Math.min(3, seconds));
const anchorsOnly = process.env.BENCH_ANCHORS_ONLY === "1";
const bundle = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "service-mesh.cjs");

const watchdog = Number(process.env.BENCH_TIMEOUT_S ?? 900);
const running = [];
setTimeout(() => {
  console.error(`service-mesh bench: not finished after ${watchdog} s; giving up`);
  for (const p of running) for (const proc of p.procs ?? [p.proc]) proc.kill("SIGKILL");
  process.exit(1);
}, watchdog * 1000).unref();

ensurePackages();
if (!anchorsOnly && !existsSync(bundle)) {
  throw new Error(`${bundle} is missing: run \`pnpm build\` first (or BENCH_ANCHORS_ONLY=1)`);
}

/** CPU seconds (user + system) of a process and all its descendants, from /proc. */
function cpuSeconds(pid) {
  let total = 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += (Number(f[11]) + Number(f[12])) / 100;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    for (const c of children ? children.split(" ") : []) total += cpuSeconds(Number(c));
  } catch {
    // The process is gone: it used nothing more.
  }
  return total;
}
const targetCpu = (t) => (t.procs ?? [t.proc]).reduce((a, p) => a + cpuSeconds(p.pid), 0);

/** A TLS handshake without a client certificate must fail on an mTLS port (checks the configs). */
function refusesWithoutClientCert(port, ca) {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port, ca, servername: "server" });
    let answered = false;
    s.on("secureConnect", () => s.write("GET /small HTTP/1.1\r\nHost: x\r\n\r\n"));
    s.on("data", () => {
      answered = true;
    });
    s.on("error", () => {});
    s.on("close", () => resolve(!answered));
    s.setTimeout(5000, () => s.destroy());
  });
}

/** GETs `url` once (https: verifying the proxy against the mesh CA) and returns the body's length. */
function fetchLength(url, ca) {
  return new Promise((resolve, reject) => {
    const get = url.startsWith("https:") ? httpsGet : httpGet;
    const req = get(url, { ca, checkServerIdentity: () => undefined, agent: false }, (res) => {
      let n = 0;
      res.on("data", (d) => {
        n += d.length;
      });
      res.on("end", () => resolve(res.statusCode === 200 ? n : -res.statusCode));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${url}: no answer in 60 s`)));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), "service-mesh-bench-"));
let failed = false;
try {
  const creds = makeMeshCredentials(dir);
  const backend = await startBackend(join(dir, "ca"), bulkMiB * 1024 * 1024);
  running.push(backend);
  const targets = [];
  const haproxy = await startHaproxy(join(dir, "server"), creds.server, backend.port);
  running.push(haproxy);
  targets.push(haproxy);
  const nginx = await startNginxStream(join(dir, "server"), creds.server, backend.port);
  running.push(nginx);
  targets.push(nginx);
  if (!anchorsOnly) {
    const ours = await startOurs(bundle, creds.server, backend.port, {
      profileDir: process.env.NODE_PROFILE_DIR,
    });
    running.push(ours);
    targets.unshift(ours);
  }
  const names = { ours: "ours", haproxy: "haproxy", "nginx stream": "nginx" };
  for (const t of targets) t.key = names[t.name];
  const client = await startClientSide(
    join(dir, "client"),
    creds.client,
    Object.fromEntries(targets.map((t) => [t.key, t.ports.mtls])),
  );
  running.push(client);

  const ca = readFileSync(join(creds.ca, "mesh-ca.pem"));
  for (const t of targets) {
    if (!(await refusesWithoutClientCert(t.ports.mtls, ca))) {
      throw new Error(`${t.key}'s mTLS port answered a client without a certificate`);
    }
  }

  // The mesh path with each kind on both sides: ours egress → ours ingress, haproxy → haproxy (the
  // shared client side), nginx stream → nginx stream. Its CPU is both sides'.
  const meshClient = { haproxy: client };
  if (!anchorsOnly) {
    meshClient.ours = await startOursEgress(bundle, creds.client, targets[0].ports.mtls);
    running.push(meshClient.ours);
  }
  mkdirSync(join(dir, "client-nginx"));
  meshClient.nginx = await startNginxClient(join(dir, "client-nginx"), creds.client, nginx.ports.mtls);
  running.push(meshClient.nginx);
  const meshPort = (t) => (t.key === "haproxy" ? client.ports.haproxy : meshClient[t.key].port);

  const url = (t, mtls, path, mesh = false) =>
    mesh
      ? `http://127.0.0.1:${meshPort(t)}${path}`
      : mtls
        ? `http://127.0.0.1:${client.ports[t.key]}${path}`
        : `https://127.0.0.1:${t.ports.tls}${path}`;
  // Every path must serve both bodies whole before anything is timed: a proxy that accepts and
  // never answers would otherwise show up only as an empty wrk window.
  for (const t of targets) {
    for (const mtls of [false, true]) {
      for (const [path, size] of [
        ["/small", 64],
        ["/bulk", bulkMiB * 1024 * 1024],
      ]) {
        const got = await fetchLength(url(t, mtls, path), ca);
        if (got !== size) throw new Error(`${t.key} ${mtls ? "mTLS" : "TLS"} ${path}: ${got} bytes, not ${size}`);
        if (mtls) {
          const viaMesh = await fetchLength(url(t, mtls, path, true), ca);
          if (viaMesh !== size) throw new Error(`${t.key} mesh path ${path}: ${viaMesh} bytes, not ${size}`);
        }
      }
    }
  }

  const scenarios = [];
  for (const mtls of [false, true]) {
    const port = mtls ? "mTLS" : "TLS";
    scenarios.push(
      {
        id: `${port.toLowerCase()}_small_keepalive`,
        label: `${port} small, keep-alive`,
        mtls,
        path: "/small",
        c: connections,
      },
      {
        id: `${port.toLowerCase()}_small_newconn`,
        label: `${port} small, new connection each`,
        mtls,
        path: "/small",
        c: connections,
        close: true,
      },
      { id: `${port.toLowerCase()}_bulk`, label: `${port} bulk ${bulkMiB} MiB`, mtls, path: "/bulk", c: 4, bulk: true },
    );
  }
  scenarios.push(
    {
      id: "mesh_small_keepalive",
      label: "mesh path (same kind both sides) small, keep-alive",
      mtls: true,
      mesh: true,
      path: "/small",
      c: connections,
    },
    {
      id: "mesh_small_newconn",
      label: "mesh path (same kind both sides) small, new connection each",
      mtls: true,
      mesh: true,
      path: "/small",
      c: connections,
      close: true,
    },
  );

  // Warm-up of every path on every target (a sidecar runs for days: V8 needs a few thousand
  // connections before the handshake path is optimised; haproxy and nginx get the same).
  for (const s of scenarios)
    for (const t of targets)
      await runWrk(url(t, s.mtls, s.path, s.mesh), { seconds: warmup, connections: s.c, close: s.close });

  const results = new Map();
  for (let r = 0; r < rounds; r++) {
    for (const s of scenarios) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]);
      for (const t of order) {
        const cpuOf = () => targetCpu(t) + (s.mesh ? targetCpu(t.key === "haproxy" ? client : meshClient[t.key]) : 0);
        const cpu0 = cpuOf();
        const w = await runWrk(url(t, s.mtls, s.path, s.mesh), { seconds, connections: s.c, close: s.close });
        const cpu = cpuOf() - cpu0;
        const key = `${s.id}/${t.key}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push({ ...w, cpu });
        const expectedBytes = s.bulk ? bulkMiB * 1024 * 1024 : 64;
        if (w.requests === 0) {
          console.error(
            `${s.label} / ${t.key}: no request finished in ${seconds} s (a busy machine or a short BENCH_SECONDS)`,
          );
        }
        if (w.socketErrors > 0 || w.non2xx > 0) {
          failed = true;
          console.error(`${s.label} / ${t.key}: ${w.socketErrors} socket errors, ${w.non2xx} non-2xx\n${w.raw}`);
        }
        // Rough check that the bodies came through whole: bytes read per request ≥ body size.
        if (w.requests > 0 && (w.bytesPerS * w.seconds) / w.requests < expectedBytes * 0.95) {
          failed = true;
          console.error(`${s.label} / ${t.key}: fewer bytes than bodies\n${w.raw}`);
        }
      }
    }
  }

  const ours = anchorsOnly ? undefined : "ours";
  console.log(
    `service-mesh ingress TLS termination, ${rounds} x ${seconds} s per figure (medians) after ${warmup} s of warm-up, wrk 1 thread; node ${process.version}, ${execFileSync(
      "haproxy",
      ["-v"],
      { encoding: "utf8" },
    )
      .split("\n")[0]
      .replace(/ - https.*/, "")}, ${spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim()}`,
  );
  const fmt = (x, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  for (const s of scenarios) {
    console.log(`  ${s.label}${s.bulk ? "" : ` (${s.c} connections)`}`);
    const fig = {};
    for (const t of targets) {
      const runs = results.get(`${s.id}/${t.key}`);
      const perS = median(runs.map((w) => (s.bulk ? w.bytesPerS / 1e6 : w.requestsPerS)));
      const p99 = median(runs.map((w) => w.p99Ms));
      const perCpu = median(
        runs.map((w) => (s.bulk ? (w.bytesPerS * w.seconds) / 1e6 : w.requests) / Math.max(w.cpu, 0.01)),
      );
      fig[t.key] = { perS, p99, perCpu };
      const unit = s.bulk ? "MB/s" : "req/s";
      console.log(
        `    ${t.key.padEnd(8)} ${fmt(perS, s.bulk ? 1 : 0).padStart(9)} ${unit}  p99 ${fmt(p99, 2).padStart(7)} ms  ${fmt(perCpu, s.bulk ? 1 : 0).padStart(9)} ${s.bulk ? "MB" : "req"} per proxy CPU s`,
      );
    }
    const line = [`BENCH service_mesh.${s.id}`];
    for (const t of targets) {
      const u = s.bulk ? "mb_per_s" : "per_s";
      line.push(
        `${t.key}_${u}=${fmt(fig[t.key].perS, 1).replaceAll(",", "")} ${t.key}_p99_ms=${fig[t.key].p99.toFixed(2)}`,
      );
    }
    if (ours) {
      const ratio = (a) => fig.ours.perS / fig[a].perS;
      const ratioCpu = (a) => fig.ours.perCpu / fig[a].perCpu;
      console.log(
        `    ratio ours/haproxy ${ratio("haproxy").toFixed(2)} (per CPU s ${ratioCpu("haproxy").toFixed(2)}), ours/nginx ${ratio("nginx").toFixed(2)} (per CPU s ${ratioCpu("nginx").toFixed(2)})`,
      );
      line.push(
        `ratio_haproxy=${ratio("haproxy").toFixed(2)} ratio_nginx=${ratio("nginx").toFixed(2)} ratio_haproxy_per_cpu=${ratioCpu("haproxy").toFixed(2)} ratio_nginx_per_cpu=${ratioCpu("nginx").toFixed(2)}`,
      );
    }
    console.log(line.join(" "));
  }
} finally {
  for (const p of running.reverse()) await p.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
