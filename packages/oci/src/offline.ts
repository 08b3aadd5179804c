import { ImageError } from "./errors.js";
import type { ImageFileSystem } from "./fs.js";
import type { ImageConfig, Platform } from "./manifest.js";
import type { ImageMetadata, ImageMetadataSource, LayerMetadata } from "./metadata.js";
import { formatImageReference, parseImageReference } from "./reference.js";
import type { TarfsFlavour } from "./tarindex.js";

/**
 * The offline image-metadata file (documented in docs/image-metadata.md): everything policy
 * generation needs about a set of images, so that `generate` can run without a registry.
 *
 *   { "schema": "contrast.image-metadata/v1",
 *     "images": { "<normalised reference>": {
 *         "digest": "sha256:…", "indexDigest"?: "sha256:…",
 *         "platform": { "os": "linux", "architecture": "amd64" },
 *         "config": { "Env": […], "Entrypoint": […], … },
 *         "layers": [ { "diffId": "sha256:…", "verityHash": "<64 hex>",
 *                       "passwd"?: "<contents>" | null, "group"?: … ,
 *                       "digest"?: "sha256:…", "size"?: 123 } ] } } }
 *
 * `passwd`/`group` are absent when the layer does not touch the file and null when it deletes it.
 * An image's optional `"tarfs": "kata" | "microsoft"` says which tarfs writer its verity hashes
 * are for; a source asked for the other flavour refuses the entry.
 */
export const IMAGE_METADATA_SCHEMA = "contrast.image-metadata/v1";

export interface ImageMetadataDocument {
  readonly schema: typeof IMAGE_METADATA_SCHEMA;
  readonly images: Readonly<Record<string, Omit<ImageMetadata, "reference">>>;
}

function invalid(why: string): ImageError {
  return new ImageError("IMAGE_METADATA_FILE_INVALID", `the image-metadata file is invalid: ${why}`, {
    hint: "Regenerate the file with exportImageMetadata from a machine that can reach the registries.",
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isDigest = (v: unknown): v is string =>
  typeof v === "string" && /^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$/.test(v);

function parseLayer(v: unknown, where: string): LayerMetadata {
  if (!isObject(v)) throw invalid(`${where} is not an object`);
  if (!isDigest(v.diffId)) throw invalid(`${where}.diffId is not a digest`);
  if (typeof v.verityHash !== "string" || !/^[0-9a-f]{64}$/.test(v.verityHash)) {
    throw invalid(`${where}.verityHash is not 64 hex digits`);
  }
  for (const k of ["passwd", "group"] as const) {
    if (k in v && v[k] !== null && typeof v[k] !== "string") throw invalid(`${where}.${k} is not a string or null`);
  }
  if ("digest" in v && !isDigest(v.digest)) throw invalid(`${where}.digest is not a digest`);
  if ("size" in v && (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0)) {
    throw invalid(`${where}.size is not a size`);
  }
  return {
    diffId: v.diffId,
    verityHash: v.verityHash,
    ...("passwd" in v ? { passwd: v.passwd as string | null } : {}),
    ...("group" in v ? { group: v.group as string | null } : {}),
    ...("digest" in v ? { digest: v.digest as string } : {}),
    ...("size" in v ? { size: v.size as number } : {}),
  };
}

/** Parses and validates an offline image-metadata document. */
export function parseImageMetadataDocument(bytes: Uint8Array): ImageMetadataDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalid("not JSON");
  }
  if (!isObject(doc) || doc.schema !== IMAGE_METADATA_SCHEMA) throw invalid(`schema is not ${IMAGE_METADATA_SCHEMA}`);
  if (!isObject(doc.images)) throw invalid("images is not an object");
  const images: Record<string, Omit<ImageMetadata, "reference">> = {};
  for (const [name, v] of Object.entries(doc.images)) {
    const where = `images[${JSON.stringify(name)}]`;
    let normalized: string;
    try {
      normalized = formatImageReference(parseImageReference(name));
    } catch {
      throw invalid(`${where} is not an image reference`);
    }
    if (normalized !== name) throw invalid(`${where} is not normalised (write ${normalized})`);
    if (!isObject(v)) throw invalid(`${where} is not an object`);
    if (!isDigest(v.digest)) throw invalid(`${where}.digest is not a digest`);
    if ("indexDigest" in v && !isDigest(v.indexDigest)) throw invalid(`${where}.indexDigest is not a digest`);
    const p = v.platform;
    if (!isObject(p) || typeof p.os !== "string" || typeof p.architecture !== "string") {
      throw invalid(`${where}.platform lacks os or architecture`);
    }
    if (!isObject(v.config)) throw invalid(`${where}.config is not an object`);
    if (!Array.isArray(v.layers)) throw invalid(`${where}.layers is not an array`);
    if ("tarfs" in v && v.tarfs !== "kata" && v.tarfs !== "microsoft") {
      throw invalid(`${where}.tarfs is neither "kata" nor "microsoft"`);
    }
    const platform: Platform = {
      os: p.os,
      architecture: p.architecture,
      ...(typeof p.variant === "string" ? { variant: p.variant } : {}),
    };
    images[name] = {
      digest: v.digest,
      ...(typeof v.indexDigest === "string" ? { indexDigest: v.indexDigest } : {}),
      platform,
      config: v.config as ImageConfig,
      layers: v.layers.map((l, i) => parseLayer(l, `${where}.layers[${i}]`)),
      ...("tarfs" in v ? { tarfs: v.tarfs as TarfsFlavour } : {}),
    };
  }
  return { schema: IMAGE_METADATA_SCHEMA, images };
}

/** Stable text: keys in insertion order, two-space indentation, final newline. */
export function serializeImageMetadataDocument(doc: ImageMetadataDocument): string {
  const sorted = Object.fromEntries(Object.entries(doc.images).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ schema: doc.schema, images: sorted }, null, 2)}\n`;
}

/**
 * Image metadata from an offline document. A reference matches an entry with the same name and
 * tag; a pinned reference also matches any entry of the same repository with that digest (or
 * index digest), so a document exported for `app:v1` serves `app@sha256:…` too.
 */
export function createOfflineImageSource(doc: ImageMetadataDocument, tarfs?: TarfsFlavour): ImageMetadataSource {
  const checked = (name: string, image: Omit<ImageMetadata, "reference">): ImageMetadata => {
    if (tarfs !== undefined && image.tarfs !== undefined && image.tarfs !== tarfs) {
      throw new ImageError(
        "IMAGE_TARFS_MISMATCH",
        `the image-metadata file has layer hashes of ${name} for the ${image.tarfs} tarfs, but this platform's runtime uses the ${tarfs} tarfs`,
        {
          hint: "Export the image metadata again with the platform you generate for (AKS-CLH-SNP uses Microsoft's tarfs, the others Kata's).",
          details: { reference: name, file: image.tarfs, wanted: tarfs },
        },
      );
    }
    return { reference: name, ...image };
  };
  return {
    async get(reference: string): Promise<ImageMetadata> {
      const ref = parseImageReference(reference);
      const name = formatImageReference(ref);
      const exact = doc.images[name];
      if (exact !== undefined) return checked(name, exact);
      for (const [key, image] of Object.entries(doc.images)) {
        const k = parseImageReference(key);
        if (k.registry !== ref.registry || k.repository !== ref.repository) continue;
        if (ref.digest !== undefined) {
          if (image.digest === ref.digest || image.indexDigest === ref.digest || k.digest === ref.digest) {
            if (ref.tag === undefined || k.tag === undefined || ref.tag === k.tag) return checked(name, image);
          }
        } else if (k.tag === ref.tag) {
          return checked(name, image);
        }
      }
      throw new ImageError("IMAGE_NOT_IN_SOURCE", `${name} is not in the image-metadata file`, {
        hint: "Export the metadata again including this image, or run with access to its registry.",
        details: { reference: name },
      });
    },
    async close() {},
  };
}

/** Reads an offline document through the injected file system. */
export async function loadImageMetadataFile(
  fs: ImageFileSystem,
  path: string,
  tarfs?: TarfsFlavour,
): Promise<ImageMetadataSource> {
  const bytes = await fs.readFile(path);
  if (bytes === undefined) {
    throw new ImageError("IMAGE_METADATA_FILE_INVALID", `the image-metadata file ${path} does not exist`, {
      kind: "io",
      hint: "Check the path, or export the file first.",
    });
  }
  return createOfflineImageSource(parseImageMetadataDocument(bytes), tarfs);
}

/**
 * Fetches `references` from `source` and builds the offline document; with `fs` and `path` it is
 * also written (atomically). Users run this once with registry access and generate policies
 * offline afterwards.
 */
export async function exportImageMetadata(options: {
  readonly source: ImageMetadataSource;
  readonly references: Iterable<string>;
  readonly fs?: ImageFileSystem;
  readonly path?: string;
}): Promise<ImageMetadataDocument> {
  const images: Record<string, Omit<ImageMetadata, "reference">> = {};
  const unique = [...new Set([...options.references].map((r) => formatImageReference(parseImageReference(r))))];
  const fetched = await Promise.all(unique.map((r) => options.source.get(r)));
  for (const m of fetched) {
    const { reference, ...rest } = m;
    images[reference] = rest;
  }
  const doc: ImageMetadataDocument = { schema: IMAGE_METADATA_SCHEMA, images };
  if (options.fs !== undefined && options.path !== undefined) {
    await options.fs.writeFileAtomic(options.path, Buffer.from(serializeImageMetadataDocument(doc), "utf8"));
  }
  return doc;
}
