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
