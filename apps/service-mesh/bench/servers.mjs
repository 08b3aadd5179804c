// The processes of the benchmark: the plaintext HTTP backend, the TLS-terminating proxies under
// test (ours, haproxy, nginx stream) and the TLS-originating client side for the mTLS runs. Each
// proxy runs with one worker thread (our proxy is one Node thread), on loopback, over the same
// certificate files.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";

/** An unused loopback TCP port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function connects(port) {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.on("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.on("error", () => resolve(false));
  });
}

/**
 * Starts `argv` and waits until every port accepts connections; throws with the process's output
 * when it exits first or takes longer than 20 s.
 */
export async function startProcess(name, argv, ports, { env } = {}) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.NODE_EXTRA_CA_CERTS;
  const proc = spawn(argv[0], argv.slice(1), { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (d) => {
    output = (output + d).slice(-8000);
  };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  let exited = null;
  proc.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  const deadline = Date.now() + 20_000;
  for (const port of ports) {
    while (!(await connects(port))) {
      if (exited) throw new Error(`${name} exited (${exited.code ?? exited.signal}) before listening:\n${output}`);
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`${name} not listening on ${port} after 20 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    name,
    proc,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
        setTimeout(() => proc.kill("SIGKILL"), 5000).unref();
      }),
  };
}

const NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

function nginxCommon(dir) {
  return [
    "worker_processes 1;",
    "worker_rlimit_nofile 16000;",
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} error;`,
    // Running as root, nginx would switch its worker to `nobody`, which cannot read the scratch dir.
    ...(process.getuid?.() === 0 ? ["user root;"] : []),
    "events { worker_connections 8000; multi_accept on; }",
  ];
}

function startNginx(name, dir, conf, ports) {
  const file = join(dir, "nginx.conf");
  writeFileSync(file, conf.join("\n"));
  return startProcess(name, ["nginx", "-p", dir, "-c", file, "-g", "daemon off;"], ports);
}

/**
 * The plaintext HTTP backend every proxy fronts: nginx, one worker. `/small` answers 64 bytes,
 * `/bulk` a file of `bulkBytes`.
 */
export async function startBackend(dir, bulkBytes) {
  const port = await freePort();
  writeFileSync(join(dir, "bulk.bin"), Buffer.alloc(bulkBytes, 0x5a));
  const conf = [
    ...nginxCommon(dir),
    "http {",
    "  access_log off;",
    "  sendfile on; tcp_nopush on; tcp_nodelay on;",
    "  keepalive_requests 1000000; keepalive_timeout 120s;",
    `  client_body_temp_path ${dir};`,
    `  server { listen 127.0.0.1:${port} backlog=4096; root ${dir};`,
    `    location = /small { default_type text/plain; return 200 "${"x".repeat(63)}\\n"; }`,
    `    location = /bulk { alias ${join(dir, "bulk.bin")}; default_type application/octet-stream; }`,
    "  }",
    "}",
  ];
  return { port, ...(await startNginx("backend nginx", dir, conf, [port])) };
}

/** haproxy in tcp mode terminating TLS: `mtls` requires a client certificate from the mesh CA. */
export async function startHaproxy(dir, creds, backendPort) {
  const mtls = await freePort();
  const tls = await freePort();
  const file = join(dir, "haproxy.cfg");
  writeFileSync(
    file,
    [
      "global",
      "  nbthread 1",
      "  maxconn 8000",
      "defaults",
      "  mode tcp",
      "  timeout connect 5s",
      "  timeout client 120s",
      "  timeout server 120s",
      "frontend mtls",
      `  bind 127.0.0.1:${mtls} ssl crt ${join(creds, "haproxy.pem")} ca-file ${join(creds, "mesh-ca.pem")} verify required`,
      "  default_backend app",
      "frontend tls",
      `  bind 127.0.0.1:${tls} ssl crt ${join(creds, "haproxy.pem")}`,
      "  default_backend app",
      "backend app",
      `  server app 127.0.0.1:${backendPort}`,
      "",
    ].join("\n"),
  );
  const p = await startProcess("haproxy", ["haproxy", "-f", file, "-db"], [mtls, tls]);
  return { ports: { mtls, tls }, ...p };
}

/** nginx stream TLS termination: `mtls` has `ssl_verify_client on`. */
export async function startNginxStream(dir, creds, backendPort) {
  const mtls = await freePort();
  const tls = await freePort();
  const tlsConf = [
    `ssl_certificate ${join(creds, "certChain.pem")};`,
    `ssl_certificate_key ${join(creds, "key.pem")};`,
    "ssl_protocols TLSv1.2 TLSv1.3;",
  ].join(" ");
  const conf = [
    `load_module ${NGINX_STREAM_MODULE};`,
    ...nginxCommon(dir),
    "stream {",
    `  upstream app { server 127.0.0.1:${backendPort}; }`,
    `  server { listen 127.0.0.1:${mtls} ssl backlog=4096; ${tlsConf} ssl_client_certificate ${join(creds, "mesh-ca.pem")}; ssl_verify_client on; proxy_pass app; }`,
    `  server { listen 127.0.0.1:${tls} ssl backlog=4096; ${tlsConf} proxy_pass app; }`,
    "}",
  ];
  const p = await startNginx("nginx stream", dir, conf, [mtls, tls]);
  return { ports: { mtls, tls }, ...p };
}

/**
 * The Node that runs our proxy: BENCH_NODE, or the one running the bench. The images ship their
 * own Node runtime, so the bench can measure the one they ship.
 */
const proxyNode = process.env.BENCH_NODE || process.execPath;

/** Our proxy in standalone mode, one process per port (each a single Node thread). */
export async function startOurs(bundle, creds, backendPort, { profileDir } = {}) {
  const mtls = await freePort();
  const tls = await freePort();
  const node = [proxyNode, ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), bundle];
  const common = ["ingress", "--tls-dir", creds, "--upstream", `127.0.0.1:${backendPort}`];
  const a = await startProcess("ours (mTLS)", [...node, ...common, "--listen", `127.0.0.1:${mtls}`], [mtls]);
  let b;
  try {
    b = await startProcess(
      "ours (TLS)",
      [...node, ...common, "--listen", `127.0.0.1:${tls}`, "--no-client-auth"],
      [tls],
    );
  } catch (e) {
    await a.stop();
    throw e;
  }
  return {
    ports: { mtls, tls },
    name: "ours",
    procs: [a.proc, b.proc],
    stop: () => Promise.all([a.stop(), b.stop()]),
  };
}

/**
 * The client side of the mTLS runs, the same for every proxy under test: one haproxy (one thread)
 * that takes wrk's plaintext and opens a TLS connection with the client mesh certificate to each
 * target (verifying it against the mesh CA), a full handshake per connection (`no-ssl-reuse`).
 * wrk itself cannot present a client certificate.
 */
export async function startClientSide(dir, creds, targets) {
  const listeners = {};
  const lines = [
    "global",
    "  nbthread 1",
    "  maxconn 8000",
    "defaults",
    "  mode tcp",
    "  timeout connect 5s",
    "  timeout client 120s",
    "  timeout server 120s",
  ];
  for (const [name, port] of Object.entries(targets)) {
    listeners[name] = await freePort();
    lines.push(
      `listen to_${name}`,
      `  bind 127.0.0.1:${listeners[name]}`,
      `  server target 127.0.0.1:${port} ssl crt ${join(creds, "haproxy.pem")} ca-file ${join(creds, "mesh-ca.pem")} verify required no-ssl-reuse`,
    );
  }
  const file = join(dir, "client-haproxy.cfg");
  writeFileSync(file, `${lines.join("\n")}\n`);
  const p = await startProcess("client-side haproxy", ["haproxy", "-f", file, "-db"], Object.values(listeners));
  return { ports: listeners, ...p };
}

/**
 * The mesh path with each kind on both sides: nginx stream originating mTLS to `targetPort` with
 * the client mesh certificate (the server verified against the mesh CA, as `server`), one worker,
 * a full handshake per connection.
 */
export async function startNginxClient(dir, creds, targetPort) {
  const port = await freePort();
  const conf = [
    `load_module ${NGINX_STREAM_MODULE};`,
    ...nginxCommon(dir),
    "stream {",
    `  server { listen 127.0.0.1:${port} backlog=4096; proxy_pass 127.0.0.1:${targetPort}; proxy_ssl on;`,
    `    proxy_ssl_certificate ${join(creds, "certChain.pem")}; proxy_ssl_certificate_key ${join(creds, "key.pem")};`,
    `    proxy_ssl_trusted_certificate ${join(creds, "mesh-ca.pem")}; proxy_ssl_verify on; proxy_ssl_verify_depth 2;`,
    "    proxy_ssl_name server; proxy_ssl_session_reuse off; }",
    "}",
  ];
  const p = await startNginx("nginx stream client", dir, conf, [port]);
  return { port, ...p };
}

/** Our proxy's egress side (standalone `service-mesh egress`) to `remotePort`, one process. */
export async function startOursEgress(bundle, creds, remotePort) {
  const port = await freePort();
  const p = await startProcess(
    "ours (egress)",
    [
      proxyNode,
      bundle,
      "egress",
      "--tls-dir",
      creds,
      "--listen",
      `127.0.0.1:${port}`,
      "--remote",
      `127.0.0.1:${remotePort}`,
    ],
    [port],
  );
  return { port, ...p };
}
