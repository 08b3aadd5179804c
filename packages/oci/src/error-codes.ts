import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/oci reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const IMAGE_ERROR_CODES = [
  {
    code: "GZIP_INVALID",
    kind: "input",
    meaning:
      "Data that must be exactly one gzip member is not: a bad header, corrupt data, a CRC or length mismatch, or bytes after it.",
    hint: "The data must be exactly one gzip member with nothing after it.",
  },
  {
    code: "GZIP_TOO_LARGE",
    kind: "input",
    meaning: "A gzip stream unpacks to more bytes than its reader accepts.",
    hint: "The reader limits how much a gzip stream may unpack to; this one is larger.",
  },
  {
    code: "DOCKER_CONFIG_INVALID",
    kind: "input",
    meaning: "Docker's config.json, which holds registry credentials, cannot be read.",
    hint: "Fix or move the file; it holds registry credentials.",
  },
  {
    code: "DOCKER_CREDENTIAL_HELPER_FAILED",
    kind: "io",
    meaning:
      "The credential helper Docker's config.json names (credsStore or credHelpers) is not installed, failed or answered something other than its JSON.",
    hint: "Check the helper with `echo <registry> | docker-credential-<name> get`, log in again with docker login, or remove the helper from config.json.",
  },
  {
    code: "IMAGE_REFERENCE_INVALID",
    kind: "input",
    meaning: "An image reference cannot be parsed.",
    hint: "Write references as [registry/]repository[:tag][@sha256:<64 hex digits>], with a lowercase repository.",
  },
  {
    code: "IMAGE_PLATFORM_NOT_FOUND",
    kind: "input",
    meaning: "A multi-platform image has no image for the wanted platform.",
    hint: "Choose one of the image's platforms (the message lists them) or use another image.",
  },
  {
    code: "IMAGE_NOT_IN_SOURCE",
    kind: "input",
    meaning: "An image is not in the offline image-metadata file or OCI layout.",
    hint: "Export the metadata again including this image, or run with access to its registry.",
  },
  {
    code: "REGISTRY_UNAUTHORIZED",
    kind: "input",
    meaning: "The registry refused access (HTTP 401/403).",
    hint: "Log in to the registry (docker login) or pass credentials; if you did, check them and their pull permission.",
  },
  {
    code: "REGISTRY_NOT_FOUND",
    kind: "input",
    meaning: "The registry does not know the repository, tag or digest (HTTP 404).",
    hint: "Check the image name, tag or digest; private images also answer 404 to clients without access.",
  },
  {
    code: "REGISTRY_RATE_LIMITED",
    kind: "io",
    meaning: "The registry rate-limits requests (HTTP 429).",
    hint: "Wait and run the command again, authenticate to get a higher limit, or use the layer cache or an offline image-metadata file.",
  },
  {
    code: "REGISTRY_UNAVAILABLE",
    kind: "io",
    meaning: "The registry cannot be reached, answered 5xx, or a download broke off.",
    hint: "The connection to the registry failed; check the network and run the command again.",
  },
  {
    code: "REGISTRY_INSECURE_REFUSED",
    kind: "input",
    meaning: "Credentials would be sent over plain HTTP.",
    hint: "Refusing to send a password unencrypted; list the token server as an insecure registry if this is intended.",
  },
  {
    code: "REGISTRY_BAD_RESPONSE",
    kind: "input",
    meaning: "The registry's answer is not what the protocol prescribes (too large, wrong media type, not JSON).",
    hint: "The registry or a proxy in front of it answered wrongly; check the registry address.",
  },
  {
    code: "IMAGE_MANIFEST_UNSUPPORTED",
    kind: "input",
    meaning:
      "An OCI/Docker image manifest or index is of a kind the generator does not read (schema 1, nesting too deep).",
    hint: "Reference the platform manifest by digest instead.",
  },
  {
    code: "IMAGE_MANIFEST_INVALID",
    kind: "input",
    meaning: "An OCI/Docker image manifest, index or config is malformed or inconsistent.",
    hint: "The image is inconsistent; rebuild and re-push it.",
  },
  {
    code: "DIGEST_MISMATCH",
    kind: "crypto",
    meaning: "Content served for a digest does not hash to it.",
    hint: "The registry (or a proxy) served content that does not match its digest; retry, and distrust this source if it persists.",
  },
  {
    code: "DIGEST_UNSUPPORTED",
    kind: "input",
    meaning: "A digest uses an algorithm other than sha256 or sha512.",
    hint: "Use sha256 (or sha512) digests.",
  },
  {
    code: "LAYER_MEDIA_TYPE_UNSUPPORTED",
    kind: "input",
    meaning: "A layer is not a gzip-compressed tar, so it cannot be hashed for the tarfs snapshotter.",
    hint: "Only gzip-compressed tar layers can be hashed for the tardev snapshotter (genpolicy skips all others, which yields a policy that cannot start the container). Rebuild the image with gzip layers.",
  },
  {
    code: "LAYER_DIFF_ID_MISMATCH",
    kind: "crypto",
    meaning: "An uncompressed layer does not hash to the diff ID in the image config.",
    hint: "The image's config does not describe its layers; the image is corrupt or was tampered with.",
  },
  {
    code: "LAYER_GZIP_INVALID",
    kind: "input",
    meaning: "A layer blob is not a valid gzip stream.",
    hint: "The layer blob is damaged or not gzip-compressed; rebuild or re-push the image.",
  },
  {
    code: "LAYER_TAR_INVALID",
    kind: "input",
    meaning: "A layer is not a valid tar archive.",
    hint: "The image layer is damaged or not a tar archive; rebuild or re-push the image.",
  },
  {
    code: "LAYER_TAR_PAX_INVALID",
    kind: "input",
    meaning: "A layer's tar archive holds a malformed PAX record before a header that needs it.",
    hint: "A PAX record is malformed (its length prefix is wrong, or it has no '='). Kata's tar crate ignores the records from the first malformed one on, so a `size` after it does not count; genpolicy fails on this layer too. Rebuild the image with a standard tar writer.",
  },
  {
    code: "LAYER_TAR_UNTERMINATED",
    kind: "input",
    meaning: "A layer's tar archive has no end-of-archive block.",
    hint: "Kata's genpolicy cannot hash this layer either. It happens with eStargz and other multi-member gzip layers (only the first member is hashed) and with tar writers that stop without the two zero blocks; rebuild the layer as one plain gzip stream.",
  },
  {
    code: "LAYER_TOO_SMALL",
    kind: "input",
    meaning: "A layer is too small to build a dm-verity tree over.",
    hint: "dm-verity needs at least one 4096-byte block; genpolicy refuses such inputs as well.",
  },
  {
    code: "LAYER_ETC_FILE_INVALID",
    kind: "input",
    meaning: "A layer's /etc/passwd or /etc/group is not valid UTF-8.",
    hint: "genpolicy cannot read such a file either; fix the file in the image.",
  },
  {
    code: "OCI_LAYOUT_INVALID",
    kind: "input",
    meaning: "A directory is not a valid OCI image layout.",
    hint: "Point at a directory written by skopeo, buildah or another OCI tool (oci-layout, index.json, blobs/).",
  },
  {
    code: "IMAGE_METADATA_FILE_INVALID",
    kind: "io",
    meaning: "An offline image-metadata file is unreadable or invalid.",
    hint: "Regenerate the file with exportImageMetadata from a machine that can reach the registries.",
  },
  {
    code: "IMAGE_TARFS_MISMATCH",
    kind: "input",
    meaning: "The image-metadata file holds layer hashes for another tarfs flavour than the platform's.",
    hint: "Export the image metadata again with the platform you generate for (AKS-CLH-SNP uses Microsoft's tarfs, the others Kata's).",
  },
  {
    code: "LAYERS_CACHE_LOCKED",
    kind: "io",
    meaning: "The layer cache is locked by another process for too long.",
    hint: "Another contrast process holds the cache lock; wait for it, or remove the lock file if no such process runs.",
  },
  {
    code: "IMAGE_LAYER_INVALID",
    kind: "input",
    meaning:
      "A layer to build lists a path twice, a path that is not absolute and normalised, or an invalid mode or link.",
    hint: "Layer paths must be absolute, normalised (no '.', '..' or '//') and listed once each.",
  },
  {
    code: "IMAGE_SPEC_INVALID",
    kind: "input",
    meaning: 'An app\'s "image" section in package.json is malformed (missing name, bad paths, ports, env).',
    hint: 'Fix the app\'s "image" section in package.json; docs/images.md describes its fields.',
  },
  {
    code: "IMAGE_BUILD_INPUT_MISSING",
    kind: "input",
    meaning: "A file an image is built from does not exist (an app bundle, the Node binary, a shared library).",
    hint: 'Build the apps first (pnpm build, or pnpm images, which builds them) and check the image\'s "files" section.',
  },
  {
    code: "IMAGE_PUSH_REJECTED",
    kind: "input",
    meaning: "The registry refused a blob upload or a manifest (an unexpected HTTP status during push).",
    hint: "Check the registry address and repository prefix and that the account may push there.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type ImageErrorCode = (typeof IMAGE_ERROR_CODES)[number]["code"];
