import { spawn } from "node:child_process";
import type { DockerConfig } from "./docker-config.js";
import { ImageError } from "./errors.js";
import { DOCKER_HUB } from "./reference.js";
import type { RegistryCredentials } from "./registry.js";

/** What running a program gave: its exit code (undefined when it could not be started) and output. */
export interface HelperRun {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started (ENOENT: not installed). */
  readonly spawnError?: string;
}

/** Runs `program args…` with `stdin` as its standard input; injected so the library spawns nothing itself. */
export type RunProgram = (program: string, args: readonly string[], stdin: string) => Promise<HelperRun>;

/** How long a credential helper may take (a keychain may ask for a passphrase first). */
const HELPER_TIMEOUT_MS = 60_000;

/** RunProgram with node:child_process (for programs; tests pass their own). */
export const nodeRunProgram: RunProgram = (program, args, stdin) =>
  new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    // Not spawn's own `timeout`: its timer outlives a program that never started.
    const timer = setTimeout(() => child.kill("SIGKILL"), HELPER_TIMEOUT_MS);
    timer.unref();
    const done = (run: HelperRun) => {
      clearTimeout(timer);
      resolve(run);
    };
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", (e: NodeJS.ErrnoException) =>
      done({ code: undefined, stdout, stderr, spawnError: e.code ?? e.message }),
    );
    child.on("close", (code, signal) =>
      done({ code: code ?? undefined, stdout, stderr: signal === null ? stderr : `${stderr}killed by ${signal}` }),
    );
    child.stdin.on("error", () => {}); // a helper that exits without reading its input
    child.stdin.end(stdin);
  });

/** Docker's key for Docker Hub, which its helpers store logins under. */
const DOCKER_HUB_SERVER = "https://index.docker.io/v1/";

/**
 * Registry credentials as Docker finds them (docker/cli's config file store): a per-registry
 * `credHelpers` entry, else the `credsStore` helper, asked with the `get` verb of the
 * docker-credential-helpers protocol; `auths` when no helper is configured or the helper has no
 * login for the registry. Each registry's helper runs at most once (the answer is kept).
 *
 * A helper answering with the user name `<token>` holds an identity token (an OAuth2 refresh
 * token), which registries only take through their token endpoint's refresh grant; that is not
 * implemented, so such a login counts as none, and the registry's refusal names the helper.
 */
export function dockerCredentialSource(
  config: DockerConfig,
  run: RunProgram,
): (registry: string) => Promise<RegistryCredentials | undefined> {
  const answers = new Map<string, Promise<RegistryCredentials | undefined>>();
  return (registry) => {
    let answer = answers.get(registry);
    if (answer === undefined) {
      answer = lookup(config, run, registry);
      answers.set(registry, answer);
    }
    return answer;
  };
}

async function lookup(
  config: DockerConfig,
  run: RunProgram,
  registry: string,
): Promise<RegistryCredentials | undefined> {
  const helper = config.credHelpers.get(registry) ?? config.credsStore;
  if (helper !== undefined) {
    const fromHelper = await askHelper(helper, run, registry);
    if (fromHelper !== undefined) return fromHelper;
  }
  return config.credentials.get(registry);
}

async function askHelper(helper: string, run: RunProgram, registry: string): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const server = registry === DOCKER_HUB ? DOCKER_HUB_SERVER : registry;
  const r = await run(program, ["get"], server);
  if (r.spawnError !== undefined) {
    throw new ImageError("DOCKER_CREDENTIAL_HELPER_FAILED", `${program} could not be started: ${r.spawnError}`, {
      hint: `Docker's config.json names the credential helper "${helper}": install ${program} on the PATH, or remove the helper from config.json.`,
      details: { helper: program, registry },
      kind: "io",
    });
  }
  // Helpers report a missing login as exit status 1 with this text (docker-credential-helpers'
  // ErrCredentialsNotFound); older ones answer status 0 with empty fields.
  if (r.code !== 0 && /credentials not found/i.test(`${r.stdout}${r.stderr}`)) return undefined;
  if (r.code !== 0) {
    throw new ImageError(
      "DOCKER_CREDENTIAL_HELPER_FAILED",
      `${program} get ${server} failed (exit status ${r.code}): ${firstLine(r.stderr || r.stdout)}`,
      {
        hint: `Run \`echo ${server} | ${program} get\` to see the helper's error (a locked keychain, a missing GPG key), or log in again with docker login.`,
        details: { helper: program, registry, status: r.code ?? -1 },
        kind: "io",
      },
    );
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch (e) {
    throw new ImageError("DOCKER_CREDENTIAL_HELPER_FAILED", `${program} get ${server} did not answer with JSON`, {
      hint: `Check the helper with \`echo ${server} | ${program} get\`; it must print {"Username": …, "Secret": …}.`,
      details: { helper: program, registry },
      kind: "io",
      cause: e,
    });
  }
  const username = typeof doc.Username === "string" ? doc.Username : "";
  const password = typeof doc.Secret === "string" ? doc.Secret : "";
  if (username === "<token>" || (username === "" && password === "")) return undefined;
  return { username, password };
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
