import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { nodeFileSystem } from "../src/fs.js";
import { LayersCache } from "../src/layers-cache.js";

const dir = mkdtempSync(join(tmpdir(), "contrast-layers-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (c: string) => c.repeat(64);

describe("layers-cache.json", () => {
  it("writes genpolicy's schema: a pretty-printed array of diff_id, verity_hash, passwd, group", async () => {
    const path = join(dir, "schema.json");
    const cache = new LayersCache({ path, fs: nodeFileSystem });
    cache.put({ diffId: `sha256:${hex("a")}`, verityHash: hex("b"), passwd: "root:x:0:0::/:/bin/sh\n", group: null });
    await cache.persist();
    const text = readFileSync(path, "utf8");
    expect(JSON.parse(text)).toEqual([
      { diff_id: `sha256:${hex("a")}`, verity_hash: hex("b"), passwd: "root:x:0:0::/:/bin/sh\n", group: "WHITEOUT" },
    ]);
    expect(text).toContain('\n  {\n    "diff_id": ');
    const again = new LayersCache({ path, fs: nodeFileSystem });
    await again.load();
    expect(again.get(`sha256:${hex("a")}`)).toEqual({
      diffId: `sha256:${hex("a")}`,
      verityHash: hex("b"),
      passwd: "root:x:0:0::/:/bin/sh\n",
      group: null,
    });
  });

  it("reads files genpolicy wrote, keeps fields it does not know, and misses entries without a verity hash", async () => {
    const path = join(dir, "genpolicy.json");
    writeFileSync(
      path,
      JSON.stringify(
        [
          { diff_id: `sha256:${hex("1")}`, verity_hash: hex("2"), passwd: "", group: "", size: 42 },
          { diff_id: `sha256:${hex("3")}`, verity_hash: "", passwd: "", group: "" },
        ],
        null,
        2,
      ),
    );
    const cache = new LayersCache({ path, fs: nodeFileSystem });
    await cache.load();
    expect(cache.get(`sha256:${hex("1")}`)).toMatchObject({
      verityHash: hex("2"),
      passwd: undefined,
      group: undefined,
    });
    expect(cache.get(`sha256:${hex("3")}`)).toBeUndefined();
    cache.put({ diffId: `sha256:${hex("4")}`, verityHash: hex("5"), passwd: undefined, group: undefined });
    await cache.persist();
    const records = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>[];
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({ size: 42 });
  });

  it("rebuilds an unreadable or incompatible file with a warning", async () => {
    for (const content of ["{not json", '{"a":1}', '[{"diff_id":"x"}]']) {
      const path = join(dir, "broken.json");
      writeFileSync(path, content);
      const warnings: string[] = [];
      const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
      const cache = new LayersCache({ path, fs: nodeFileSystem, logger });
      await cache.load();
      expect(warnings).toHaveLength(1);
      cache.put({ diffId: `sha256:${hex("6")}`, verityHash: hex("7"), passwd: undefined, group: undefined });
      await cache.persist();
      expect(JSON.parse(readFileSync(path, "utf8"))).toHaveLength(1);
    }
  });

  it("breaks a stale lock and times out on a live one", async () => {
    const path = join(dir, "locked.json");
    writeFileSync(`${path}.lock`, "123\n");
    const sleeps: number[] = [];
    const live = new LayersCache({
      path,
      fs: nodeFileSystem,
      sleep: async (ms) => void sleeps.push(ms),
      lockTimeoutMs: 1000,
    });
    live.put({ diffId: `sha256:${hex("8")}`, verityHash: hex("9"), passwd: undefined, group: undefined });
    await expect(live.persist()).rejects.toMatchObject({ code: "LAYERS_CACHE_LOCKED" });
    expect(sleeps.length).toBeGreaterThan(3);
    const stale = new LayersCache({ path, fs: nodeFileSystem, staleLockMs: -1 });
    stale.put({ diffId: `sha256:${hex("8")}`, verityHash: hex("9"), passwd: undefined, group: undefined });
    await stale.persist();
    expect(JSON.parse(readFileSync(path, "utf8"))).toHaveLength(1);
  });

  it("loses no entries when two processes update the same file concurrently", async () => {
    const script = join(dir, "cache-writer.mjs");
    buildSync({
      entryPoints: [fileURLToPath(new URL("./fixtures/cache-writer.ts", import.meta.url))],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: script,
      conditions: ["@contrast/source"],
      logLevel: "error",
    });
    const path = join(dir, "concurrent.json");
    const count = 40;
    const run = (prefix: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [script, path, prefix, String(count)], {
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        child.stderr.on("data", (d: Buffer) => {
          err += d.toString();
        });
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer ${prefix} failed: ${err}`))));
      });
    await Promise.all([run("left"), run("right")]);
    const records = JSON.parse(readFileSync(path, "utf8")) as { diff_id: string }[];
    expect(new Set(records.map((r) => r.diff_id)).size).toBe(2 * count);
    expect(records).toHaveLength(2 * count);
  }, 60_000);
});

describe("layers-cache.json: tarfs flavours", () => {
  it("keeps Kata and Microsoft hashes of one layer apart, Kata's records first and unmarked", async () => {
    const path = join(dir, "flavours.json");
    const id = `sha256:${hex("c")}`;
    writeFileSync(
      path,
      JSON.stringify([
        // A flavour we do not know answers for neither.
        { diff_id: id, verity_hash: hex("9"), passwd: "", group: "", tarfs: "erofs" },
      ]),
    );
    const cache = new LayersCache({ path, fs: nodeFileSystem });
    await cache.load();
    expect(cache.get(id)).toBeUndefined();
    expect(cache.get(id, "microsoft")).toBeUndefined();
    cache.put({ diffId: id, tarfs: "microsoft", verityHash: hex("e"), passwd: undefined, group: undefined });
    expect(cache.get(id)).toBeUndefined();
    cache.put({ diffId: id, verityHash: hex("d"), passwd: undefined, group: undefined });
    await cache.persist();
    const records = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>[];
    expect(records).toEqual([
      { diff_id: id, verity_hash: hex("d"), passwd: "", group: "" },
      { diff_id: id, verity_hash: hex("9"), passwd: "", group: "", tarfs: "erofs" },
      { diff_id: id, verity_hash: hex("e"), passwd: "", group: "", tarfs: "microsoft" },
    ]);
    const again = new LayersCache({ path, fs: nodeFileSystem });
    await again.load();
    expect(again.get(id)?.verityHash).toBe(hex("d"));
    expect(again.get(id, "kata")?.verityHash).toBe(hex("d"));
    expect(again.get(id, "microsoft")).toMatchObject({ verityHash: hex("e"), tarfs: "microsoft" });
  });
});
