import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltImage, buildImage, buildIndex, veritysetupRoot } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeEtcFiles } from "../src/etc-files.js";
import { nodeFileSystem } from "../src/fs.js";
import { tarWithIndex } from "../src/layer.js";
import {
  createOfflineImageSource,
  exportImageMetadata,
  loadImageMetadataFile,
  parseImageMetadataDocument,
  serializeImageMetadataDocument,
} from "../src/offline.js";
import { createOciLayoutSource } from "../src/source.js";

const dir = mkdtempSync(join(tmpdir(), "contrast-oci-layout-"));
let image: BuiltImage;
let arm: BuiltImage;

function writeBlob(bytes: Uint8Array, digest: string): void {
  writeFileSync(join(dir, "blobs", "sha256", digest.slice(7)), bytes);
}

beforeAll(async () => {
  image = await buildImage([
    [
      { name: "etc/", type: "directory" },
      { name: "etc/passwd", content: "root:x:0:0::/:/bin/sh\n" },
    ],
    [
      { name: "etc/", type: "directory" },
      { name: "etc/.wh.passwd", content: "" },
      { name: "etc/group", content: "g:x:1:\n" },
    ],
  ]);
  arm = await buildImage([[{ name: "arm", content: "arm" }]], { architecture: "arm64" });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  for (const img of [image, arm]) {
    for (const l of img.layers) writeBlob(l.gz, l.digest);
    writeBlob(img.config, img.configDigest);
    writeBlob(img.manifest, img.manifestDigest);
  }
  const index = buildIndex([
    { image: arm, architecture: "arm64" },
    { image, architecture: "amd64" },
  ]);
  const indexDigest = `sha256:${(await import("node:crypto")).createHash("sha256").update(index).digest("hex")}`;
  writeBlob(index, indexDigest);
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: image.manifestDigest,
          size: image.manifest.length,
          annotations: { "org.opencontainers.image.ref.name": "v1" },
        },
        {
          mediaType: "application/vnd.oci.image.index.v1+json",
          digest: indexDigest,
          size: index.length,
          annotations: { "org.opencontainers.image.ref.name": "ghcr.io/acme/multi:v2" },
        },
      ],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("OCI image layout source", () => {
  it("finds images by tag annotation, full name or digest, through indexes", async () => {
    const source = createOciLayoutSource({ dir, fs: nodeFileSystem, hashThreads: 0 });
    try {
      const a = await source.get("example.com/app:v1");
      expect(a.digest).toBe(image.manifestDigest);
      expect(a.layers.map((l) => l.verityHash)).toEqual(image.layers.map((l) => veritysetupRoot(tarWithIndex(l.tar))));
      expect(mergeEtcFiles(a.layers)).toEqual({ group: "g:x:1:\n" });
      const b = await source.get("ghcr.io/acme/multi:v2");
      expect(b.digest).toBe(image.manifestDigest);
      const c = await source.get(`whatever/app@${image.manifestDigest}`);
      expect(c.layers).toEqual(a.layers);
      await expect(source.get("ghcr.io/acme/multi:v3")).rejects.toMatchObject({ code: "IMAGE_NOT_IN_SOURCE" });
    } finally {
      await source.close();
    }
  });

  it("refuses a directory that is not a layout, and blobs that do not match their digest", async () => {
    const empty = mkdtempSync(join(tmpdir(), "contrast-not-layout-"));
    try {
      const s = createOciLayoutSource({ dir: empty, fs: nodeFileSystem, hashThreads: 0 });
      await expect(s.get("app:v1")).rejects.toMatchObject({ code: "OCI_LAYOUT_INVALID" });
      const layer = image.layers[0];
      if (layer === undefined) throw new Error("layer");
      writeBlob(Buffer.from("tampered"), image.configDigest);
      const t = createOciLayoutSource({ dir, fs: nodeFileSystem, hashThreads: 0 });
      await expect(t.get("app:v1")).rejects.toMatchObject({ code: "DIGEST_MISMATCH", kind: "crypto" });
      writeBlob(image.config, image.configDigest);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("offline image-metadata file", () => {
  it("exports fetched images and serves them back without any registry", async () => {
    const layout = createOciLayoutSource({ dir, fs: nodeFileSystem, hashThreads: 0 });
    const path = join(dir, "images.json");
    const doc = await exportImageMetadata({
      source: layout,
      references: ["example.com/app:v1", "ghcr.io/acme/multi:v2", "example.com/app:v1"],
      fs: nodeFileSystem,
      path,
    });
    await layout.close();
    expect(Object.keys(doc.images).sort()).toEqual(["example.com/app:v1", "ghcr.io/acme/multi:v2"]);
    const offline = await loadImageMetadataFile(nodeFileSystem, path);
    const fromFile = await offline.get("example.com/app:v1");
    const again = createOciLayoutSource({ dir, fs: nodeFileSystem, hashThreads: 0 });
    expect(fromFile).toEqual(await again.get("example.com/app:v1"));
    await again.close();
    expect((await offline.get(`example.com/app@${image.manifestDigest}`)).digest).toBe(image.manifestDigest);
    expect((await offline.get(`ghcr.io/acme/multi:v2@${doc.images["ghcr.io/acme/multi:v2"]?.digest}`)).reference).toBe(
      `ghcr.io/acme/multi:v2@${doc.images["ghcr.io/acme/multi:v2"]?.digest}`,
    );
    await expect(offline.get("example.com/app:v2")).rejects.toMatchObject({ code: "IMAGE_NOT_IN_SOURCE" });
    expect(parseImageMetadataDocument(Buffer.from(serializeImageMetadataDocument(doc)))).toEqual(doc);
  });

  it("rejects malformed documents with a hint", () => {
    const bad = [
      "[]",
      '{"schema":"other","images":{}}',
      '{"schema":"contrast.image-metadata/v1","images":{"nginx":{}}}',
      `{"schema":"contrast.image-metadata/v1","images":{"docker.io/library/nginx:latest":{"digest":"sha256:${"a".repeat(64)}","platform":{"os":"linux","architecture":"amd64"},"config":{},"layers":[{"diffId":"x","verityHash":"y"}]}}}`,
    ];
    for (const text of bad) {
      expect(() => parseImageMetadataDocument(Buffer.from(text))).toThrow(
        expect.objectContaining({ code: "IMAGE_METADATA_FILE_INVALID", hint: expect.any(String) }),
      );
    }
    expect(createOfflineImageSource({ schema: "contrast.image-metadata/v1", images: {} })).toBeDefined();
  });
});
