import { join } from "node:path";
import { isHex, type LogLevel, parseLogLevel } from "@contrast/core";
import { WorkloadError } from "@contrast/workload";
import { Command, CommanderError, Option } from "commander";

export type PlatformChoice = "auto" | "snp" | "tdx" | "sim";
export const PLATFORM_CHOICES: readonly PlatformChoice[] = ["auto", "snp", "tdx", "sim"];

export interface InitializerConfig {
  readonly coordinatorHost: string;
  readonly meshApiPort: number;
  readonly platform: PlatformChoice;
  /** Platform sim: the simulated TEE's authority directory, shared with the Coordinator. */
  readonly simDir: string | undefined;
  /** Platform sim: the 64-hex policy hash the simulated report carries as HOST_DATA. */
  readonly simPolicyHash: string | undefined;
  /** The output root: `/contrast` in a pod. */
  readonly root: string;
  /** Upstream's `/done`; "" writes none. */
  readonly doneFile: string;
  readonly logLevel: LogLevel;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly callTimeoutMs: number;
  /** A manifest whose reference values the Coordinator must attest against; absent: not verified (v1.5). */
  readonly coordinatorManifest: string | undefined;
  /** The Coordinator's policy hash expected with coordinatorManifest. */
  readonly coordinatorPolicyHash: string | undefined;
  /**
   * CONTRAST_SERVICE_MESH_DISABLED set (to anything non-empty, as upstream reads it): the pod has
   * no mesh sidecar to lift the guest's default-deny rule, so the initializer does it first.
   */
  readonly serviceMeshDisabled: boolean;
}

export type ParsedCommandLine =
  | { readonly kind: "run"; readonly config: InitializerConfig }
  | { readonly kind: "print"; readonly text: string };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Each setting: its flag, the environment variable read when the flag is absent, its default.
 * The table is also what `--help` and docs/initializer.md show.
 */
export const SETTINGS = [
  {
    flag: "--coordinator-host <host>",
    env: "COORDINATOR_HOST",
    def: undefined,
    help: "the Coordinator's host name (required; contrast generate sets it)",
  },
  {
    flag: "--mesh-api-port <port>",
    env: "CONTRAST_MESH_API_PORT",
    def: "7777",
    help: "the Coordinator's mesh API port",
  },
  {
    flag: "--platform <name>",
    env: "CONTRAST_PLATFORM",
    def: "auto",
    help: "auto (SEV-SNP or TDX by the guest device), snp, tdx, or sim (insecure: tests and demos)",
  },
  {
    flag: "--sim-dir <dir>",
    env: "CONTRAST_SIM_DIR",
    def: undefined,
    help: "platform sim: the Coordinator's simulated TEE authority (default $XDG_STATE_HOME/contrast/sim)",
  },
  {
    flag: "--sim-policy-hash <hex>",
    env: "CONTRAST_SIM_POLICY_HASH",
    def: undefined,
    help: "platform sim: this pod's policy hash, reported as HOST_DATA (a real TEE gets it from the runtime)",
  },
  {
    flag: "--root <dir>",
    env: "CONTRAST_INITIALIZER_ROOT",
    def: "/contrast",
    help: "where tls-config/ and secrets/ go",
  },
  {
    flag: "--done-file <path>",
    env: "CONTRAST_DONE_FILE",
    def: "/done",
    help: 'written empty after the credentials ("" for none)',
  },
  { flag: "--log-level <level>", env: "CONTRAST_LOG_LEVEL", def: "info", help: "debug, info, warn or error" },
  {
    flag: "--retry-initial <seconds>",
    env: "CONTRAST_RETRY_INITIAL",
    def: "1",
    help: "the first delay between attempts; it doubles up to --retry-max",
  },
  {
    flag: "--retry-max <seconds>",
    env: "CONTRAST_RETRY_MAX",
    def: "5",
    help: "the longest delay between attempts (upstream retries every 5 s)",
  },
  { flag: "--call-timeout <seconds>", env: "CONTRAST_CALL_TIMEOUT", def: "30", help: "deadline of each attempt" },
  {
    flag: "--coordinator-manifest <file>",
    env: "CONTRAST_COORDINATOR_MANIFEST",
    def: undefined,
    help: "verify the Coordinator against this manifest's reference values (off by default, as upstream v1.5)",
  },
  {
    flag: "--coordinator-policy-hash <hex>",
    env: "CONTRAST_COORDINATOR_POLICY_HASH",
    def: undefined,
    help: "with --coordinator-manifest: the Coordinator's policy hash (default on sim: the simulated Coordinator's)",
  },
] as const;

type Flag = (typeof SETTINGS)[number]["flag"];

const attr = (flag: string) =>
  (flag.split(" ")[0] as string).slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

const invalid = (message: string, hint?: string) =>
  new WorkloadError("INITIALIZER_CONFIG_INVALID", message, hint === undefined ? {} : { hint });

function seconds(flag: string, text: string, min: number): number {
  const v = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(v) || v < min) {
    throw invalid(`${flag} must be a number of seconds ≥ ${min}, not ${JSON.stringify(text)}`);
  }
  return v;
}

function policyHash(flag: string, text: string): string {
  if (text.length !== 64 || !isHex(text))
    throw invalid(`${flag} must be 64 hex digits (a SHA-256), not ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

/**
 * Reads the configuration from the command line and the environment (flags win, empty
 * variables count as unset). Throws a WorkloadError with an INITIALIZER_* code for anything it
 * cannot use.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Env,
  home: string | undefined,
  version: string,
): ParsedCommandLine {
  let printed = "";
  const program = new Command("contrast-initializer")
    .description("The Contrast initializer: attests the pod to the Coordinator and writes its mesh credentials.")
    .version(version, "--version")
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({ writeOut: (s) => (printed += s), writeErr: (s) => (printed += s) });
  for (const s of SETTINGS) program.addOption(new Option(s.flag, `${s.help} [env ${s.env}]`));
  try {
    program.parse([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version")
        return { kind: "print", text: printed };
      throw invalid(e.message.replace(/^error: /, ""));
    }
    throw e;
  }
  const opts = program.opts<Record<string, string | undefined>>();
  const value = (flag: Flag): string | undefined => {
    const s = SETTINGS.find((x) => x.flag === flag) as (typeof SETTINGS)[number];
    const fromEnv = env[s.env];
    return opts[attr(flag)] ?? (fromEnv === undefined || fromEnv === "" ? undefined : fromEnv) ?? s.def;
  };

  const coordinatorHost = value("--coordinator-host <host>");
  if (coordinatorHost === undefined) {
    throw new WorkloadError("INITIALIZER_COORDINATOR_HOST_REQUIRED", "COORDINATOR_HOST not set");
  }
  const portText = value("--mesh-api-port <port>") as string;
  const meshApiPort = Number(portText);
  if (!/^\d+$/.test(portText) || meshApiPort < 1 || meshApiPort > 65535) {
    throw invalid(`--mesh-api-port must be a port number 1–65535, not ${JSON.stringify(portText)}`);
  }
  const platform = value("--platform <name>") as string;
  if (!(PLATFORM_CHOICES as readonly string[]).includes(platform)) {
    throw invalid(`unknown platform ${JSON.stringify(platform)}: use auto, snp, tdx or sim`);
  }

  let simDir: string | undefined;
  let simPolicyHash: string | undefined;
  if (platform === "sim") {
    simDir = value("--sim-dir <dir>");
    if (simDir === undefined) {
      const state = env.XDG_STATE_HOME || (home === undefined ? undefined : join(home, ".local/state"));
      if (state === undefined) throw invalid("no --sim-dir and neither XDG_STATE_HOME nor HOME is set");
      simDir = join(state, "contrast/sim");
    }
    const hash = value("--sim-policy-hash <hex>");
    if (hash === undefined) {
      throw new WorkloadError("INITIALIZER_SIM_POLICY_HASH_REQUIRED", "platform sim needs --sim-policy-hash");
    }
    simPolicyHash = policyHash("--sim-policy-hash", hash);
  } else if (opts.simDir !== undefined || opts.simPolicyHash !== undefined) {
    throw invalid("--sim-dir and --sim-policy-hash are for --platform sim only");
  }

  let logLevel: LogLevel;
  try {
    logLevel = parseLogLevel(value("--log-level <level>") as string);
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : String(e));
  }
  const retryInitialMs = Math.round(
    seconds("--retry-initial", value("--retry-initial <seconds>") as string, 0.01) * 1000,
  );
  const retryMaxMs = Math.round(seconds("--retry-max", value("--retry-max <seconds>") as string, 0.01) * 1000);
  if (retryMaxMs < retryInitialMs) throw invalid("--retry-max must not be shorter than --retry-initial");
  const callTimeoutMs = Math.round(seconds("--call-timeout", value("--call-timeout <seconds>") as string, 0.1) * 1000);

  const coordinatorManifest = value("--coordinator-manifest <file>");
  const coordinatorHashText = value("--coordinator-policy-hash <hex>");
  if (coordinatorManifest === undefined && opts.coordinatorPolicyHash !== undefined) {
    throw invalid("--coordinator-policy-hash needs --coordinator-manifest");
  }
  const coordinatorPolicyHash =
    coordinatorHashText === undefined ? undefined : policyHash("--coordinator-policy-hash", coordinatorHashText);
  if (coordinatorManifest !== undefined && coordinatorPolicyHash === undefined && platform !== "sim") {
    throw invalid(
      "--coordinator-manifest needs --coordinator-policy-hash on hardware platforms",
      "Pass the Coordinator's policy hash, as contrast set --coordinator-policy-hash takes it.",
    );
  }
  return {
    kind: "run",
    config: {
      coordinatorHost,
      meshApiPort,
      platform: platform as PlatformChoice,
      simDir,
      simPolicyHash,
      root: value("--root <dir>") as string,
      doneFile: opts.doneFile ?? env.CONTRAST_DONE_FILE ?? "/done",
      logLevel,
      retryInitialMs,
      retryMaxMs,
      callTimeoutMs,
      coordinatorManifest,
      coordinatorPolicyHash,
      serviceMeshDisabled: (env.CONTRAST_SERVICE_MESH_DISABLED ?? "") !== "",
    },
  };
}
