import { parseInstallConfig } from "@contrast/node-installer";
import { releaseError } from "./errors.mjs";

export const IMAGES_SCHEMA = "contrast-images/v1";
/** The images a release needs: the three app images and the node installer. */
export const RELEASE_IMAGES = ["coordinator", "initializer", "service-mesh", "node-installer"];

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * images.json as `pnpm images` writes it (contract: schema, version, images.<name>.digest …).
 * Only what a release uses is checked strictly: the version and each image's manifest digest.
 * @param {string} text
 * @param {string} source
 * @returns {{ version: string, images: Record<string, { digest: string }> }}
 */
export function parseImagesJson(text, source) {
  const fail = (why) => {
    throw releaseError("RELEASE_IMAGES_INVALID", `${source}: ${why}`);
  };
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return fail(`not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(doc)) return fail("not a JSON object");
  if (doc.schema !== IMAGES_SCHEMA) fail(`schema is not ${IMAGES_SCHEMA}`);
  // The version becomes an image tag: the tag grammar of the distribution spec.
  if (typeof doc.version !== "string" || !/^[\w][\w.-]{0,127}$/.test(doc.version))
    fail("version is not a valid image tag");
  if (!isObject(doc.images)) return fail("images is not an object");
  /** @type {Record<string, { digest: string }>} */
  const images = {};
  for (const [name, entry] of Object.entries(doc.images)) {
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name))
      fail(`image name ${JSON.stringify(name)} is not a repository name`);
    if (!isObject(entry) || typeof entry.digest !== "string" || !DIGEST.test(entry.digest))
      fail(`images.${name}.digest is not a sha256 digest`);
    images[name] = { digest: entry.digest };
  }
  for (const name of RELEASE_IMAGES) {
    if (!(name in images)) fail(`has no ${name} image`);
  }
  return { version: doc.version, images };
}

/**
 * `--image-prefix`: where the images are pushed, `host[:port]/path` without a tag.
 * @param {string} prefix
 */
export function checkImagePrefix(prefix) {
  const trimmed = prefix.replace(/\/+$/, "");
  const [host, ...path] = trimmed.split("/");
  const hostOk =
    host !== undefined && /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/.test(host);
  const pathOk = path.length > 0 && path.every((p) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(p));
  // A registry host has a dot or a port or is localhost; anything else would be read as a Docker Hub path.
  if (!hostOk || !pathOk || !(/[.:]/.test(host) || host === "localhost"))
    throw releaseError("RELEASE_PREFIX_INVALID", `--image-prefix ${JSON.stringify(prefix)} is not host[:port]/path`);
  return trimmed;
}

/**
 * A node-installer configuration, checked by the node installer's own parser
 * (`parseInstallConfig` of @contrast/node-installer), so a release never ships one the installer
 * refuses. The handler is not part of it: the DaemonSet passes `--runtime-handler`, because the
 * handler's hash is taken over this configuration.
 * @param {unknown} value
 * @param {string} where
 */
function checkInstallConfig(value, where) {
  if (isObject(value) && "runtimeHandler" in value)
    throw releaseError("RELEASE_PAYLOAD_INVALID", `${where}: runtimeHandler is set by the release, not the payload`);
  try {
    parseInstallConfig(JSON.stringify(value));
  } catch (e) {
    const inner = /** @type {{ code?: string, message?: string }} */ (e);
    throw releaseError("RELEASE_PAYLOAD_INVALID", `${where}: ${inner.message ?? String(e)}`, {
      cause: e,
      details: { nodeInstallCode: inner.code },
    });
  }
  // The release's DaemonSet serves no proxy snapshotter (docs/release.md), so the guest pulls the
  // images itself; a payload that names a snapshotter would register a runtime nobody serves.
  const snapshotter = /** @type {{ snapshotter?: unknown }} */ (value).snapshotter;
  if (snapshotter !== undefined && snapshotter !== "none")
    throw releaseError(
      "RELEASE_PAYLOAD_INVALID",
      `${where}: snapshotter ${JSON.stringify(snapshotter)}: the release runs no snapshotter; leave it out or set "none"`,
    );
  return { ...value, snapshotter: "none" };
}

/**
 * `--runtime-payload`: one node-installer configuration for every platform, or a map from platform
 * id to one. Without it, no runtime files are listed (the node installer then only writes the
 * Kata configuration and registers the handler; docs/release.md says why).
 * @param {string | undefined} text
 * @param {readonly string[]} platformIds
 * @returns {Map<string, unknown>}
 */
export function parseRuntimePayload(text, platformIds) {
  const out = new Map();
  if (text === undefined) {
    for (const id of platformIds) out.set(id, { files: [], debugRuntime: false, snapshotter: "none" });
    return out;
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw releaseError(
      "RELEASE_PAYLOAD_INVALID",
      `--runtime-payload is not JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (isObject(doc) && "files" in doc) {
    const config = checkInstallConfig(doc, "--runtime-payload");
    for (const id of platformIds) out.set(id, config);
    return out;
  }
  if (!isObject(doc)) throw releaseError("RELEASE_PAYLOAD_INVALID", "--runtime-payload is not an object");
  for (const key of Object.keys(doc)) {
    if (!platformIds.includes(key))
      throw releaseError(
        "RELEASE_PAYLOAD_INVALID",
        `--runtime-payload names an unknown platform ${JSON.stringify(key)}`,
      );
  }
  for (const id of platformIds) {
    if (!(id in doc)) throw releaseError("RELEASE_PAYLOAD_INVALID", `--runtime-payload has no configuration for ${id}`);
    out.set(id, checkInstallConfig(doc[id], `--runtime-payload ${id}`));
  }
  return out;
}

/**
 * `--reference-values`: platform id → the manifest's ReferenceValues for it, embedded in the CLI
 * for `--version` (upstream prints its embedded launch digests and TCB values).
 * @param {string | undefined} text
 * @param {readonly string[]} platformIds
 * @returns {Map<string, Record<string, unknown>>}
 */
export function parseReferenceValues(text, platformIds) {
  const out = new Map();
  if (text === undefined) return out;
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw releaseError(
      "RELEASE_REFERENCE_VALUES_INVALID",
      `--reference-values is not JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (!isObject(doc)) throw releaseError("RELEASE_REFERENCE_VALUES_INVALID", "--reference-values is not an object");
  for (const [id, value] of Object.entries(doc)) {
    if (!platformIds.includes(id) || !isObject(value))
      throw releaseError(
        "RELEASE_REFERENCE_VALUES_INVALID",
        `--reference-values: ${JSON.stringify(id)} is not a platform with an object of reference values`,
      );
    out.set(id, value);
  }
  return out;
}

/**
 * JSON with object keys sorted at every level: the bytes a hash is taken over must not depend on
 * how the input file happened to order its keys.
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}
