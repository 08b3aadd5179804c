import { randomBytes } from "node:crypto";
import { veritysetupRoot } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { hashDataBlocks, VerityHasher, verityLevelCount, verityRootHash } from "../src/verity.js";
import { WorkerBlockHasher } from "../src/verity-workers.js";

describe("dm-verity root hash (genpolicy parameters)", () => {
  const sizes = [1, 2, 3, 127, 128, 129, 255, 300, 128 * 128 + 1].map((blocks) => blocks * 4096);
  for (const size of sizes) {
    it(`matches veritysetup on ${size / 4096} block(s) of random data`, async () => {
      const data = randomBytes(size);
      expect(await verityRootHash(data)).toBe(veritysetupRoot(data));
    });
  }

  it("ignores a trailing partial block, like veritysetup, where genpolicy's level count agrees", async () => {
    for (const size of [2 * 4096 + 1, 5 * 4096 + 4095, 200 * 4096 + 17]) {
      const data = randomBytes(size);
      expect(verityLevelCount(size)).toBe(verityLevelCount(Math.floor(size / 4096) * 4096));
      expect(await verityRootHash(data)).toBe(veritysetupRoot(data));
    }
  });

  it("builds genpolicy's extra level when a partial block follows exactly 128^k blocks", async () => {
    // genpolicy sizes its tree from the byte count: 128 blocks + 1 byte needs two levels for it,
    // one for cryptsetup. Its root is then the hash of a hash block holding the one-level root.
    const data = randomBytes(128 * 4096 + 1);
    const oneLevel = veritysetupRoot(data.subarray(0, 128 * 4096));
    const block = Buffer.alloc(4096 + 32);
    Buffer.from(oneLevel, "hex").copy(block, 32);
    const { createHash } = await import("node:crypto");
    expect(await verityRootHash(data)).toBe(createHash("sha256").update(block).digest("hex"));
  });

  it("refuses less than one block", async () => {
    await expect(verityRootHash(new Uint8Array(4095))).rejects.toMatchObject({ code: "LAYER_TOO_SMALL" });
  });

  it("gives the same root for any chunking and with worker threads", async () => {
    const data = randomBytes(300 * 4096 + 512);
    const expected = await verityRootHash(data);
    const pool = new WorkerBlockHasher(2);
    try {
      const v = new VerityHasher(pool);
      let off = 0;
      let step = 1;
      while (off < data.length) {
        const n = Math.min(step, data.length - off);
        await v.update(data.subarray(off, off + n));
        off += n;
        step = (step * 7 + 13) % 300_001;
      }
      expect(Buffer.from(await v.digest()).toString("hex")).toBe(expected);
    } finally {
      await pool.close();
    }
  });

  it("hashes a block as SHA-256 over the zero salt followed by the block", async () => {
    const { createHash } = await import("node:crypto");
    const block = randomBytes(4096);
    expect(Buffer.from(hashDataBlocks(block)).toString("hex")).toBe(
      createHash("sha256").update(Buffer.alloc(32)).update(block).digest("hex"),
    );
  });
});
