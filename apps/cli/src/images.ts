import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  type CredentialLookup,
  createImageMetadataSource,
  dockerCredentialSource,
  type Fetcher,
  type ImageMetadataSource,
  type LayerProgress,
  LayersCache,
  loadImageMetadataFile,
  nodeFileSystem,
  nodeRunProgram,
  parseDockerConfig,
  type TarfsFlavour,
} from "@contrast/oci";
import { type Context, resolvePath } from "./context.js";

export interface ImageSourceOptions {
  /** Offline: every image must be described by this file; no registry is contacted. */
  readonly imageMetadata?: string;
  /** genpolicy-compatible layer cache; created when missing. */
  readonly layersCache: string;
  readonly insecureRegistries: readonly string[];
  /** The platform profile's tarfs writer, which the layer hashes are computed for. */
  readonly tarfs?: TarfsFlavour;
}

/** The image options the policy commands share, as the user gave them. */
export interface ImageFlags {
  readonly imageMetadata?: string;
  readonly layersCache?: string;
  readonly insecureRegistry?: string[];
}

/** `openImageSource` with the commands' flags resolved against the working directory. */
export function openImageSourceFromFlags(
  ctx: Context,
  flags: ImageFlags,
  tarfs?: TarfsFlavour,
): Promise<ImageMetadataSource> {
  return openImageSource(ctx, {
    ...(tarfs === undefined ? {} : { tarfs }),
    ...(flags.imageMetadata === undefined
      ? {}
      : { imageMetadata: resolvePath(ctx, flags.imageMetadata, flags.imageMetadata) }),
    layersCache: resolvePath(ctx, flags.layersCache, "layers-cache.json"),
    insecureRegistries: flags.insecureRegistry ?? [],
  });
}

/**
 * Where `policy generate` gets image metadata: an offline image-metadata file, or the registries
 * themselves (with the layer cache, Docker's stored credentials and a progress line on a
 * terminal). Registries on loopback addresses are reached over HTTP, as container tools do.
 */
export async function openImageSource(ctx: Context, opts: ImageSourceOptions): Promise<ImageMetadataSource> {
  if (opts.imageMetadata !== undefined) return loadImageMetadataFile(nodeFileSystem, opts.imageMetadata, opts.tarfs);
  const cache = new LayersCache({ path: opts.layersCache, fs: nodeFileSystem, logger: ctx.log });
  await cache.load();
  const credentials = await dockerCredentials();
  return createImageMetadataSource({
    fetch: globalThis.fetch as unknown as Fetcher,
    cache,
    ...(opts.tarfs === undefined ? {} : { tarfs: opts.tarfs }),
    insecureRegistries: opts.insecureRegistries,
    credentials,
    progress: progressLine(ctx),
    logger: ctx.log,
  });
}

/**
 * Credentials from Docker's config.json in $DOCKER_CONFIG or ~/.docker: its credential helpers
 * (credHelpers, credsStore) as Docker runs them, and the logins stored in `auths`.
 */
async function dockerCredentials(): Promise<CredentialLookup> {
  const file = join(process.env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return () => undefined; // no Docker config: anonymous and token access only
  }
  return dockerCredentialSource(parseDockerConfig(text, file), nodeRunProgram);
}

/** One line on a terminal: layers done, bytes downloaded, per image being pulled. */
function progressLine(ctx: Context): (e: LayerProgress) => void {
  const layers = new Map<string, LayerProgress>();
  const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return (e) => {
    layers.set(`${e.image} ${e.layer}`, e);
    let done = 0;
    let bytes = 0;
    let total = 0;
    for (const l of layers.values()) {
      if (l.phase !== "downloading") done++;
      bytes += l.phase === "cached" ? l.bytesTotal : l.bytesDone;
      total += l.bytesTotal;
    }
    const width = 24;
    const filled = total === 0 ? width : Math.min(width, Math.round((bytes / total) * width));
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    ctx.out.progress(`${bar} layers ${done}/${layers.size}  ${mib(bytes)}/${mib(total)} MiB`);
    if (done === layers.size) ctx.out.progress(undefined);
  };
}
