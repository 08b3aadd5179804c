import { join } from "node:path";
import { ContrastError, type LogLevel, parseLogLevel } from "@contrast/core";
import { SIM_COORDINATOR_POLICY_HASH } from "@contrast/manifest";
import { Command, CommanderError, Option } from "commander";
import { ServerError } from "./error.js";

export type Platform = "sim" | "snp" | "tdx";
export const PLATFORM_NAMES: readonly Platform[] = ["sim", "snp", "tdx"];

export type StoreConfig =
  | { readonly kind: "fs"; readonly stateDir: string }
  | {
      readonly kind: "configmap";
      readonly namespace: string;
      /** A kubeconfig file to reach the API server; absent: the pod's own (in-cluster) access. */
      readonly kubeconfig: string | undefined;
      /** This Coordinator's pod name, never its own peer. */
      readonly podName: string | undefined;
      readonly peerRecoveryIntervalMs: number;
    };

export interface CoordinatorConfig {
  readonly platform: Platform;
  readonly store: StoreConfig;
  /** The address all three servers listen on. */
  readonly host: string;
  readonly userApiPort: number;
  readonly meshApiPort: number;
  readonly probePort: number;
  readonly logLevel: LogLevel;
  /** Where the simulated TEE's authority is kept (platform sim only). */
  readonly simDir: string | undefined;
  /**
   * The policy hash the simulated TEE's reports carry as HOST_DATA (platform sim only; lower-case
   * hex). A real TEE's runtime fixes it from the pod's policy annotation; a local runtime playing
   * that part passes it in, and a Coordinator run by hand gets the fixed SIM_COORDINATOR_POLICY_HASH.
   */
  readonly simPolicyHash: string | undefined;
  /** How long SIGTERM waits for open calls before cutting connections. */
  readonly shutdownBudgetMs: number;
  /** From a connection's first byte to a finished aTLS handshake. */
  readonly handshakeTimeoutMs: number;
  /** What to do with the pod VM's default-deny rule at startup (default-deny.ts). */
  readonly defaultDeny: DefaultDenyMode;
}

export type DefaultDenyMode = "auto" | "remove" | "keep";
export const DEFAULT_DENY_MODES: readonly DefaultDenyMode[] = ["auto", "remove", "keep"];

/** What parsing the command line asks for: run, or print help/version and exit 0. */
export type ParsedCommandLine =
  | { readonly kind: "run"; readonly config: CoordinatorConfig }
  | { readonly kind: "print"; readonly text: string };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Each setting: its flag, the environment variable read when the flag is absent, and its default.
 * The table is also what `--help` and docs/coordinator-operations.md show.
 */
export const SETTINGS = [
  { flag: "--platform <name>", env: "CONTRAST_PLATFORM", def: undefined, help: "sim, snp or tdx (required)" },
  { flag: "--store <kind>", env: "CONTRAST_STORE", def: "fs", help: "where the history is kept: fs or configmap" },
  { flag: "--state-dir <dir>", env: "CONTRAST_STATE_DIR", def: undefined, help: "the history directory (store fs)" },
  {
    flag: "--namespace <name>",
    env: "CONTRAST_NAMESPACE",
    def: undefined,
    help: "the Kubernetes namespace of the ConfigMaps (store configmap)",
  },
  {
    flag: "--kubeconfig <file>",
    env: "CONTRAST_KUBECONFIG",
    def: undefined,
    help: "store configmap: a kubeconfig instead of the pod's in-cluster access",
  },
  {
    flag: "--pod-name <name>",
    env: "HOSTNAME",
    def: undefined,
    help: "store configmap: this Coordinator's pod name (peer discovery skips it)",
  },
  {
    flag: "--peer-recovery-interval <seconds>",
    env: "CONTRAST_PEER_RECOVERY_INTERVAL",
    def: "10",
    help: "store configmap: how often a Coordinator in recovery asks its peers",
  },
  { flag: "--host <address>", env: "CONTRAST_LISTEN_HOST", def: "0.0.0.0", help: "the address to listen on" },
  { flag: "--user-api-port <port>", env: "CONTRAST_USER_API_PORT", def: "1313", help: "the user API (aTLS)" },
  { flag: "--mesh-api-port <port>", env: "CONTRAST_MESH_API_PORT", def: "7777", help: "the mesh API (aTLS)" },
  {
    flag: "--probe-port <port>",
    env: "CONTRAST_PROBE_PORT",
    def: "9102",
    help: "HTTP: /probe/startup, /probe/liveness, /probe/readiness, /metrics",
  },
  { flag: "--log-level <level>", env: "CONTRAST_LOG_LEVEL", def: "info", help: "debug, info, warn or error" },
  {
    flag: "--sim-dir <dir>",
    env: "CONTRAST_SIM_DIR",
    def: undefined,
    help: "the simulated TEE's authority (platform sim; default $XDG_STATE_HOME/contrast/sim)",
  },
  {
    flag: "--sim-policy-hash <hex>",
    env: "CONTRAST_SIM_POLICY_HASH",
    def: undefined,
    help: "platform sim: the policy hash reported as HOST_DATA (default SIM_COORDINATOR_POLICY_HASH; a real TEE gets it from the runtime)",
  },
  {
    flag: "--handshake-timeout <seconds>",
    env: "CONTRAST_HANDSHAKE_TIMEOUT",
    def: "30",
    help: "how long a client may take from its first byte to a finished aTLS handshake",
  },
  {
    flag: "--shutdown-budget <seconds>",
    env: "CONTRAST_SHUTDOWN_BUDGET",
    def: "20",
    help: "on SIGTERM, how long open calls may finish before connections are cut",
  },
  {
    flag: "--default-deny <mode>",
    env: "CONTRAST_DEFAULT_DENY",
    def: "auto",
    help: "the pod VM's default-deny iptables rule: auto (lift it on snp and tdx, leave it on sim), remove, or keep",
  },
] as const;

const attr = (flag: string) =>
  (flag.split(" ")[0] as string).slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * Reads the configuration from the command line and the environment (flags win). Throws a
 * ServerError (SERVER_CONFIG_INVALID, SERVER_PLATFORM_REQUIRED) on anything it cannot use; there
 * is no silent fallback for the platform.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Env,
  home: string | undefined,
  version: string,
): ParsedCommandLine {
  let printed = "";
  const program = new Command("contrast-coordinator")
    .description("The Contrast Coordinator: user API, mesh API, probes and metrics.")
    .version(version, "--version")
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({ writeOut: (s) => (printed += s), writeErr: (s) => (printed += s) });
  for (const s of SETTINGS) program.addOption(new Option(s.flag, `${s.help} [env ${s.env}]`));
  try {
    program.parse([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") {
        return { kind: "print", text: printed };
      }
      throw new ServerError("SERVER_CONFIG_INVALID", e.message.replace(/^error: /, ""));
    }
    throw e;
  }
  const opts = program.opts<Record<string, string | undefined>>();
  const value = (flag: (typeof SETTINGS)[number]["flag"]): string | undefined => {
    const s = SETTINGS.find((x) => x.flag === flag);
    if (s === undefined) throw new Error(`unknown setting ${flag}`);
    const v = opts[attr(flag)] ?? nonEmpty(env[s.env]);
    return v ?? s.def;
  };

  const platformText = value("--platform <name>");
  if (platformText === undefined) {
    throw new ServerError("SERVER_PLATFORM_REQUIRED", "no platform given: pass --platform sim, snp or tdx");
  }
  if (!(PLATFORM_NAMES as readonly string[]).includes(platformText)) {
    throw new ServerError(
      "SERVER_CONFIG_INVALID",
      `unknown platform ${JSON.stringify(platformText)}: use sim, snp or tdx`,
      { hint: "sim runs without a TEE (insecure, for development); snp and tdx need the hardware." },
    );
  }
  const platform = platformText as Platform;

  const storeKind = value("--store <kind>");
  let store: StoreConfig;
  if (storeKind === "fs") {
    const stateDir = value("--state-dir <dir>");
    if (stateDir === undefined) {
      throw new ServerError("SERVER_CONFIG_INVALID", "store fs needs --state-dir (or CONTRAST_STATE_DIR)", {
        hint: "In the Coordinator's pod this is the state volume, /mnt/state upstream.",
      });
    }
    store = { kind: "fs", stateDir };
  } else if (storeKind === "configmap") {
    const namespace = value("--namespace <name>");
    if (namespace === undefined) {
      throw new ServerError("SERVER_CONFIG_INVALID", "store configmap needs --namespace (or CONTRAST_NAMESPACE)", {
        hint: "Pass the namespace the Coordinator runs in, e.g. from the downward API.",
      });
    }
    store = {
      kind: "configmap",
      namespace,
      kubeconfig: value("--kubeconfig <file>"),
      podName: value("--pod-name <name>"),
      peerRecoveryIntervalMs: Math.round(
        seconds("--peer-recovery-interval", value("--peer-recovery-interval <seconds>") ?? "10", 0.1) * 1000,
      ),
    };
  } else {
    throw new ServerError("SERVER_CONFIG_INVALID", `unknown store ${JSON.stringify(storeKind)}: use fs or configmap`);
  }

  const userApiPort = port("--user-api-port", value("--user-api-port <port>"));
  const meshApiPort = port("--mesh-api-port", value("--mesh-api-port <port>"));
  const probePort = port("--probe-port", value("--probe-port <port>"));
  const named = [
    ["--user-api-port", userApiPort],
    ["--mesh-api-port", meshApiPort],
    ["--probe-port", probePort],
  ] as const;
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const a = named[i] as (typeof named)[number];
      const b = named[j] as (typeof named)[number];
      if (a[1] === b[1] && a[1] !== 0) {
        throw new ServerError("SERVER_CONFIG_INVALID", `${a[0]} and ${b[0]} are both ${a[1]}; each needs its own port`);
      }
    }
  }

  let logLevel: LogLevel;
  try {
    logLevel = parseLogLevel(value("--log-level <level>") ?? "info");
  } catch (e) {
    throw new ServerError("SERVER_CONFIG_INVALID", e instanceof ContrastError ? e.message : String(e), {
      hint: "Use debug, info, warn or error.",
    });
  }

  const budget = seconds("--shutdown-budget", value("--shutdown-budget <seconds>") ?? "20", 0);
  const handshakeTimeout = seconds("--handshake-timeout", value("--handshake-timeout <seconds>") ?? "30", 0.1);

  let simDir = value("--sim-dir <dir>");
  if (platform === "sim" && simDir === undefined) {
    const state = nonEmpty(env.XDG_STATE_HOME) ?? (home === undefined ? undefined : join(home, ".local/state"));
    if (state === undefined) {
      throw new ServerError("SERVER_CONFIG_INVALID", "no --sim-dir and neither XDG_STATE_HOME nor HOME is set");
    }
    simDir = join(state, "contrast/sim");
  }
  if (platform !== "sim" && simDir !== undefined && opts.simDir !== undefined) {
    throw new ServerError("SERVER_CONFIG_INVALID", `--sim-dir applies to platform sim only, not ${platform}`);
  }

  const simPolicyHashText = value("--sim-policy-hash <hex>");
  if (platform !== "sim" && opts.simPolicyHash !== undefined) {
    throw new ServerError("SERVER_CONFIG_INVALID", `--sim-policy-hash applies to platform sim only, not ${platform}`, {
      hint: "On snp and tdx the hardware reports the policy hash the runtime measured; drop the flag.",
    });
  }
  let simPolicyHash: string | undefined;
  if (platform === "sim") {
    simPolicyHash = (simPolicyHashText ?? SIM_COORDINATOR_POLICY_HASH).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(simPolicyHash)) {
      throw new ServerError(
        "SERVER_CONFIG_INVALID",
        `--sim-policy-hash ${JSON.stringify(simPolicyHashText)} is not 64 hex characters (a SHA-256)`,
        {
          hint: "Pass the SHA-256 of the Coordinator's policy annotation, as `contrast generate` writes it into the manifest.",
        },
      );
    }
  }

  const defaultDeny = value("--default-deny <mode>") ?? "auto";
  if (!(DEFAULT_DENY_MODES as readonly string[]).includes(defaultDeny)) {
    throw new ServerError(
      "SERVER_CONFIG_INVALID",
      `unknown --default-deny ${JSON.stringify(defaultDeny)}: use auto, remove or keep`,
    );
  }

  return {
    kind: "run",
    config: {
      platform,
      store,
      host: value("--host <address>") ?? "0.0.0.0",
      userApiPort,
      meshApiPort,
      probePort,
      logLevel,
      simDir: platform === "sim" ? simDir : undefined,
      simPolicyHash,
      shutdownBudgetMs: Math.round(budget * 1000),
      handshakeTimeoutMs: Math.round(handshakeTimeout * 1000),
      defaultDeny: defaultDeny as DefaultDenyMode,
    },
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}

function seconds(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(n) || n < min || n > 3600) {
    throw new ServerError("SERVER_CONFIG_INVALID", `${flag} ${JSON.stringify(text)} is not ${min}..3600 seconds`);
  }
  return n;
}

function port(flag: string, text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || n > 65535) {
    throw new ServerError("SERVER_CONFIG_INVALID", `${flag} ${JSON.stringify(text)} is not a port number (0-65535)`);
  }
  return n;
}
