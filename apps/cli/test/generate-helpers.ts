import { copyFileSync, cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, tempDir } from "./helpers.js";

export const GOLDEN = join(REPO, "testdata/golden/generate");
export const EMOJIVOTO = join(REPO, "testdata/k8s/emojivoto");
export const INITIALIZER = "ghcr.io/edgelesssys/contrast/initializer:latest";
export const SERVICE_MESH = "ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest";
export const PINNED = `registry.example/app@sha256:${"c".repeat(64)}`;

const PLATFORM = { os: "linux", architecture: "amd64" };

/**
 * An offline image-metadata document (docs/image-metadata.md) for the given images: one layer
 * each, with made-up but well-formed digests, so that no registry is needed. The layer sizes are
 * known, so the tmpfs lint can judge them.
 */
export function imageMetadata(images: readonly string[], layerBytes = 10 * 1024 * 1024): string {
  const entries: Record<string, unknown> = {};
  images.forEach((ref, i) => {
    const n = (i + 1).toString(16).padStart(2, "0");
    entries[ref] = {
      digest: ref.includes("@") ? ref.slice(ref.indexOf("@") + 1) : `sha256:${n.repeat(32)}`,
      platform: PLATFORM,
      config: { Entrypoint: ["/app"], User: "1000:1000" },
      layers: [
        {
          diffId: `sha256:${"a".repeat(62)}${n}`,
          verityHash: `${"b".repeat(62)}${n}`,
          digest: `sha256:${"d".repeat(62)}${n}`,
          size: layerBytes,
        },
      ],
    };
  });
  return `${JSON.stringify({ schema: "contrast.image-metadata/v1", images: entries }, null, 2)}\n`;
}

/**
 * The emojivoto demo as upstream's deployment guide prepares it: `runtimeClassName: contrast-cc`
 * added to each Deployment's pod spec (before `serviceAccountName`, text only, so every comment
 * and line of the original stays).
 */
export function emojivotoWorkspace(): string {
  const dir = tempDir();
  const resources = join(dir, "resources");
  cpSync(EMOJIVOTO, resources, { recursive: true });
  for (const f of readdirSync(resources)) {
    if (!f.endsWith(".yml")) continue;
    const path = join(resources, f);
    const text = readFileSync(path, "utf8").replace(
      /^( {6})serviceAccountName: (.*)$/gm,
      "$1runtimeClassName: contrast-cc\n$1serviceAccountName: $2",
    );
    writeFileSync(path, text);
  }
  writeFileSync(
    join(dir, "images.json"),
    imageMetadata([
      "docker.l5d.io/buoyantio/emojivoto-emoji-svc:v11",
      "docker.l5d.io/buoyantio/emojivoto-voting-svc:v11",
      "docker.l5d.io/buoyantio/emojivoto-web:v11",
      INITIALIZER,
      SERVICE_MESH,
    ]),
  );
  withKeys(dir);
  return dir;
}

/** Fixed owner keys (made with openssl), so that manifests are reproducible and no RSA key is generated. */
export function withKeys(dir: string): void {
  copyFileSync(join(GOLDEN, "workload-owner.pem"), join(dir, "workload-owner.pem"));
  copyFileSync(join(GOLDEN, "seedshare-owner.pem"), join(dir, "seedshare-owner.pem"));
}
