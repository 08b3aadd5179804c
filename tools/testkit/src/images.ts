import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export interface FileSpec {
  readonly name: string;
  readonly type?: "file" | "directory" | "symlink" | "link" | "character-device" | "fifo";
  readonly content?: string | Uint8Array;
  readonly linkname?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: Date;
  readonly devmajor?: number;
  readonly devminor?: number;
}

/** A layer tarball built with tar-stream (a maintained npm tar writer), not with our own code. */
export async function buildTar(files: readonly FileSpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on("end", resolve);
    p.on("error", reject);
  });
  for (const f of files) {
    const content = f.content === undefined ? undefined : Buffer.from(f.content);
    await new Promise<void>((resolve, reject) => {
      p.entry(
        {
          name: f.name,
          type: f.type ?? "file",
          mode: f.mode ?? (f.type === "directory" ? 0o755 : 0o644),
          uid: f.uid ?? 0,
          gid: f.gid ?? 0,
          mtime: f.mtime ?? new Date(1_700_000_000_000),
          ...(f.linkname === undefined ? {} : { linkname: f.linkname }),
          ...(f.devmajor === undefined ? {} : { devmajor: f.devmajor, devminor: f.devminor ?? 0 }),
          ...(content === undefined ? {} : { size: content.length }),
        },
        content ?? "",
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const sha256 = (b: Uint8Array): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export interface BuiltImage {
  readonly layers: { tar: Buffer; gz: Buffer; digest: string; diffId: string }[];
  readonly config: Buffer;
  readonly configDigest: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

export async function buildImage(
  layerFiles: readonly (readonly FileSpec[])[],
  options: { architecture?: string; config?: Record<string, unknown>; mediaType?: "oci" | "docker" } = {},
): Promise<BuiltImage> {
  const layers = [];
  for (const files of layerFiles) {
    const tar = await buildTar(files);
    const gz = gzipSync(tar);
    layers.push({ tar, gz, digest: sha256(gz), diffId: sha256(tar) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: options.architecture ?? "amd64",
      os: "linux",
      config: options.config ?? { Env: ["PATH=/usr/bin"], Cmd: ["/app"], WorkingDir: "/" },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const docker = options.mediaType === "docker";
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: docker
        ? "application/vnd.docker.distribution.manifest.v2+json"
        : "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: docker
          ? "application/vnd.docker.container.image.v1+json"
          : "application/vnd.oci.image.config.v1+json",
        digest: sha256(config),
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: docker
          ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
          : "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: l.digest,
        size: l.gz.length,
      })),
    }),
  );
  return { layers, config, configDigest: sha256(config), manifest, manifestDigest: sha256(manifest) };
}

export function buildIndex(entries: { image: BuiltImage; architecture: string }[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: entries.map((e) => ({
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: e.image.manifestDigest,
        size: e.image.manifest.length,
        platform: { os: "linux", architecture: e.architecture },
      })),
    }),
  );
}
