import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { expectCode, FUZZ_RUNS, scratchDir } from "@contrast/testkit";
import fc from "fast-check";
import { extract } from "tar-stream";
import { describe, expect, it } from "vitest";
import {
  buildImage,
  buildLayer,
  buildTar,
  createOciLayoutSource,
  type LayerEntry,
  nodeFileSystem,
  nodeLayoutFileSystem,
  readOciLayoutImages,
  writeOciLayout,
} from "../src/index.js";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

interface Extracted {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  content: Buffer;
}

/** Reads a tar with tar-stream (an independent, maintained reader). */
async function untar(tar: Uint8Array): Promise<Extracted[]> {
  const ex = extract();
  const out: Extracted[] = [];
  ex.on("entry", (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on("data", (c: unknown) => {
      parts.push(c as Buffer);
    });
    stream.on("end", () => {
      out.push({
        name: header.name,
        type: header.type ?? "file",
        mode: header.mode ?? 0,
        uid: header.uid ?? -1,
        gid: header.gid ?? -1,
        mtime: (header.mtime?.getTime() ?? -1) / 1000,
        linkname: header.linkname ?? null,
        content: Buffer.concat(parts),
      });
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  ex.end(Buffer.from(tar));
  await done;
  return out;
}

const file = (path: string, content: string, mode?: number): LayerEntry => ({
  type: "file",
  path,
  content: Buffer.from(content),
  ...(mode === undefined ? {} : { mode }),
});

describe("buildTar / buildLayer", () => {
  it("sorts entries, adds parent directories, fixes owner and mtime", async () => {
    const tar = buildTar(
      [
        file("/usr/local/bin/node", "#!bin", 0o755),
        { type: "symlink", path: "/lib", target: "usr/lib" },
        { type: "directory", path: "/tmp", mode: 0o1777 },
        file("/etc/passwd", "root:x:0:0::/:/sbin/nologin\n"),
      ],
      { mtime: 1_700_000_000 },
    );
    const entries = await untar(tar);
    expect(entries.map((e) => e.name)).toEqual([
      "etc/",
      "etc/passwd",
      "lib",
      "tmp/",
      "usr/",
      "usr/local/",
      "usr/local/bin/",
      "usr/local/bin/node",
    ]);
    for (const e of entries) {
      expect(e.uid).toBe(0);
      expect(e.gid).toBe(0);
      expect(e.mtime).toBe(1_700_000_000);
    }
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get("usr/local/bin/node")?.mode).toBe(0o755);
    expect(byName.get("tmp/")?.mode).toBe(0o1777);
    expect(byName.get("etc/passwd")?.mode).toBe(0o644);
    expect(byName.get("lib")?.type).toBe("symlink");
    expect(byName.get("lib")?.linkname).toBe("usr/lib");
  });

  it("writes PAX records for long names that GNU tar reads back", () => {
    const dir = scratchDir();
    const long = `/${"d".repeat(120)}/${"f".repeat(150)}`;
    const target = `/${"t".repeat(130)}`;
    const tar = buildTar([file(long, "x"), { type: "symlink", path: "/link", target }]);
    const tarPath = join(dir, "l.tar");
    execFileSync("sh", ["-c", `cat > ${tarPath}`], { input: tar });
    const listing = execFileSync("tar", ["-tvf", tarPath], { encoding: "utf8" });
    expect(listing).toContain(long.slice(1));
    expect(listing).toContain(`link -> ${target}`);
    execFileSync("tar", ["-xf", tarPath, "-C", dir]);
    expect(readFileSync(join(dir, long), "utf8")).toBe("x");
  });

  it("refuses duplicate, relative, unnormalised paths and files used as directories", () => {
    expectCode(() => buildTar([file("/a", "1"), file("/a", "2")]), "IMAGE_LAYER_INVALID");
    expectCode(() => buildTar([file("a", "1")]), "IMAGE_LAYER_INVALID");
    expectCode(() => buildTar([file("/a/../b", "1")]), "IMAGE_LAYER_INVALID");
    expectCode(() => buildTar([file("/a//b", "1")]), "IMAGE_LAYER_INVALID");
    expectCode(() => buildTar([file("/a", "1"), file("/a/b", "2")]), "IMAGE_LAYER_INVALID");
    expectCode(() => buildTar([{ type: "symlink", path: "/l", target: "" }]), "IMAGE_LAYER_INVALID");
    expectCode(() => buildTar([file("/a", "1", 0o17777)]), "IMAGE_LAYER_INVALID");
    expectCode(() => buildTar([file("/a", "1")], { mtime: -1 }), "IMAGE_LAYER_INVALID");
  });

  it("gives the same bytes whatever the input order, and round-trips through tar-stream (property)", async () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,12}$/).filter((s) => s !== "." && s !== "..");
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join("/")}`);
    const entries = fc
      .uniqueArray(fc.tuple(path, fc.uint8Array({ maxLength: 700 }), fc.boolean()), {
        selector: ([p]) => p,
        maxLength: 12,
      })
      // A path that is a prefix directory of another cannot also be a file.
      .filter((list) => list.every(([p]) => !list.some(([q]) => q.startsWith(`${p}/`))));
    await fc.assert(
      fc.asyncProperty(entries, fc.infiniteStream(fc.nat()), async (list, randoms) => {
        const layer: LayerEntry[] = list.map(([p, content, exec]) => ({
          type: "file",
          path: p,
          content,
          mode: exec ? 0o755 : 0o644,
        }));
        const shuffled = [...layer];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (randoms.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as LayerEntry, shuffled[i] as LayerEntry];
        }
        const a = buildLayer(layer);
        const b = buildLayer(shuffled);
        expect(Buffer.compare(Buffer.from(a.gz), Buffer.from(b.gz))).toBe(0);
        expect(a.diffId).toBe(sha(gunzipSync(a.gz)));
        expect(a.digest).toBe(sha(a.gz));
        const read = await untar(a.tar);
        for (const [p, content, exec] of list) {
          const e = read.find((x) => x.name === p.slice(1));
          expect(e?.content.equals(Buffer.from(content))).toBe(true);
          expect(e?.mode).toBe(exec ? 0o755 : 0o644);
        }
        const names = read.map((e) => e.name.replace(/\/$/, ""));
        expect(names).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      }),
      { numRuns: Math.min(FUZZ_RUNS, 100) },
    );
  });

  it("compresses deterministically: no mtime, OS byte 255", () => {
    const l = buildLayer([file("/a", "hello")]);
    expect([...l.gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    expect(l.size).toBe(l.gz.length);
  });
});

describe("buildImage / writeOciLayout", () => {
  const runtime = buildLayer([file("/usr/local/bin/tool", "bin", 0o755)]);
  const app = (body: string) => buildLayer([file("/opt/app.js", body)]);
  const image = (body: string) =>
    buildImage({
      layers: [runtime, app(body)],
      config: {
        entrypoint: ["/usr/local/bin/tool", "/opt/app.js"],
        env: { PATH: "/usr/bin", NODE_ENV: "production" },
        ports: ["1313/tcp"],
        workdir: "/",
        labels: { "org.example": "x" },
      },
      annotations: { "org.opencontainers.image.title": "app" },
    });

  it("makes a manifest whose digest is its hash, with a config naming the diff IDs and no date", () => {
    const img = image("one");
    expect(img.digest).toBe(sha(img.manifest.bytes));
    const manifest = JSON.parse(Buffer.from(img.manifest.bytes).toString());
    const config = JSON.parse(Buffer.from(img.config.bytes).toString());
    expect(manifest.config.digest).toBe(sha(img.config.bytes));
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual([runtime.digest, img.layers[1]?.digest]);
    expect(config.rootfs.diff_ids).toEqual([runtime.diffId, img.layers[1]?.diffId]);
    expect(config.created).toBeUndefined();
    expect(config.config.Env).toEqual(["PATH=/usr/bin", "NODE_ENV=production"]);
    expect(config.config.ExposedPorts).toEqual({ "1313/tcp": {} });
    expect(image("one").digest).toBe(img.digest);
    expect(image("two").digest).not.toBe(img.digest);
  });

  it("writes a layout that skopeo, umoci and our own layout reader accept", async () => {
    const dir = scratchDir();
    const one = image("one");
    const two = image("two");
    const entries = await writeOciLayout(nodeLayoutFileSystem, dir, [
      { name: "two", image: two },
      { name: "one", image: one },
    ]);
    expect(entries.map((e) => e.name)).toEqual(["one", "two"]);
    // The shared runtime layer is stored once.
    const blobs = readdirSync(join(dir, "blobs", "sha256"));
    expect(blobs.filter((b) => `sha256:${b}` === runtime.digest)).toHaveLength(1);
    expect(blobs).toHaveLength(1 + 2 * 3);
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", `oci:${dir}:two`], { encoding: "utf8" }));
    expect(inspected.Digest).toBe(two.digest);
    expect(inspected.Layers).toEqual([runtime.digest, two.layers[1]?.digest]);
    const bundle = join(scratchDir(), "bundle");
    execFileSync("umoci", ["unpack", "--image", `${dir}:one`, bundle], { stdio: "ignore" });
    expect(readFileSync(join(bundle, "rootfs", "opt", "app.js"), "utf8")).toBe("one");
    const read = await readOciLayoutImages(nodeLayoutFileSystem, dir);
    expect(read.map((r) => [r.name, r.digest])).toEqual([
      ["one", one.digest],
      ["two", two.digest],
    ]);
    expect(read[0]?.blobs.map((b) => b.digest)).toEqual(one.blobs.map((b) => b.digest));
    // The policy generator's layout source reads the same layout by ref name.
    const source = createOciLayoutSource({ dir, fs: nodeFileSystem, hashThreads: 0 });
    try {
      const resolved = await source.resolveManifest(`example.com/contrast/one:v1@${one.digest}`);
      expect(resolved.digest).toBe(one.digest);
      expect(resolved.manifest.layers.map((l) => l.digest)).toEqual([runtime.digest, one.layers[1]?.digest]);
    } finally {
      await source.close();
    }
  });

  it("refuses two images of the same name", async () => {
    const dir = scratchDir();
    let code: string | undefined;
    try {
      await writeOciLayout(nodeLayoutFileSystem, dir, [
        { name: "a", image: image("1") },
        { name: "a", image: image("2") },
      ]);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe("IMAGE_SPEC_INVALID");
  });

  it("refuses a layout whose blob does not match its digest", async () => {
    const dir = scratchDir();
    const one = image("one");
    await writeOciLayout(nodeLayoutFileSystem, dir, [{ name: "one", image: one }]);
    const [, hex] = one.digest.split(":");
    execFileSync("sh", ["-c", `printf x >> ${join(dir, "blobs", "sha256", hex as string)}`]);
    let code: string | undefined;
    try {
      await readOciLayoutImages(nodeLayoutFileSystem, dir);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe("DIGEST_MISMATCH");
  });
});

describe("readOciLayoutImages on arbitrary index.json", () => {
  it("returns images or throws OCI_LAYOUT_INVALID / DIGEST_MISMATCH, never anything else (fuzz)", async () => {
    const blob = new TextEncoder().encode('{"schemaVersion":2,"config":{},"layers":[]}');
    const blobDigest = sha(blob);
    const descriptor = fc.record(
      {
        mediaType: fc.oneof(fc.constant("application/vnd.oci.image.manifest.v1+json"), fc.string()),
        digest: fc.oneof(fc.constant(blobDigest), fc.string(), fc.constant(`sha256:${"0".repeat(64)}`)),
        size: fc.oneof(fc.constant(blob.length), fc.integer(), fc.double()),
        annotations: fc.oneof(
          fc.constant({ "org.opencontainers.image.ref.name": "x" }),
          fc.dictionary(fc.string(), fc.jsonValue()),
        ),
      },
      { requiredKeys: [] },
    );
    const index = fc.oneof(
      fc.jsonValue(),
      fc.record({ manifests: fc.array(fc.oneof(descriptor, fc.jsonValue()), { maxLength: 4 }) }),
    );
    await fc.assert(
      fc.asyncProperty(index, fc.boolean(), async (doc, withLayoutFile) => {
        const files = new Map<string, Uint8Array>([
          ["/l/index.json", new TextEncoder().encode(JSON.stringify(doc) ?? "")],
          [`/l/blobs/sha256/${blobDigest.slice(7)}`, blob],
        ]);
        if (withLayoutFile) files.set("/l/oci-layout", new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}'));
        const fs = {
          mkdir: async () => {},
          writeFile: async () => {},
          readFile: async (p: string) => files.get(p),
        };
        try {
          const images = await readOciLayoutImages(fs, "/l");
          for (const img of images) expect(img.digest).toBe(blobDigest);
        } catch (e) {
          expect(["OCI_LAYOUT_INVALID", "DIGEST_MISMATCH"]).toContain((e as { code?: string }).code);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
