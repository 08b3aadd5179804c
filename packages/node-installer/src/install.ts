import { createHash } from "node:crypto";
import { type Clock, ContrastError, fromUtf8, type Logger, utf8 } from "@contrast/core";
import { type Platform, parseRuntimeHandler } from "@contrast/manifest";
import { type InstallConfig, type InstallFile, resolveTargetPath } from "./config.js";
import { type PatchResult, patchContainerdConfig, runtimeEntry } from "./containerd-config.js";
import { NodeInstallError } from "./errors.js";
import { type ContainerdFlavour, type ContainerdTarget, findContainerdTarget } from "./flavour.js";
import { dirOf, type Fetcher, type HostFs } from "./host.js";
import { kataConfigFileName, kataConfigText, runtimeDir } from "./kata-config.js";
import { IntegrityCheck } from "./sri.js";

export interface InstallOptions {
  readonly platform: Platform;
  readonly config: InstallConfig;
  /** The handler from the command line; must agree with the config's when both are given. */
  readonly runtimeHandler?: string | undefined;
  readonly fs: HostFs;
  readonly fetch: Fetcher;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Forces a flavour instead of deriving it from the platform and the host. */
  readonly flavour?: ContainerdFlavour | undefined;
  /** Restarts a systemd unit on the host; undefined: never restart (--restart=false). */
  readonly restart: ((service: string) => Promise<void>) | undefined;
}

export interface InstallReport {
  readonly handler: string;
  readonly files: readonly { readonly path: string; readonly changed: boolean }[];
  readonly kataConfig: { readonly path: string; readonly changed: boolean };
  readonly containerd: {
    readonly flavour: ContainerdFlavour;
    readonly path: string;
    readonly changed: boolean;
    readonly how: PatchResult["how"];
    readonly backup: string | undefined;
    readonly service: string;
  };
  /** The unit restarted, if any: only after a configuration change and with a restart command. */
  readonly restarted: string | undefined;
}

/** Picks the handler and checks that it belongs to the platform. */
export function resolveHandler(
  platform: Platform,
  fromConfig: string | undefined,
  fromFlag: string | undefined,
): string {
  if (fromConfig !== undefined && fromFlag !== undefined && fromConfig !== fromFlag) {
    throw new NodeInstallError(
      "NODE_INSTALL_PLATFORM_MISMATCH",
      `the runtime handler ${fromFlag} on the command line differs from ${fromConfig} in the configuration`,
    );
  }
  const handler = fromFlag ?? fromConfig;
  if (handler === undefined) {
    throw new NodeInstallError(
      "NODE_INSTALL_PLATFORM_MISMATCH",
      "no runtime handler: the configuration has no runtimeHandler and none was given",
    );
  }
  let parsed: ReturnType<typeof parseRuntimeHandler>;
  try {
    parsed = parseRuntimeHandler(handler);
  } catch (e) {
    throw new NodeInstallError("NODE_INSTALL_PLATFORM_MISMATCH", ContrastError.from(e).message, { cause: e });
  }
  if (parsed.platform.id !== platform.id) {
    throw new NodeInstallError(
      "NODE_INSTALL_PLATFORM_MISMATCH",
      `runtime handler ${handler} is for platform ${parsed.platform.id}, not ${platform.id}`,
    );
  }
  return handler;
}

/**
 * Installs one runtime on the node: the payload files, the Kata configuration, and the runtime
 * entry in containerd's configuration; then restarts containerd if (and only if) that changed,
 * and checks the written configuration registers the runtime. Safe to run again: a second run
 * with the same inputs changes no byte, writes no backup and restarts nothing.
 */
export async function installRuntime(options: InstallOptions): Promise<InstallReport> {
  const { platform, config, fs, logger } = options;
  kataConfigFileName(platform);
  const handler = resolveHandler(platform, config.runtimeHandler, options.runtimeHandler);
  const files = [];
  for (const file of config.files) files.push(await installFile(options, file, handler));

  const kataPath = `${runtimeDir(handler)}/etc/${kataConfigFileName(platform)}`;
  const kataText = kataConfigText(platform, handler, {
    debug: config.debugRuntime,
    kernelParams: config.qemuExtraKernelParams,
    guestPull: config.snapshotter === "none",
  });
  const kataChanged = await writeIfChanged(fs, kataPath, utf8(kataText), 0o644);
  logger.info(kataChanged ? "wrote the Kata configuration" : "the Kata configuration is up to date", {
    path: kataPath,
  });

  const target = await findContainerdTarget(platform, fs, options.flavour);
  const containerd = await patchTarget(options, target, handler);
  let restarted: string | undefined;
  if (containerd.changed && options.restart !== undefined) {
    logger.info("restarting the container runtime", { service: target.service });
    try {
      await options.restart(target.service);
    } catch (e) {
      throw new NodeInstallError(
        "NODE_INSTALL_RESTART_FAILED",
        `restarting ${target.service} failed: ${ContrastError.from(e).message}`,
        {
          cause: e,
        },
      );
    }
    restarted = target.service;
  } else if (containerd.changed) {
    logger.warn("the containerd configuration changed but restarting is disabled; restart the service by hand", {
      service: target.service,
    });
  }
  return { handler, files, kataConfig: { path: kataPath, changed: kataChanged }, containerd, restarted };
}

async function patchTarget(
  options: InstallOptions,
  target: ContainerdTarget,
  handler: string,
): Promise<InstallReport["containerd"]> {
  const { fs, logger, platform } = options;
  const current = await fs.read(target.configPath);
  const base = current ?? (target.basePath === undefined ? undefined : await fs.read(target.basePath));
  const entry = runtimeEntry(platform, handler, options.config.snapshotter);
  const templateVersion = target.configPath.endsWith("/config-v3.toml.tmpl") ? 3 : 2;
  const patch = patchContainerdConfig(base === undefined ? undefined : fromUtf8(base), entry, templateVersion);
  let backup: string | undefined;
  const changed = current === undefined || patch.text !== fromUtf8(current);
  // A template made from K3s's generated config is a new file, however it was derived.
  const how: PatchResult["how"] = current === undefined ? "created" : patch.how;
  if (changed) {
    const mode = (await fs.mode(target.configPath)) ?? 0o644;
    await fs.mkdirp(dirOf(target.configPath));
    if (current !== undefined) {
      backup = `${target.configPath}.${Math.floor(options.clock.now().getTime() / 1000)}.bak`;
      await atomicWrite(fs, backup, current, mode);
    }
    await atomicWrite(fs, target.configPath, utf8(patch.text), mode);
    logger.info("patched the containerd configuration", { path: target.configPath, how, backup });
  } else {
    logger.info("the containerd configuration already registers the runtime", { path: target.configPath });
  }
  // The post-check reads back what is on disk, not what was meant to be written.
  const written = await fs.read(target.configPath);
  if (written === undefined) {
    throw new NodeInstallError(
      "NODE_INSTALL_RUNTIME_NOT_REGISTERED",
      `${target.configPath} is missing after writing it`,
    );
  }
  const recheck = patchContainerdConfig(fromUtf8(written), entry, templateVersion);
  if (recheck.changed) {
    throw new NodeInstallError(
      "NODE_INSTALL_RUNTIME_NOT_REGISTERED",
      `${target.configPath} does not hold the runtime entry for ${handler} after writing it`,
    );
  }
  return { flavour: target.flavour, path: target.configPath, changed, how, backup, service: target.service };
}

async function installFile(
  options: InstallOptions,
  file: InstallFile,
  handler: string,
): Promise<{ path: string; changed: boolean }> {
  const { fs, logger } = options;
  const path = resolveTargetPath(file.path, handler);
  const mode = file.executable ? 0o755 : 0o644;
  if (file.integrity !== undefined) {
    const existing = await fs.readStream(path);
    if (existing !== undefined) {
      const check = new IntegrityCheck(file.integrity.parsed);
      for await (const chunk of existing) check.update(chunk);
      if (check.finish().matches) {
        if ((await fs.mode(path)) !== mode) await fs.chmod(path, mode);
        logger.info("runtime file is up to date", { path });
        return { path, changed: false };
      }
    }
  }
  await fs.mkdirp(dirOf(path));
  const temp = tempPath(path);
  await fs.remove(temp);
  const check = file.integrity === undefined ? undefined : new IntegrityCheck(file.integrity.parsed);
  // Without an integrity value, a digest of what arrived tells whether the target already has it.
  const plain = check === undefined ? createHash("sha256") : undefined;
  const source = await options.fetch(file.url);
  try {
    await fs.write(
      temp,
      (async function* () {
        for await (const chunk of source) {
          check?.update(chunk);
          plain?.update(chunk);
          yield chunk;
        }
      })(),
      mode,
    );
  } catch (e) {
    await fs.remove(temp);
    if (e instanceof ContrastError) throw e;
    throw new NodeInstallError(
      "NODE_INSTALL_FETCH_FAILED",
      `cannot fetch ${file.url}: ${ContrastError.from(e).message}`,
      { cause: e },
    );
  }
  if (check !== undefined) {
    const result = check.finish();
    if (!result.matches) {
      await fs.remove(temp);
      throw new NodeInstallError(
        "NODE_INSTALL_INTEGRITY_MISMATCH",
        `${file.url} has digest ${result.actual}, not the configured ${file.integrity?.text}; ${path} was not installed`,
        { details: { url: file.url, path, actual: result.actual } },
      );
    }
  } else if (plain !== undefined) {
    const existing = await fs.readStream(path);
    let same = false;
    if (existing !== undefined) {
      const hash = createHash("sha256");
      for await (const chunk of existing) hash.update(chunk);
      same = hash.digest("hex") === plain.digest("hex");
    }
    if (same) {
      await fs.remove(temp);
      if ((await fs.mode(path)) !== mode) await fs.chmod(path, mode);
      logger.info("runtime file is up to date", { path });
      return { path, changed: false };
    }
  }
  await fs.rename(temp, path);
  logger.info("installed runtime file", { path, url: file.url });
  return { path, changed: true };
}

async function writeIfChanged(fs: HostFs, path: string, bytes: Uint8Array, mode: number): Promise<boolean> {
  const current = await fs.read(path);
  if (current !== undefined && current.length === bytes.length && current.every((b, i) => b === bytes[i])) {
    if ((await fs.mode(path)) !== mode) await fs.chmod(path, mode);
    return false;
  }
  await fs.mkdirp(dirOf(path));
  await atomicWrite(fs, path, bytes, mode);
  return true;
}

/** Writes next to the target, then renames: readers see the old file or the new one, never a part. */
export async function atomicWrite(fs: HostFs, path: string, bytes: Uint8Array, mode: number): Promise<void> {
  const temp = tempPath(path);
  try {
    await fs.remove(temp);
    await fs.write(temp, bytes, mode);
    await fs.rename(temp, path);
  } catch (e) {
    await fs.remove(temp).catch(() => undefined);
    if (e instanceof ContrastError) throw e;
    throw new NodeInstallError("NODE_INSTALL_WRITE_FAILED", `cannot write ${path}: ${ContrastError.from(e).message}`, {
      cause: e,
    });
  }
}

// A fixed name (not a random one) so that an interrupted run's leftover is replaced by the next.
function tempPath(path: string): string {
  const dir = dirOf(path);
  return `${dir}/.${path.slice(dir.length + 1)}.contrast-tmp`;
}
