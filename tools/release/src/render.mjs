import { parseYamlDocuments } from "@contrast/kube";
import { PLATFORMS } from "@contrast/manifest";
import { createOciLayoutSource } from "@contrast/oci";
import { policyProfile } from "@contrast/policy";
import { COORDINATOR, coordinatorObjects, toYaml, withCoordinatorPolicy } from "./coordinator.mjs";
import {
  checkImagePrefix,
  parseImagesJson,
  parseReferenceValues,
  parseRuntimePayload,
  RELEASE_IMAGES,
} from "./inputs.mjs";
import { handlerFor, profileDigest, runtimeHash, runtimeObjects } from "./runtime.mjs";
import { validateObjects } from "./validate.mjs";

export const RELEASE_SCHEMA = "contrast-release/v1";

/**
 * The platforms a release has YAML for: every hardware platform. The simulated TEE has no runtime
 * to install (no Kata, no node installer) and its Coordinator runs outside Kubernetes in the tests
 * and demos (docs/release.md); the CLI keeps its sim defaults in every build.
 */
export const RELEASE_PLATFORMS = PLATFORMS.filter((p) => !p.simulated);

/**
 * @typedef {{
 *   imagesJson: string, imagesSource?: string, layoutDir: string,
 *   fs: import("@contrast/oci").ImageFileSystem, imagePrefix: string,
 *   runtimePayload?: string, referenceValues?: string,
 *   platforms?: readonly import("@contrast/manifest").Platform[],
 *   hashThreads?: number, coordinatorStore?: "fs" | "configmap",
 * }} RenderOptions
 * @typedef {{ name: string, text: string }} RenderedFile
 */

/**
 * Renders a release: per platform runtime-<id>.yml and coordinator-<id>.yml, and release.json.
 * Everything is a function of the inputs (images.json, the layout's blobs, the prefix, the payload,
 * the policy profiles): no clock, no host names, sorted keys where a file's order is free.
 * @param {RenderOptions} options
 * @returns {Promise<{ files: RenderedFile[], release: Record<string, unknown>, warnings: unknown[] }>}
 */
export async function renderRelease(options) {
  const platforms = options.platforms ?? RELEASE_PLATFORMS;
  const ids = platforms.map((p) => p.id);
  const built = parseImagesJson(options.imagesJson, options.imagesSource ?? "images.json");
  const prefix = checkImagePrefix(options.imagePrefix);
  const payload = parseRuntimePayload(options.runtimePayload, ids);
  const referenceValues = parseReferenceValues(options.referenceValues, ids);

  /** @type {Record<string, string>} */
  const images = {};
  // Only the release's images: the layout may hold others (the demo's sample app) that no
  // deployment pulls.
  for (const name of [...RELEASE_IMAGES].sort())
    images[name] = `${prefix}/${name}:${built.version}@${built.images[name].digest}`;

  /** @type {Map<string, import("@contrast/oci").ImageResolver>} one per tarfs flavour: layers are hashed once */
  const sources = new Map();
  const source = (tarfs) => {
    let s = sources.get(tarfs);
    if (s === undefined) {
      s = createOciLayoutSource({
        dir: options.layoutDir,
        fs: options.fs,
        tarfs,
        ...(options.hashThreads === undefined ? {} : { hashThreads: options.hashThreads }),
      });
      sources.set(tarfs, s);
    }
    return s;
  };

  /** @type {RenderedFile[]} */
  const files = [];
  /** @type {Record<string, unknown>} */
  const releasePlatforms = {};
  const warnings = [];
  try {
    // Every pinned reference must be in the layout the YAML is rendered from.
    for (const ref of Object.values(images)) await source("kata").resolveManifest(ref);
    for (const platform of platforms) {
      const profile = policyProfile(platform.id);
      const installConfig = payload.get(platform.id);
      const hash = runtimeHash({
        nodeInstallerDigest: built.images["node-installer"].digest,
        installConfig,
        profileDigest: profileDigest(profile),
      });
      const handler = handlerFor(platform, hash);

      const runtime = runtimeObjects(platform, {
        handler,
        nodeInstallerImage: images["node-installer"],
        installConfig,
      });
      validateObjects(runtime, `runtime-${platform.id}.yml`);
      files.push({ name: `runtime-${platform.id}.yml`, text: toYaml(runtime) });

      const coordinator = coordinatorObjects(platform, {
        handler,
        image: images[COORDINATOR],
        store: options.coordinatorStore ?? "configmap",
      });
      const name = `coordinator-${platform.id}.yml`;
      const annotated = await withCoordinatorPolicy(coordinator, {
        images: source(profile.tarfs),
        profile,
        source: name,
      });
      // What is written is validated: the annotated objects, read back from the YAML.
      validateObjects(
        parseYamlDocuments(annotated.yaml, name).map((d) => /** @type {Record<string, unknown>} */ (d.value)),
        name,
      );
      files.push({ name, text: annotated.yaml });
      warnings.push(...annotated.warnings);

      const rv = referenceValues.get(platform.id);
      releasePlatforms[platform.id] = {
        runtimeHandler: handler,
        coordinatorPolicyHash: annotated.policyHash,
        ...(rv === undefined ? {} : { referenceValues: rv }),
      };
    }
  } finally {
    for (const s of sources.values()) await s.close();
  }
  const release = { schema: RELEASE_SCHEMA, version: built.version, images, platforms: releasePlatforms };
  files.push({ name: "release.json", text: `${JSON.stringify(release, null, 2)}\n` });
  return { files, release, warnings };
}
