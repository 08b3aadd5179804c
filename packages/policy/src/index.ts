// @contrast/policy: Kata agent policy generation. The image-metadata side lives in src/image/.

export { ImageError, type ImageErrorCode } from "./image/errors.js";
export {
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  findUnpinnedReferences,
  formatImageReference,
  type ImageReference,
  isLoopbackRegistry,
  isPinned,
  normalizeImageReference,
  parseImageReference,
  registryApiHost,
  type UnpinnedReference,
  validateDigest,
  withDigest,
} from "./image/reference.js";
export {
  type BlockHasher,
  hashDataBlocks,
  inlineBlockHasher,
  VERITY_BLOCK_SIZE,
  VERITY_DIGEST_SIZE,
  VERITY_SALT,
  VerityHasher,
  VerityTree,
  verityLevelCount,
  verityRootHash,
} from "./image/verity.js";
export { WorkerBlockHasher } from "./image/verity-workers.js";
