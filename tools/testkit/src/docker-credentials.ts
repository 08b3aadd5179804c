import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * A private `pass` password store with its own GnuPG home under `dir`, for Docker's real
 * `docker-credential-pass` helper: `env` holds GNUPGHOME and PASSWORD_STORE_DIR, which the helper
 * (and `docker login` running it) must see. The key has no passphrase, so no pinentry is asked.
 */
export interface PassStore {
  readonly env: Readonly<Record<string, string>>;
  /** Stores a login the way `docker login` does through the helper. */
  store(serverUrl: string, username: string, secret: string): void;
  /** Stops the gpg-agent the store started. */
  close(): void;
}

export function passStoreAvailable(): boolean {
  try {
    for (const tool of ["gpg", "pass", "docker-credential-pass"]) execFileSync("sh", ["-c", `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

export function createPassStore(dir: string): PassStore {
  const gnupg = join(dir, "gnupg");
  mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: gnupg, PASSWORD_STORE_DIR: join(dir, "password-store") };
  const run = (file: string, args: readonly string[], input?: string) =>
    execFileSync(file, args, { env: { ...process.env, ...env }, input, stdio: ["pipe", "pipe", "pipe"] });
  const uid = "contrast-test@example.invalid";
  run("gpg", [
    "--batch",
    "--pinentry-mode",
    "loopback",
    "--passphrase",
    "",
    "--quick-gen-key",
    uid,
    "default",
    "default",
    "never",
  ]);
  run("pass", ["init", uid]);
  return {
    env,
    store: (serverUrl, username, secret) =>
      run(
        "docker-credential-pass",
        ["store"],
        JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret }),
      ),
    close: () => {
      try {
        run("gpgconf", ["--kill", "gpg-agent"]);
      } catch {
        // the agent is gone already
      }
    },
  };
}

/**
 * `docker login` with the real Docker CLI (no daemon needed), writing the login into
 * `<configDir>/config.json` itself. Docker picks a credential helper by default when `pass` or
 * `docker-credential-secretservice` is installed; a PATH holding only the docker binary keeps
 * the login in the file, as on a machine without them.
 */
export function dockerLoginToFile(host: string, username: string, password: string, configDir: string): void {
  const bin = join(configDir, ".docker-only-bin");
  mkdirSync(bin, { recursive: true });
  const docker = execFileSync("sh", ["-c", "command -v docker"], { encoding: "utf8" }).trim();
  if (!existsSync(join(bin, "docker"))) symlinkSync(docker, join(bin, "docker"));
  execFileSync(join(bin, "docker"), ["login", host, "-u", username, "--password-stdin"], {
    input: `${password}\n`,
    env: { PATH: bin, HOME: configDir, DOCKER_CONFIG: configDir },
    stdio: ["pipe", "ignore", "pipe"],
  });
}
