import { type ExecFileSyncOptions, execFileSync } from "node:child_process";

/** Child processes must not inherit NODE_EXTRA_CA_CERTS (it changes OpenSSL-facing behaviour). */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Runs the real `openssl` binary and returns its stdout. */
export function openssl(args: readonly string[], options: ExecFileSyncOptions = {}): Buffer {
  return execFileSync("openssl", args, { env: childEnv(), stdio: ["pipe", "pipe", "pipe"], ...options }) as Buffer;
}

/**
 * A self-signed P-256 certificate made by openssl (valid one day), for servers that tests need to
 * be ordinary TLS: `<dir>/<name>.key.pem` and `<dir>/<name>.cert.pem`. `extensions` are `-addext` values.
 */
export function opensslSelfSigned(
  dir: string,
  subjectCn: string,
  extensions: readonly string[] = [],
  name = "self-signed",
): { readonly keyPath: string; readonly certPath: string } {
  const keyPath = `${dir}/${name}.key.pem`;
  const certPath = `${dir}/${name}.cert.pem`;
  openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "1",
    "-subj",
    `/CN=${subjectCn}`,
    ...extensions.flatMap((e) => ["-addext", e]),
  ]);
  return { keyPath, certPath };
}
