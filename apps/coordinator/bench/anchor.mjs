// The anchor of the Coordinator's benchmarks: one P-384 signature plus one P-384 verification, the
// two public-key operations at the heart of a NewMeshCert (the workload's evidence is verified
// with the VCEK's P-384 key; the leaf is signed by the P-384 mesh CA), timed by `openssl speed` on
// one core in the same run.
import { execFileSync } from "node:child_process";

/**
 * Reads `openssl speed` output: the row " 384 bits ecdsa (nistp384)   0.0007s   0.0006s   1500.1   1700.2"
 * holds sign/s and verify/s as its last two numbers. Throws on anything else.
 */
export function parseOpensslEcdsaSpeed(out, bits = 384) {
  const row = out.split("\n").find((l) => new RegExp(`^\\s*${bits} bits ecdsa`).test(l));
  const nums = row?.trim().split(/\s+/).slice(-2).map(Number);
  if (nums?.length !== 2 || nums.some((n) => !Number.isFinite(n) || n <= 0)) {
    throw new Error(`cannot read openssl speed output:\n${out}`);
  }
  return { sign: nums[0], verify: nums[1] };
}

/** Sign/s, verify/s and their combination 1/(1/sign + 1/verify) per core, measured now. */
export function opensslP384Anchor(seconds = 3) {
  // OpenSSL must see the environment any user would; NODE_EXTRA_CA_CERTS is Node's only.
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const out = execFileSync("openssl", ["speed", "-seconds", String(seconds), "ecdsap384"], {
    encoding: "utf8",
    env,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const { sign, verify } = parseOpensslEcdsaSpeed(out);
  const version = execFileSync("openssl", ["version"], { encoding: "utf8", env }).trim();
  return { sign, verify, signPlusVerifyPerS: 1 / (1 / sign + 1 / verify), version };
}
