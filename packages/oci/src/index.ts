// @contrast/oci: container images as policy generation needs them. Image references, the
// registry client, OCI layouts and offline image-metadata files, the genpolicy layer cache, and
// each layer's dm-verity root hash over "tar ‖ tarfs index" as Kata's tardev snapshotter presents
// it. Only what other packages and the documented API use is exported; the rest is internal.

export { dockerCredentialSource, type HelperRun, nodeRunProgram, type RunProgram } from "./credential-helpers.js";
export { type DockerConfig, parseDockerConfig } from "./docker-config.js";
export { IMAGE_ERROR_CODES } from "./error-codes.js";
export { ImageError } from "./errors.js";
export { mergeEtcFiles } from "./etc-files.js";
export { type ImageFileSystem, nodeFileSystem } from "./fs.js";
export { gunzipSingleMember, gzipDeterministic } from "./gzip.js";
export type { Fetcher } from "./http.js";
export {
  type Blob,
  type BuildImageOptions,
  type BuiltOciImage,
  buildImage,
  type ImageRunConfig,
  OCI_CONFIG_MEDIA_TYPE,
} from "./image-build.js";
export {
  type BuildLayerOptions,
  type BuiltLayer,
  buildLayer,
  buildTar,
  type LayerEntry,
  sha256Digest,
} from "./image-layer.js";
export { type ImageSpec, isCleanAbsolutePath, parseImageSpec } from "./image-spec.js";
export { tarWithIndex } from "./layer.js";
export { LayersCache } from "./layers-cache.js";
export {
  type LayoutFileSystem,
  type LayoutImage,
  type LayoutImageEntry,
  nodeLayoutFileSystem,
  REF_NAME_ANNOTATION,
  readLayoutBlob,
  readOciLayoutImages,
  writeOciLayout,
} from "./layout-write.js";
export type { ImageConfig, Platform } from "./manifest.js";
export type { ImageMetadata, ImageMetadataSource, LayerMetadata, LayerProgress } from "./metadata.js";
export {
  createOfflineImageSource,
  exportImageMetadata,
  IMAGE_METADATA_SCHEMA,
  type ImageMetadataDocument,
  loadImageMetadataFile,
  parseImageMetadataDocument,
  serializeImageMetadataDocument,
} from "./offline.js";
export {
  isValidTag,
  type PushBlob,
  type PushFetcher,
  type PushImageOptions,
  type PushRequestInit,
  type PushResult,
  type PushTarget,
  parsePushTarget,
  pushImage,
} from "./push.js";
export {
  containerdImageName,
  findUnpinnedReferences,
  formatImageReference,
  isPinned,
  normalizeImageReference,
  parseImageReference,
} from "./reference.js";
export type { CredentialLookup, RegistryCredentials } from "./registry.js";
export type { RetryPolicy } from "./retry.js";
export {
  createImageMetadataSource,
  createOciLayoutSource,
  type ImageResolver,
  pinReference,
} from "./source.js";
export {
  GUEST_LAYERS_DIR,
  LAYER_SRC_PREFIX_OPTION,
  LAYER_SRC_PREFIX_PLACEHOLDER,
  STOCK_LAYER_SRC_PREFIX,
  type TardevFormat,
  tardevLayers,
} from "./tardev.js";
export type { TarfsFlavour } from "./tarindex.js";
