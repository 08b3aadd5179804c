import { type LogLevel, parseLogLevel } from "@contrast/core";
import { type HostPort, MeshProxyError, type ProxyTimeouts, parseHostPort } from "@contrast/mesh-proxy";
import { Command, CommanderError } from "commander";

/** The settings both modes share. */
export interface CommonOptions {
  readonly tlsDir: string;
  readonly logLevel: LogLevel;
  /** Written (empty) once the proxy serves; "" for none. */
  readonly readyFile: string;
  readonly drainMs: number;
  readonly maxHandshakes: number;
  readonly timeouts: ProxyTimeouts;
  /** The admin interface's address, when --admin-port is given. */
  readonly admin: HostPort | undefined;
}

/** `service-mesh ingress`: one ingress port without iptables. */
export interface StandaloneOptions extends CommonOptions {
  readonly mode: "ingress";
  readonly listen: HostPort;
  readonly upstream: HostPort;
  readonly clientAuth: "required" | "none";
}

/** `service-mesh egress`: one egress listener without a pod (the client side of a mesh hop). */
export interface StandaloneEgressOptions extends CommonOptions {
  readonly mode: "egress";
  readonly listen: HostPort;
  readonly remote: HostPort;
}

/** `service-mesh [run]`: the sidecar in a pod, configured by CONTRAST_* variables. */
export interface PodOptions extends CommonOptions {
  readonly mode: "run";
  /** Where the admin interface listens when CONTRAST_ADMIN_PORT (or --admin-port) is set. */
  readonly adminAddress: string;
  /** The native addon reading SO_ORIGINAL_DST; default: next to the bundle. */
  readonly addonPath: string | undefined;
  /** Extra arguments (upstream passes Envoy's, e.g. `-l debug`): accepted and ignored. */
  readonly ignored: readonly string[];
}

export type ParsedCommandLine =
  | StandaloneOptions
  | StandaloneEgressOptions
  | PodOptions
  | { readonly mode: "print"; readonly text: string };

const invalid = (message: string) => new MeshProxyError("PROXY_FLAG_INVALID", message);

function seconds(flag: string, text: string): number {
  const v = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(v) || v <= 0) {
    throw invalid(`${flag} must be a positive number of seconds, not ${JSON.stringify(text)}`);
  }
  return Math.round(v * 1000);
}

function count(flag: string, text: string): number {
  if (!/^[1-9]\d{0,6}$/.test(text)) throw invalid(`${flag} must be a whole number ≥ 1, not ${JSON.stringify(text)}`);
  return Number(text);
}

function logLevel(text: string): LogLevel {
  // Envoy's levels (upstream's sidecar is started with `-l debug`) map onto ours.
  const envoy: Record<string, LogLevel> = { trace: "debug", warning: "warn", critical: "error", off: "error" };
  const mapped = envoy[text] ?? text;
  try {
    return parseLogLevel(mapped);
  } catch {
    throw invalid(`--log-level must be debug, info, warn or error, not ${JSON.stringify(text)}`);
  }
}

function common(cmd: Command): Command {
  return cmd
    .option("--tls-dir <dir>", "the initializer's certChain.pem, key.pem and mesh-ca.pem", "/contrast/tls-config")
    .option("-l, --log-level <level>", "debug, info, warn or error (Envoy's trace, warning, critical too)", "info")
    .option("--ready-file <path>", 'written empty once the proxy serves ("" for none)')
    .option("--admin-port <port>", "serve /metrics, /stats/prometheus, /healthz and /ready on this port")
    .option("--admin-address <ip>", "the admin interface's address", "0.0.0.0")
    .option("--drain-timeout <seconds>", "on SIGTERM/SIGINT: how long open connections may finish", "20")
    .option("--handshake-timeout <seconds>", "TLS handshake deadline", "10")
    .option("--connect-timeout <seconds>", "upstream connect deadline", "5")
    .option("--idle-timeout <seconds>", "close a connection idle in both directions this long", "3600")
    .option("--half-open-timeout <seconds>", "close a connection this long after one direction ended", "60")
    .option("--max-handshakes <n>", "concurrent TLS handshakes; more connections are closed at once", "1024");
}

function commonOptions(opts: Record<string, string | boolean | undefined>, readyDefault: string): CommonOptions {
  const str = (k: string) => opts[k] as string;
  let admin: HostPort | undefined;
  if (opts.adminPort !== undefined) {
    const address = str("adminAddress");
    admin = parseHostPort(
      `${address.includes(":") ? `[${address}]` : address}:${str("adminPort")}`,
      "--admin-address/--admin-port",
      { allowPortZero: true },
    );
  }
  return {
    tlsDir: str("tlsDir"),
    logLevel: logLevel(str("logLevel")),
    readyFile: (opts.readyFile as string | undefined) ?? readyDefault,
    drainMs: seconds("--drain-timeout", str("drainTimeout")),
    maxHandshakes: count("--max-handshakes", str("maxHandshakes")),
    timeouts: {
      handshakeMs: seconds("--handshake-timeout", str("handshakeTimeout")),
      connectMs: seconds("--connect-timeout", str("connectTimeout")),
      idleMs: seconds("--idle-timeout", str("idleTimeout")),
      halfOpenMs: seconds("--half-open-timeout", str("halfOpenTimeout")),
    },
    admin,
  };
}

/**
 * Reads the command line. Pod mode (`run`, also with no command) takes what upstream's sidecar is
 * started with (`-l debug`, Envoy arguments) and ignores what it does not know; `ingress` is strict.
 * The admin port of pod mode comes from CONTRAST_ADMIN_PORT, read with the other variables.
 */
export function parseCommandLine(argv: readonly string[], version: string): ParsedCommandLine {
  let printed = "";
  let result: ParsedCommandLine | undefined;
  const program = new Command("service-mesh")
    .description("The Contrast service-mesh proxy: mesh TLS for a confidential pod.")
    .version(version, "--version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => (printed += s), writeErr: (s) => (printed += s) });

  const ingress = common(new Command("ingress"))
    .description("standalone: terminate TLS on one port and forward to one upstream, without iptables")
    .requiredOption("--listen <addr:port>", "where to accept TLS, e.g. 127.0.0.1:15006")
    .requiredOption("--upstream <addr:port>", "where to forward the plaintext, e.g. 127.0.0.1:8080")
    .option("--no-client-auth", "TLS without client certificates (as a name#port#false port)")
    .allowExcessArguments(false)
    .action((opts: Record<string, string | boolean | undefined>) => {
      result = {
        mode: "ingress",
        ...commonOptions(opts, ""),
        listen: parseHostPort(opts.listen as string, "--listen", { allowPortZero: true }),
        upstream: parseHostPort(opts.upstream as string, "--upstream"),
        clientAuth: opts.clientAuth === false ? "none" : "required",
      };
    });
  const egress = common(new Command("egress"))
    .description("standalone: accept plaintext on one address and forward it over mTLS to one remote")
    .requiredOption("--listen <addr:port>", "where the application connects in plaintext, e.g. 127.0.0.1:8081")
    .requiredOption("--remote <addr:port>", "the mesh peer's TLS address, e.g. 10.0.0.7:8080")
    .allowExcessArguments(false)
    .action((opts: Record<string, string | boolean | undefined>) => {
      result = {
        mode: "egress",
        ...commonOptions(opts, ""),
        listen: parseHostPort(opts.listen as string, "--listen", { allowPortZero: true }),
        remote: parseHostPort(opts.remote as string, "--remote"),
      };
    });
  const run = common(new Command("run"))
    .description("pod mode (the default): listeners 15006/15007, egress and admin from CONTRAST_*, iptables")
    .option("--addon <path>", "the SO_ORIGINAL_DST addon (default: original_dst.node next to the program)")
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action((opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      result = {
        mode: "run",
        ...commonOptions(opts, "/ready"),
        adminAddress: opts.adminAddress as string,
        addonPath: opts.addon as string | undefined,
        ignored: cmd.args,
      };
    });
  program.addCommand(ingress);
  program.addCommand(egress);
  program.addCommand(run, { isDefault: true });
  try {
    program.parse([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
        return { mode: "print", text: printed };
      throw invalid(e.message.replace(/^error: /, ""));
    }
    throw e;
  }
  if (result === undefined) throw invalid("no command");
  return result;
}
