import {
  type BuiltImage,
  buildImage,
  buildIndex,
  type FileSpec,
  LocalRegistry,
  veritysetupRoot,
} from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fetcher } from "../src/http.js";
import { tarWithIndex } from "../src/layer.js";
import { LayersCache } from "../src/layers-cache.js";
import type { LayerProgress } from "../src/metadata.js";
import { createImageMetadataSource, pinReference } from "../src/source.js";
import { memoryFileSystem } from "./helpers/memory-fs.js";
import { RegistryProxy } from "./helpers/proxy.js";

const fetcher: Fetcher = (url, init) => fetch(url, init);

const base: FileSpec[] = [
  { name: "etc/", type: "directory" },
  { name: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n" },
  { name: "etc/group", content: "root:x:0:\napp:x:1000:\n" },
  { name: "bin/", type: "directory" },
  { name: "bin/app", content: "#!/bin/sh\necho hi\n".repeat(500), mode: 0o755 },
  { name: "bin/sh", type: "symlink", linkname: "app" },
];
const top: FileSpec[] = [
  { name: "etc/", type: "directory" },
  { name: "etc/.wh.group", content: "" },
  { name: "srv/data.bin", content: Buffer.alloc(70_000, 7) },
];

function recorder() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 };
}

let registry: LocalRegistry;
let image: BuiltImage;
let armImage: BuiltImage;
let dockerImage: BuiltImage;
let indexBytes: Buffer;

beforeAll(async () => {
  registry = await LocalRegistry.start();
  image = await buildImage([base, top], {
    config: {
      Env: ["PATH=/bin"],
      Entrypoint: ["/bin/app"],
      Cmd: ["serve"],
      WorkingDir: "/srv",
      User: "app",
      ExposedPorts: { "80/tcp": {} },
    },
  });
  armImage = await buildImage([base], { architecture: "arm64" });
  dockerImage = await buildImage([base], { mediaType: "docker" });
  await registry.pushImage("team/app", "v1", image);
  await registry.pushImage("team/app", undefined, armImage);
  await registry.pushImage("team/docker", "latest", dockerImage);
  indexBytes = buildIndex([
    { image: armImage, architecture: "arm64" },
    { image, architecture: "amd64" },
  ]);
  for (const l of [...image.layers, ...armImage.layers]) await registry.pushBlob("team/multi", l.digest, l.gz);
  await registry.pushBlob("team/multi", image.configDigest, image.config);
  await registry.pushBlob("team/multi", armImage.configDigest, armImage.config);
  await registry.pushManifest(
    "team/multi",
    image.manifestDigest,
    image.manifest,
    "application/vnd.oci.image.manifest.v1+json",
  );
  await registry.pushManifest(
    "team/multi",
    armImage.manifestDigest,
    armImage.manifest,
    "application/vnd.oci.image.manifest.v1+json",
  );
  await registry.pushManifest("team/multi", "v1", indexBytes, "application/vnd.oci.image.index.v1+json");
}, 60_000);

afterAll(async () => {
  await registry?.stop();
});

describe("registry source against Debian's docker-registry", () => {
  it("resolves a tag to the manifest, config and the layers' genpolicy values", async () => {
    const r = recorder();
    const source = createImageMetadataSource({ fetch: fetcher, ...r, hashThreads: 0 });
    try {
      const m = await source.get(`${registry.host}/team/app:v1`);
      expect(m.reference).toBe(`${registry.host}/team/app:v1`);
      expect(m.digest).toBe(image.manifestDigest);
      expect(m.platform).toEqual({ os: "linux", architecture: "amd64" });
      expect(m.config.Entrypoint).toEqual(["/bin/app"]);
      expect(m.config.User).toBe("app");
      expect(m.config.ExposedPorts).toEqual({ "80/tcp": {} });
      expect(m.layers.map((l) => l.diffId)).toEqual(image.layers.map((l) => l.diffId));
      // The verity hash is veritysetup's root over "tar ‖ tarfs index".
      for (const [i, l] of m.layers.entries()) {
        const built = image.layers[i];
        if (built === undefined) throw new Error("layer");
        expect(l.verityHash).toBe(veritysetupRoot(tarWithIndex(built.tar)));
        expect(l.digest).toBe(built.digest);
      }
      expect(m.layers[0]?.passwd).toContain("app:x:1000:1000");
      expect(m.layers[0]?.group).toBe("root:x:0:\napp:x:1000:\n");
      expect(m.layers[1]?.passwd).toBeUndefined();
      expect(m.layers[1]?.group).toBeNull();
      expect(r.sleeps).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it("fetches by digest and verifies it; an unknown digest is REGISTRY_NOT_FOUND", async () => {
    const source = createImageMetadataSource({ fetch: fetcher, hashThreads: 1 });
    try {
      const m = await source.get(`${registry.host}/team/app@${image.manifestDigest}`);
      expect(m.digest).toBe(image.manifestDigest);
      await expect(source.get(`${registry.host}/team/app@sha256:${"0".repeat(64)}`)).rejects.toMatchObject({
        code: "REGISTRY_NOT_FOUND",
      });
      await expect(source.get(`${registry.host}/team/nothing:v1`)).rejects.toMatchObject({
        code: "REGISTRY_NOT_FOUND",
      });
      await expect(source.get(`${registry.host}/team/app:v9`)).rejects.toMatchObject({
        code: "REGISTRY_NOT_FOUND",
        hint: expect.any(String),
      });
    } finally {
      await source.close();
    }
  });

  it("chooses the platform manifest from an image index (linux/amd64 unless told otherwise)", async () => {
    const amd = createImageMetadataSource({ fetch: fetcher, hashThreads: 0 });
    const arm = createImageMetadataSource({
      fetch: fetcher,
      hashThreads: 0,
      platform: { os: "linux", architecture: "arm64" },
    });
    const s390 = createImageMetadataSource({
      fetch: fetcher,
      hashThreads: 0,
      platform: { os: "linux", architecture: "s390x" },
    });
    try {
      const a = await amd.get(`${registry.host}/team/multi:v1`);
      expect(a.digest).toBe(image.manifestDigest);
      expect(a.indexDigest).toMatch(/^sha256:/);
      const b = await arm.get(`${registry.host}/team/multi:v1`);
      expect(b.digest).toBe(armImage.manifestDigest);
      expect(b.platform.architecture).toBe("arm64");
      await expect(s390.get(`${registry.host}/team/multi:v1`)).rejects.toMatchObject({
        code: "IMAGE_PLATFORM_NOT_FOUND",
        details: { available: ["linux/arm64", "linux/amd64"] },
      });
      expect(await pinReference(amd, `${registry.host}/team/multi:v1`)).toBe(
        `${registry.host}/team/multi:v1@${a.indexDigest}`,
      );
      expect(await pinReference(amd, `${registry.host}/team/app:v1`)).toBe(
        `${registry.host}/team/app:v1@${image.manifestDigest}`,
      );
    } finally {
      await Promise.all([amd.close(), arm.close(), s390.close()]);
    }
  });

  it("reads Docker v2 manifests and layer media types", async () => {
    const source = createImageMetadataSource({ fetch: fetcher, hashThreads: 0 });
    try {
      const m = await source.get(`${registry.host}/team/docker`);
      expect(m.reference).toBe(`${registry.host}/team/docker:latest`);
      expect(m.layers[0]?.verityHash).toBe(
        veritysetupRoot(tarWithIndex(dockerImage.layers[0]?.tar ?? Buffer.alloc(0))),
      );
    } finally {
      await source.close();
    }
  });

  it("answers layers from the cache the second time and reports progress", async () => {
    const { fs, files } = memoryFileSystem();
    const events: LayerProgress[] = [];
    const blobFetches: string[] = [];
    const counting: Fetcher = (url, init) => {
      if (url.includes("/blobs/")) blobFetches.push(url);
      return fetch(url, init);
    };
    const first = createImageMetadataSource({
      fetch: counting,
      hashThreads: 2,
      cache: new LayersCache({ path: "/cache.json", fs }),
      progress: (e) => events.push(e),
    });
    const one = await first.get(`${registry.host}/team/app:v1`);
    await first.close();
    expect(blobFetches.length).toBe(3);
    const done = events.filter((e) => e.phase === "done");
    expect(done.map((e) => e.layer).sort()).toEqual(image.layers.map((l) => l.digest).sort());
    const big = events.filter((e) => e.layer === image.layers[1]?.digest && e.phase === "downloading");
    expect(big.at(-1)?.bytesDone).toBe(image.layers[1]?.gz.length);
    const text = Buffer.from(files.get("/cache.json") ?? new Uint8Array()).toString();
    const records = JSON.parse(text) as { diff_id: string; verity_hash: string; passwd: string; group: string }[];
    expect(records.map((r) => r.diff_id).sort()).toEqual(image.layers.map((l) => l.diffId).sort());
    expect(records.find((r) => r.diff_id === image.layers[1]?.diffId)?.group).toBe("WHITEOUT");

    blobFetches.length = 0;
    events.length = 0;
    const cache = new LayersCache({ path: "/cache.json", fs });
    await cache.load();
    const second = createImageMetadataSource({
      fetch: counting,
      hashThreads: 0,
      cache,
      progress: (e) => events.push(e),
    });
    const two = await second.get(`${registry.host}/team/app:v1`);
    expect(two).toEqual(one);
    expect(blobFetches.length).toBe(1); // the config only
    expect(events.map((e) => e.phase)).toEqual(["cached", "cached"]);
  });
});

describe("authentication", () => {
  it("uses Basic credentials on an htpasswd registry and refuses without them", async () => {
    const secured = await LocalRegistry.start({ htpasswd: { user: "alice", password: "s3cret" } });
    try {
      await secured.pushImage("private/app", "v1", image);
      const ok = createImageMetadataSource({
        fetch: fetcher,
        hashThreads: 0,
        credentials: (reg) => (reg === secured.host ? { username: "alice", password: "s3cret" } : undefined),
      });
      expect((await ok.get(`${secured.host}/private/app:v1`)).digest).toBe(image.manifestDigest);
      await ok.close();
      const anonymous = createImageMetadataSource({ fetch: fetcher, hashThreads: 0 });
      await expect(anonymous.get(`${secured.host}/private/app:v1`)).rejects.toMatchObject({
        code: "REGISTRY_UNAUTHORIZED",
        hint: expect.stringContaining("log in"),
      });
      const wrong = createImageMetadataSource({
        fetch: fetcher,
        hashThreads: 0,
        credentials: () => ({ username: "alice", password: "nope" }),
      });
      await expect(wrong.get(`${secured.host}/private/app:v1`)).rejects.toMatchObject({
        code: "REGISTRY_UNAUTHORIZED",
        hint: expect.stringContaining("rejected the credentials"),
      });
    } finally {
      await secured.stop();
    }
  }, 60_000);

  it("follows the Bearer token flow (challenge, token endpoint with scope and service)", async () => {
    const proxy = await RegistryProxy.start(registry.host, { bearer: { user: "bob", password: "pw" } });
    try {
      const source = createImageMetadataSource({
        fetch: fetcher,
        hashThreads: 0,
        credentials: () => ({ username: "bob", password: "pw" }),
      });
      const m = await source.get(`${proxy.host}/team/app:v1`);
      expect(m.digest).toBe(image.manifestDigest);
      expect(proxy.tokenRequests[0]?.query).toContain("scope=repository%3Ateam%2Fapp%3Apull");
      expect(proxy.tokenRequests[0]?.query).toContain("service=test-registry");
      // One token for the repository, reused for every later request.
      expect(proxy.tokenRequests.length).toBe(1);
      expect(proxy.requests.filter((r) => r.authorization === "Bearer good-token").length).toBeGreaterThanOrEqual(4);
      await source.close();
      const bad = createImageMetadataSource({
        fetch: fetcher,
        hashThreads: 0,
        credentials: () => ({ username: "bob", password: "x" }),
      });
      await expect(bad.get(`${proxy.host}/team/app:v1`)).rejects.toMatchObject({ code: "REGISTRY_UNAUTHORIZED" });
    } finally {
      await proxy.stop();
    }
  });
});

describe("retries", () => {
  it("honours Retry-After on 429 and backs off on 5xx and connection resets", async () => {
    const proxy = await RegistryProxy.start(registry.host, { faults: ["429", "503", "reset", "500"] });
    const r = recorder();
    try {
      const source = createImageMetadataSource({ fetch: fetcher, hashThreads: 0, concurrency: 1, ...r });
      const m = await source.get(`${proxy.host}/team/app:v1`);
      expect(m.digest).toBe(image.manifestDigest);
      // 7 s from Retry-After; then full-jitter backoff with random() = 0.5: 0.5 · 500 ms · 2^n.
      expect(r.sleeps).toEqual([7000, 500, 1000, 2000]);
      await source.close();
    } finally {
      await proxy.stop();
    }
  });

  it("gives up with REGISTRY_RATE_LIMITED or REGISTRY_UNAVAILABLE", async () => {
    const limited = await RegistryProxy.start(registry.host, { faults: Array(10).fill("429") });
    const down = await RegistryProxy.start(registry.host, { faults: Array(10).fill("503") });
    const r = recorder();
    try {
      const a = createImageMetadataSource({ fetch: fetcher, hashThreads: 0, ...r, retry: { attempts: 3 } });
      await expect(a.get(`${limited.host}/team/app:v1`)).rejects.toMatchObject({
        code: "REGISTRY_RATE_LIMITED",
        details: { status: 429, attempts: 3 },
      });
      await expect(a.get(`${down.host}/team/app:v1`)).rejects.toMatchObject({
        code: "REGISTRY_UNAVAILABLE",
        details: { status: 503, attempts: 3 },
      });
      const dead = createImageMetadataSource({ fetch: fetcher, hashThreads: 0, ...r, retry: { attempts: 2 } });
      await expect(dead.get("127.0.0.1:1/team/app:v1")).rejects.toMatchObject({ code: "REGISTRY_UNAVAILABLE" });
    } finally {
      await Promise.all([limited.stop(), down.stop()]);
    }
  });

  it("starts a layer over when its download breaks off midway", async () => {
    const proxy = await RegistryProxy.start(registry.host, {
      faults: ["truncate"],
      faultPath: image.layers[1]?.digest ?? "",
    });
    const r = recorder();
    try {
      const source = createImageMetadataSource({ fetch: fetcher, hashThreads: 0, ...r });
      const m = await source.get(`${proxy.host}/team/app:v1`);
      expect(m.layers[1]?.verityHash).toBe(veritysetupRoot(tarWithIndex(image.layers[1]?.tar ?? Buffer.alloc(0))));
      expect(r.sleeps.length).toBe(1);
      expect(proxy.requests.filter((q) => q.path.includes(image.layers[1]?.digest ?? "?")).length).toBe(2);
    } finally {
      await proxy.stop();
    }
  });
});

describe("transport security", () => {
  it("uses HTTPS for registries that are neither loopback nor listed as insecure", async () => {
    const urls: string[] = [];
    const spy: Fetcher = async (url) => {
      urls.push(url);
      throw new TypeError("fetch failed");
    };
    const source = createImageMetadataSource({ fetch: spy, hashThreads: 0, retry: { attempts: 1 } });
    await expect(source.get("registry.example.com/app:v1")).rejects.toMatchObject({ code: "REGISTRY_UNAVAILABLE" });
    await expect(source.get("nginx")).rejects.toMatchObject({ code: "REGISTRY_UNAVAILABLE" });
    expect(urls).toEqual([
      "https://registry.example.com/v2/app/manifests/v1",
      "https://registry-1.docker.io/v2/library/nginx/manifests/latest",
    ]);
  });

  it("falls back to plain HTTP only for insecure-listed registries", async () => {
    const urls: string[] = [];
    const spy: Fetcher = async (url) => {
      urls.push(url);
      throw new TypeError("fetch failed");
    };
    const source = createImageMetadataSource({
      fetch: spy,
      hashThreads: 0,
      retry: { attempts: 1 },
      insecureRegistries: ["reg.internal:5000"],
    });
    await expect(source.get("reg.internal:5000/app:v1")).rejects.toMatchObject({ code: "REGISTRY_UNAVAILABLE" });
    expect(urls).toEqual(["https://reg.internal:5000/v2/", "http://reg.internal:5000/v2/app/manifests/v1"]);
  });
});
