import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ContrastError, jsonLogger, type Logger, systemClock } from "@contrast/core";
import { parsePlatform } from "@contrast/manifest";
import {
  type ContainerdFlavour,
  hostFsAt,
  INSTALL_CONFIG_FILE,
  installRuntime,
  NodeInstallError,
  nodeFetcher,
  parseInstallConfig,
} from "@contrast/node-installer";
import { restartCommand, runRestart } from "./restart.js";
import { VERSION } from "./version.js";

/** Exit statuses; docs/node-installer.md lists them. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const USAGE = `usage: node-installer <platform> [--runtime-handler <name>] [--flavour containerd|k3s|rke2]
                      [--restart=false | --no-restart] [--restart-command "<argv...>"]
       node-installer pause
       node-installer --version | --help

environment: CONFIG_DIR (default /config; reads ${INSTALL_CONFIG_FILE}), HOST_MOUNT (default /host),
             NODE_INSTALLER_RESTART_COMMAND (same as --restart-command)
`;

export interface ParsedArgs {
  readonly platform: string;
  readonly runtimeHandler: string | undefined;
  readonly flavour: ContainerdFlavour | undefined;
  readonly restart: boolean;
  readonly restartCommand: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Flags as upstream's Go flag package accepts them too: -restart=false and --restart=false. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  let platform: string | undefined;
  let runtimeHandler: string | undefined;
  let flavour: ContainerdFlavour | undefined;
  let restart = true;
  let restartCommand: string | undefined;
  const usage = (why: string) => new NodeInstallError("NODE_INSTALL_USAGE", why);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] =
      arg.startsWith("-") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw usage(`${name} needs a value`);
      return next;
    };
    switch (name.startsWith("-") ? name.replace(/^--?/, "") : "") {
      case "restart":
        if (inline === undefined || inline === "true") restart = true;
        else if (inline === "false") restart = false;
        else throw usage(`--restart takes true or false, not ${JSON.stringify(inline)}`);
        break;
      case "no-restart":
        restart = false;
        break;
      case "runtime-handler":
        runtimeHandler = value();
        break;
      case "restart-command":
        restartCommand = value();
        break;
      case "flavour": {
        const v = value();
        if (v !== "containerd" && v !== "k3s" && v !== "rke2") throw usage(`--flavour must be containerd, k3s or rke2`);
        flavour = v;
        break;
      }
      default:
        if (arg.startsWith("-")) throw usage(`unknown flag ${name}`);
        if (platform !== undefined) throw usage(`one platform only, got ${platform} and ${arg}`);
        platform = arg;
    }
  }
  if (platform === undefined) throw usage("the platform argument is missing");
  return { platform, runtimeHandler, flavour, restart, restartCommand };
}

/** The program: install the runtime for one platform, or idle (`pause`) as the DaemonSet's main container. */
export async function main(argv: readonly string[], env: Env = process.env): Promise<number> {
  if (argv[0] === "--version" || argv[0] === "version") {
    process.stdout.write(`node-installer ${VERSION}\n`);
    return EXIT_OK;
  }
  if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (argv[0] === "pause") {
    const { pause } = await import("./pause.js");
    return pause();
  }
  const logger: Logger = jsonLogger({
    write: (line) => process.stderr.write(line),
    clock: systemClock,
    fields: { component: "node-installer" },
  });
  try {
    const args = parseArgs(argv);
    const platform = parsePlatform(args.platform);
    const configDir = env.CONFIG_DIR || "/config";
    const hostMount = env.HOST_MOUNT || "/host";
    const configPath = join(configDir, INSTALL_CONFIG_FILE);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(configPath));
    } catch (e) {
      throw new NodeInstallError("NODE_INSTALL_CONFIG_INVALID", `cannot read ${configPath}: ${(e as Error).message}`, {
        hint: "Mount the ConfigMap with contrast-node-install.json at CONFIG_DIR (default /config).",
        cause: e,
      });
    }
    const config = parseInstallConfig(bytes);
    const command = restartCommand(args.restartCommand ?? env.NODE_INSTALLER_RESTART_COMMAND, hostMount);
    const report = await installRuntime({
      platform,
      config,
      runtimeHandler: args.runtimeHandler,
      fs: hostFsAt(hostMount),
      fetch: nodeFetcher(),
      clock: systemClock,
      logger,
      flavour: args.flavour,
      restart: args.restart ? (service) => runRestart(command, service) : undefined,
    });
    logger.info("runtime installed", {
      handler: report.handler,
      filesChanged: report.files.filter((f) => f.changed).length,
      containerdConfig: report.containerd.path,
      containerdChanged: report.containerd.changed,
      backup: report.containerd.backup,
      restarted: report.restarted,
    });
    return EXIT_OK;
  } catch (e) {
    const error = ContrastError.from(e);
    logger.error("installing the runtime failed", { error });
    return error.kind === "input" ? EXIT_USAGE : EXIT_FAILED;
  }
}
