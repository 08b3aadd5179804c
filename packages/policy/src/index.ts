// @contrast/policy: Kata agent policy generation. The image-metadata side lives in src/image/.

export { ImageError, type ImageErrorCode } from "./image/errors.js";
export {
  type LayerEtcFile,
  mergeEtcFiles,
  WHITEOUT_MARKER,
} from "./image/etc-files.js";
export { type ImageFileSystem, nodeFileSystem } from "./image/fs.js";
export { bodyChunks, type Fetcher, type HttpRequestInit, type HttpResponse } from "./image/http.js";
export {
  GZIP_LAYER_MEDIA_TYPES,
  type LayerDigests,
  type ProcessLayerOptions,
  processLayerBlob,
  processLayerTar,
  tarWithIndex,
} from "./image/layer.js";
export { type CachedLayer, LayersCache, type LayersCacheOptions } from "./image/layers-cache.js";
export {
  DEFAULT_PLATFORM,
  type Descriptor,
  formatPlatform,
  type ImageConfig,
  type ImageConfigDocument,
  MEDIA_TYPE,
  type Platform,
  parsePlatform,
} from "./image/manifest.js";
export type {
  ImageMetadata,
  ImageMetadataSource,
  LayerMetadata,
  LayerProgress,
  ProgressCallback,
} from "./image/metadata.js";
export {
  createOfflineImageSource,
  exportImageMetadata,
  IMAGE_METADATA_SCHEMA,
  type ImageMetadataDocument,
  loadImageMetadataFile,
  parseImageMetadataDocument,
  serializeImageMetadataDocument,
} from "./image/offline.js";
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
  parseChallenge,
  RegistryClient,
  type RegistryClientOptions,
  type RegistryCredentials,
} from "./image/registry.js";
export { DEFAULT_RETRY, type Random, type RetryPolicy, type Sleep } from "./image/retry.js";
export {
  type BlobStore,
  createImageMetadataSource,
  createOciLayoutSource,
  ImageResolver,
  OciLayoutBlobStore,
  pinReference,
  RegistryBlobStore,
  type RegistrySourceOptions,
  type ResolverOptions,
} from "./image/source.js";
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
