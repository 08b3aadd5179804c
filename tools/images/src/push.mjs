// Pushes every image of a layout to <registry>/<prefix>/<name> through the distribution API.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  dockerCredentialSource,
  nodeLayoutFileSystem,
  nodeRunProgram,
  parseDockerConfig,
  parsePushTarget,
  pushImage,
  readLayoutBlob,
  readOciLayoutImages,
} from "@contrast/oci";

/**
 * Credentials for `registry` from a Docker config.json (its credential helpers, then `auths`), or
 * undefined.
 * @param {string | undefined} configPath
 * @param {string} registry
 * @returns {Promise<import("@contrast/oci").RegistryCredentials | undefined>}
 */
export async function dockerCredentials(configPath, registry) {
  if (configPath === undefined || !existsSync(configPath)) return undefined;
  const config = parseDockerConfig(readFileSync(configPath, "utf8"), configPath);
  return dockerCredentialSource(config, nodeRunProgram)(registry);
}

/**
 * @typedef {{
 *   layout: string,
 *   target: string,
 *   tag?: string,
 *   insecure?: boolean,
 *   credentials?: import("@contrast/oci").RegistryCredentials,
 *   only?: readonly string[],
 *   fetch?: import("@contrast/oci").PushFetcher,
 *   log?: (line: string) => void,
 * }} PushOptions
 */

/**
 * @param {PushOptions} options
 * @returns {Promise<{ name: string, repository: string, reference: string, digest: string, uploaded: number, mounted: number, existing: number }[]>}
 */
export async function pushLayout(options) {
  const { registry, prefix } = parsePushTarget(options.target);
  const images = (await readOciLayoutImages(nodeLayoutFileSystem, options.layout)).filter(
    (i) => options.only === undefined || options.only.includes(i.name),
  );
  const fetcher = options.fetch ?? /** @type {import("@contrast/oci").PushFetcher} */ (/** @type {unknown} */ (fetch));
  const results = [];
  /** @type {string[]} */
  const pushedRepos = [];
  for (const image of images) {
    const repository = prefix === "" ? image.name : `${prefix}/${image.name}`;
    const result = await pushImage({
      fetch: fetcher,
      registry,
      repository,
      ...(options.tag === undefined ? {} : { tags: [options.tag] }),
      manifest: { bytes: image.manifest, mediaType: image.mediaType, digest: image.digest },
      blobs: image.blobs,
      readBlob: (digest) =>
        readLayoutBlob(
          nodeLayoutFileSystem,
          options.layout,
          digest,
          image.blobs.find((b) => b.digest === digest)?.size,
        ),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      insecure: options.insecure === true,
      mountFrom: pushedRepos,
    });
    pushedRepos.push(repository);
    const reference = `${registry}/${repository}@${result.digest}`;
    options.log?.(reference);
    results.push({
      name: image.name,
      repository,
      reference,
      digest: result.digest,
      uploaded: result.uploaded.length,
      mounted: result.mounted.length,
      existing: result.existing.length,
    });
  }
  return results;
}

/** Docker's config.json location: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
export function defaultDockerConfig(/** @type {NodeJS.ProcessEnv} */ env) {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, "config.json");
  return env.HOME ? join(env.HOME, ".docker", "config.json") : undefined;
}
