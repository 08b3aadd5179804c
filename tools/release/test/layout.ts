import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildImage } from "@contrast/testkit";

/**
 * A tiny OCI layout in the shape `pnpm images` writes (contract 3): one image per release image,
 * each named by `org.opencontainers.image.ref.name`, and images.json beside it. `salt` changes one
 * image's app layer, as a changed bundle would.
 */
export async function writeTinyLayout(dir: string, options: { salt?: string; version?: string } = {}) {
  mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
  const blob = (b: Buffer, digest: string) => writeFileSync(join(dir, "blobs/sha256", digest.slice(7)), b);
  const manifests: unknown[] = [];
  const images: Record<string, unknown> = {};
  for (const name of ["coordinator", "initializer", "service-mesh", "node-installer"]) {
    const app = `console.log(${JSON.stringify(name)}${name === "coordinator" && options.salt ? ` + ${JSON.stringify(options.salt)}` : ""});\n`;
    const image = await buildImage(
      [
        [
          { name: "usr/", type: "directory" },
          { name: "usr/local/", type: "directory" },
          { name: "usr/local/bin/", type: "directory" },
          { name: "usr/local/bin/node", content: "#!/bin/false\n", mode: 0o755 },
        ],
        [
          { name: "opt/", type: "directory" },
          { name: "opt/contrast/", type: "directory" },
          { name: `opt/contrast/${name}.cjs`, content: app },
        ],
      ],
      {
        config: {
          Entrypoint: ["/usr/local/bin/node", `/opt/contrast/${name}.cjs`],
          Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
          WorkingDir: "/",
        },
      },
    );
    for (const l of image.layers) blob(l.gz, l.digest);
    blob(image.config, image.configDigest);
    blob(image.manifest, image.manifestDigest);
    manifests.push({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: image.manifestDigest,
      size: image.manifest.length,
      annotations: { "org.opencontainers.image.ref.name": name },
    });
    images[name] = {
      name,
      digest: image.manifestDigest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: image.manifest.length,
      layers: image.layers.map((l) => ({ digest: l.digest, size: l.gz.length, diffId: l.diffId })),
      config: image.configDigest,
    };
  }
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
  const doc = { schema: "contrast-images/v1", version: options.version ?? "0.1.0", images };
  writeFileSync(join(dir, "images.json"), `${JSON.stringify(doc, null, 2)}\n`);
  return doc;
}
