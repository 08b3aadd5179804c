// Mesh credentials for the benchmark, made with the openssl CLI so every proxy under test reads
// the very same files: a self-signed ECDSA P-384 mesh CA (as the Coordinator's), a server leaf
// and a client leaf with P-256 keys signed by it (as the initializer's workload certificates), in
// the initializer's layout (`mesh-ca.pem`, `certChain.pem` = leaf + CA, `key.pem` PKCS#8).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function openssl(args, cwd) {
  // OpenSSL must see the environment any user would; NODE_EXTRA_CA_CERTS is Node's only.
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  execFileSync("openssl", args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
}

function leaf(dir, name, ca) {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem"], out);
  writeFileSync(
    join(out, "ext.cnf"),
    [
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=clientAuth,serverAuth",
      "basicConstraints=critical,CA:FALSE",
      `subjectAltName=DNS:${name},DNS:*.${name}.default.svc.cluster.local,IP:127.0.0.1`,
      "",
    ].join("\n"),
  );
  openssl(["req", "-new", "-key", "key.pem", "-subj", `/CN=${name}`, "-out", "leaf.csr"], out);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      join(ca, "mesh-ca.pem"),
      "-CAkey",
      join(ca, "mesh-ca.key"),
      "-set_serial",
      String(Date.now()),
      "-days",
      "2",
      "-sha384",
      "-extfile",
      "ext.cnf",
      "-out",
      "leaf.pem",
    ],
    out,
  );
  const chain = readFileSync(join(out, "leaf.pem"), "utf8") + readFileSync(join(ca, "mesh-ca.pem"), "utf8");
  writeFileSync(join(out, "certChain.pem"), chain);
  writeFileSync(join(out, "mesh-ca.pem"), readFileSync(join(ca, "mesh-ca.pem")));
  // haproxy wants the chain and the key in one file.
  writeFileSync(join(out, "haproxy.pem"), chain + readFileSync(join(out, "key.pem"), "utf8"));
  return out;
}

/** Makes `<dir>/ca`, `<dir>/server` and `<dir>/client`; returns their paths. */
export function makeMeshCredentials(dir) {
  const ca = join(dir, "ca");
  mkdirSync(ca, { recursive: true });
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "mesh-ca.key"], ca);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "mesh-ca.key",
      "-subj",
      "/CN=system:coordinator:intermediate",
      "-days",
      "2",
      "-sha384",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,digitalSignature,keyCertSign",
      "-out",
      "mesh-ca.pem",
    ],
    ca,
  );
  return { ca, server: leaf(dir, "server", ca), client: leaf(dir, "client", ca) };
}
