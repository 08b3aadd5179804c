export { COORDINATOR, coordinatorObjects, STATE_DIR, toYaml, withCoordinatorPolicy } from "./coordinator.mjs";
export { buildReleaseCli, checkReleaseCli, RELEASE_DEFINE } from "./embed.mjs";
export { RELEASE_ERROR_CODES, releaseError } from "./errors.mjs";
export {
  canonicalJson,
  checkImagePrefix,
  IMAGES_SCHEMA,
  parseImagesJson,
  parseReferenceValues,
  parseRuntimePayload,
  RELEASE_IMAGES,
} from "./inputs.mjs";
export { RELEASE_PLATFORMS, RELEASE_SCHEMA, renderRelease } from "./render.mjs";
export {
  handlerFor,
  NODE_INSTALL_CONFIG,
  profileDigest,
  RUNTIME_NAMESPACE,
  runtimeHash,
  runtimeObjects,
} from "./runtime.mjs";
export { validateObjects } from "./validate.mjs";
