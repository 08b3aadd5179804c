import { mkdir, readFile, writeFile } from "node:fs/promises";
import { ImageError } from "./errors.js";
import type { BuiltOciImage } from "./image-build.js";
import { sha256Digest } from "./image-layer.js";
import { MEDIA_TYPE } from "./manifest.js";

/** The file access a layout needs, injected: `nodeLayoutFileSystem` on disk, anything in tests. */
export interface LayoutFileSystem {
  /** Creates a directory and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** File contents, or undefined when the file does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
}

export const nodeLayoutFileSystem: LayoutFileSystem = {
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  async writeFile(path, data) {
    await writeFile(path, data);
  },
  async readFile(path) {
    try {
      return await readFile(path);
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") return undefined;
      throw err;
    }
  },
};

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

/** One entry of a layout's index.json. */
export interface LayoutImageEntry {
  /** The `org.opencontainers.image.ref.name` annotation. */
  readonly name: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

const blobPath = (dir: string, digest: string): string => {
  const [alg, hex] = digest.split(":");
  return `${dir}/blobs/${alg}/${hex}`;
};

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/**
 * Writes the images into one OCI image layout at `dir`: `oci-layout`, every blob once under
 * `blobs/sha256/`, and `index.json` with one manifest per image, sorted by name and annotated
 * with `org.opencontainers.image.ref.name` = the name (so `skopeo inspect oci:<dir>:<name>`
 * finds it). The caller hands a fresh directory: blobs already there are not removed.
 */
export async function writeOciLayout(
  fs: LayoutFileSystem,
  dir: string,
  images: readonly { readonly name: string; readonly image: BuiltOciImage }[],
): Promise<readonly LayoutImageEntry[]> {
  const names = new Set<string>();
  for (const { name } of images) {
    if (names.has(name)) {
      throw new ImageError("IMAGE_SPEC_INVALID", `two images are named ${name}`, {
        hint: "Every image in a layout needs its own name.",
        details: { name },
      });
    }
    names.add(name);
  }
  await fs.mkdir(`${dir}/blobs/sha256`);
  const written = new Set<string>();
  const sorted = [...images].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const entries: LayoutImageEntry[] = [];
  for (const { name, image } of sorted) {
    for (const blob of [...image.blobs, image.manifest]) {
      if (written.has(blob.digest)) continue;
      await fs.writeFile(blobPath(dir, blob.digest), blob.bytes);
      written.add(blob.digest);
    }
    entries.push({
      name,
      digest: image.digest,
      mediaType: image.manifest.mediaType,
      size: image.manifest.bytes.length,
    });
  }
  await fs.writeFile(`${dir}/oci-layout`, json({ imageLayoutVersion: "1.0.0" }));
  await fs.writeFile(
    `${dir}/index.json`,
    json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociIndex,
      manifests: entries.map((e) => ({
        mediaType: e.mediaType,
        digest: e.digest,
        size: e.size,
        annotations: { [REF_NAME_ANNOTATION]: e.name },
      })),
    }),
  );
  return entries;
}

function layoutInvalid(dir: string, why: string): ImageError {
  return new ImageError("OCI_LAYOUT_INVALID", `${dir} is not a valid OCI image layout: ${why}`, {
    hint: "Point at a directory written by skopeo, buildah or another OCI tool (oci-layout, index.json, blobs/).",
    details: { dir },
  });
}

/** An image read back from a layout, ready to push: its manifest and blobs by digest. */
export interface LayoutImage extends LayoutImageEntry {
  readonly manifest: Uint8Array;
  /** Config then layers, as the manifest lists them. */
  readonly blobs: readonly { readonly digest: string; readonly size: number; readonly mediaType: string }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

function descriptor(
  dir: string,
  v: unknown,
  what: string,
): { readonly digest: string; readonly size: number; readonly mediaType: string } {
  if (!isRecord(v) || typeof v.digest !== "string" || !DIGEST.test(v.digest)) {
    throw layoutInvalid(dir, `${what} has no sha256 digest`);
  }
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw layoutInvalid(dir, `${what} has no valid size`);
  }
  if (typeof v.mediaType !== "string") throw layoutInvalid(dir, `${what} has no media type`);
  return { digest: v.digest, size: v.size, mediaType: v.mediaType };
}

/** Reads a blob and checks it against its digest (and size when known). */
export async function readLayoutBlob(
  fs: LayoutFileSystem,
  dir: string,
  digest: string,
  size?: number,
): Promise<Uint8Array> {
  if (!DIGEST.test(digest)) throw layoutInvalid(dir, `blob digest ${JSON.stringify(digest)} is not sha256`);
  const bytes = await fs.readFile(blobPath(dir, digest));
  if (bytes === undefined) throw layoutInvalid(dir, `blob ${digest} is missing`);
  if ((size !== undefined && bytes.length !== size) || sha256Digest(bytes) !== digest) {
    throw new ImageError("DIGEST_MISMATCH", `blob ${digest} in ${dir} does not match its digest or size`, {
      kind: "crypto",
      hint: "The layout is damaged; build it again.",
      details: { digest },
    });
  }
  return bytes;
}

/**
 * The named image manifests of a layout (index entries carrying a ref name annotation), each
 * with its manifest bytes (digest-checked) and the blobs it references. Only single-platform
 * OCI/Docker manifests are read; an index entry that is itself an index is refused.
 */
export async function readOciLayoutImages(fs: LayoutFileSystem, dir: string): Promise<readonly LayoutImage[]> {
  const layoutFile = await fs.readFile(`${dir}/oci-layout`);
  if (layoutFile === undefined) throw layoutInvalid(dir, "no oci-layout file");
  const indexBytes = await fs.readFile(`${dir}/index.json`);
  if (indexBytes === undefined) throw layoutInvalid(dir, "no index.json");
  let index: unknown;
  try {
    index = JSON.parse(Buffer.from(indexBytes).toString("utf8"));
  } catch {
    throw layoutInvalid(dir, "index.json is not JSON");
  }
  if (!isRecord(index) || !Array.isArray(index.manifests)) throw layoutInvalid(dir, "index.json has no manifests");
  const out: LayoutImage[] = [];
  for (const [i, m] of index.manifests.entries()) {
    const d = descriptor(dir, m, `index.json manifests[${i}]`);
    const annotations = isRecord(m) && isRecord(m.annotations) ? m.annotations : {};
    const name = annotations[REF_NAME_ANNOTATION];
    if (typeof name !== "string" || name === "") continue;
    if (d.mediaType !== MEDIA_TYPE.ociManifest && d.mediaType !== MEDIA_TYPE.dockerManifest) {
      throw layoutInvalid(dir, `${name} is a ${d.mediaType}, not a single image manifest`);
    }
    const manifest = await readLayoutBlob(fs, dir, d.digest, d.size);
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(manifest).toString("utf8"));
    } catch {
      throw layoutInvalid(dir, `the manifest of ${name} is not JSON`);
    }
    if (!isRecord(doc) || !Array.isArray(doc.layers)) throw layoutInvalid(dir, `the manifest of ${name} has no layers`);
    const blobs = [
      descriptor(dir, doc.config, `${name} config`),
      ...doc.layers.map((l, j) => descriptor(dir, l, `${name} layer ${j}`)),
    ];
    out.push({ ...d, name, manifest, blobs });
  }
  return out;
}
