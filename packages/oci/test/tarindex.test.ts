import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildTar, type FileSpec, fuzzRuns, veritysetupRoot } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { processLayerBlob, processLayerTar, tarWithIndex } from "../src/layer.js";
import { TarParser } from "../src/tar.js";
import { readTarfs } from "./helpers/tarfs-reader.js";

describe("tarfs index (tardev snapshotter format)", () => {
  it("matches hand-computed bytes for a one-file archive", async () => {
    const tar = await buildTar([{ name: "a", content: "hi", mode: 0o644, uid: 7, gid: 9 }]);
    expect(tar.length).toBe(2048);
    const all = Buffer.from(tarWithIndex(tar));
    // inodes at 2048 (2 × 32), root's dirent table at 2112 (1 × 32), names at 2144 ("a");
    // the end offset counts the names twice (2146), rounds up to 4096, plus one 4096 block.
    expect(all.length).toBe(8192);
    const expected = Buffer.alloc(8192 - 2048);
    const root = expected.subarray(0, 32);
    root.writeUInt16LE(0o40555, 0);
    root.writeBigUInt64LE(32n, 16);
    root.writeBigUInt64LE(2112n, 24);
    const a = expected.subarray(32, 64);
    a.writeUInt16LE(0o100644, 0);
    a.writeUInt32LE(7, 4);
    a.writeUInt32LE(9, 8);
    a.writeUInt32LE(1_700_000_000, 12);
    a.writeBigUInt64LE(2n, 16);
    a.writeBigUInt64LE(512n, 24);
    const dirent = expected.subarray(64, 96);
    dirent.writeBigUInt64LE(2n, 0);
    dirent.writeBigUInt64LE(2144n, 8);
    dirent.writeBigUInt64LE(1n, 16);
    dirent.writeUInt8(8, 24);
    expected.write("a", 96, "latin1");
    expected.writeBigUInt64LE(2048n, 7680 - 2048);
    expected.writeBigUInt64LE(2n, 7688 - 2048);
    expect(all.subarray(0, 2048).equals(tar)).toBe(true);
    expect(all.subarray(2048).toString("hex")).toBe(expected.toString("hex"));
  });

  const files: FileSpec[] = [
    { name: "./", type: "directory", mode: 0o755 },
    { name: "./etc/", type: "directory" },
    { name: "./etc/passwd", content: "x" },
    { name: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n", uid: 0 },
    { name: "usr/", type: "directory" },
    { name: "usr/bin/", type: "directory" },
    { name: "dev/", type: "directory" },
    { name: "var/", type: "directory" },
    { name: "var/run/", type: "directory" },
    { name: "deep/", type: "directory" },
    { name: `deep/${"n".repeat(150)}/`, type: "directory" },
    { name: "old/", type: "directory" },
    { name: "implicit/file", content: "parent never declared" },
    { name: "usr/bin/tool", content: "tool binary", mode: 0o4755, uid: 1000, gid: 1001 },
    { name: "usr/bin/alias", type: "link", linkname: "usr/bin/tool" },
    { name: "usr/bin/ln", type: "symlink", linkname: "tool" },
    { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "var/run/fifo", type: "fifo" },
    { name: `deep/${"n".repeat(150)}/${"m".repeat(120)}.txt`, content: "long path via PAX" },
    { name: "old/.wh.gone", content: "" },
    { name: "opaque/", type: "directory" },
    { name: "opaque/.wh..wh..opq", content: "" },
    { name: "../escape", content: "skipped" },
  ];

  it("indexes files, links, devices, whiteouts, opaque directories and long names", async () => {
    const tar = await buildTar(files);
    const fs = readTarfs(tarWithIndex(tar));
    expect(fs.size % 4096).toBe(0);
    expect(fs.read("etc/passwd")).toBe("root:x:0:0::/root:/bin/sh\n");
    const tool = fs.lookup("usr/bin/tool");
    expect(tool).toMatchObject({ mode: 0o100755, uid: 1000, gid: 1001, size: 11 });
    // Only the permission bits survive (setuid is dropped, as the crate masks with 0o777).
    expect(fs.lookup("usr/bin/alias")?.ino).toBe(tool?.ino);
    expect(fs.lookup("usr/bin/ln")).toMatchObject({ mode: 0o120644 });
    expect(fs.read("usr/bin/ln")).toBe("tool");
    expect(fs.lookup("dev/null")).toMatchObject({ mode: 0o20666, offset: (1n << 32n) | 3n });
    expect(fs.lookup("var/run/fifo")?.mode).toBe(0o10644);
    expect(fs.read(`deep/${"n".repeat(150)}/${"m".repeat(120)}.txt`)).toBe("long path via PAX");
    expect(fs.lookup("old/gone")).toMatchObject({ mode: 0o20000, offset: 0n, size: 0 });
    expect(fs.lookup("opaque")?.flags).toBe(1);
    expect(fs.lookup("escape")).toBeUndefined();
    expect([...fs.list(1).keys()]).toEqual(["deep", "dev", "etc", "implicit", "old", "opaque", "usr", "var"]);
    // A parent directory without its own member gets mode 0 and no entry table, as in the crate.
    expect(fs.lookup("implicit")).toMatchObject({ mode: 0, size: 0 });
    expect(fs.lookup("implicit/file")).toBeUndefined();
  });

  it("reads GNU tar archives (gnu, ustar and pax formats) and hashes them like veritysetup", async () => {
    const dir = mkdtempSync(join(tmpdir(), "contrast-gnutar-"));
    try {
      const root = join(dir, "root");
      mkdirSync(join(root, "etc"), { recursive: true });
      mkdirSync(join(root, "a".repeat(90), "b".repeat(50)), { recursive: true });
      writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
      writeFileSync(join(root, "etc/group"), "root:x:0:\n");
      writeFileSync(join(root, "a".repeat(90), "b".repeat(50), "c".repeat(60)), "deep");
      symlinkSync("passwd", join(root, "etc/link"));
      for (const format of ["gnu", "pax", "ustar"]) {
        const tar = execFileSync("tar", [
          `--format=${format}`,
          "--sort=name",
          "--mtime=@0",
          "--owner=0",
          "--group=0",
          "-C",
          root,
          "-cf",
          "-",
          ".",
        ]);
        const fs = readTarfs(tarWithIndex(tar));
        expect(fs.read("etc/passwd")).toBe("root:x:0:0::/root:/bin/sh\n");
        expect(fs.read(`${"a".repeat(90)}/${"b".repeat(50)}/${"c".repeat(60)}`)).toBe("deep");
        const digests = await processLayerBlob([gzipSync(tar)], {});
        expect(digests.verityHash).toBe(veritysetupRoot(tarWithIndex(tar)));
        // genpolicy matches the header path "etc/passwd" exactly; GNU tar writes "./etc/passwd".
        expect(digests.passwd).toBeUndefined();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("extracts /etc/passwd and /etc/group with genpolicy's rules", async () => {
    const tar = await buildTar([
      { name: "etc/.wh.passwd", content: "" },
      { name: "etc/passwd", content: "a:x:1:1::/:/bin/sh\n" },
      { name: "etc/group", content: "g:x:1:\n" },
      { name: "etc/passwd", content: "ignored after both were seen\n" },
    ]);
    const d = await processLayerTar([tar]);
    // The whiteout marker and the file that follows are concatenated, as read_to_string appends.
    expect(d.passwd).toBe("WHITEOUTa:x:1:1::/:/bin/sh\n");
    expect(d.group).toBe("g:x:1:\n");
    expect(d.diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const bad = await buildTar([{ name: "etc/passwd", content: Buffer.from([0xff, 0xfe]) }]);
    await expect(processLayerTar([bad])).rejects.toMatchObject({ code: "LAYER_ETC_FILE_INVALID" });
  });

  it("rejects damaged archives and digests that do not match", async () => {
    const tar = await buildTar([{ name: "a", content: "hello" }]);
    const broken = Buffer.from(tar);
    broken[0] = 0x41; // the checksum no longer matches
    await expect(processLayerTar([broken])).rejects.toMatchObject({ code: "LAYER_TAR_INVALID" });
    await expect(processLayerTar([tar.subarray(0, 700)])).rejects.toMatchObject({ code: "LAYER_TAR_INVALID" });
    const gz = gzipSync(tar);
    await expect(processLayerBlob([gz], { expectedDigest: `sha256:${"1".repeat(64)}` })).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
      kind: "crypto",
    });
    await expect(processLayerBlob([gz], { expectedDiffId: `sha256:${"2".repeat(64)}` })).rejects.toMatchObject({
      code: "LAYER_DIFF_ID_MISMATCH",
    });
    await expect(
      processLayerBlob([gz], { mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" }),
    ).rejects.toMatchObject({ code: "LAYER_MEDIA_TYPE_UNSUPPORTED" });
  });

  it("parses the same members whatever the chunking (fuzz)", async () => {
    const tar = await buildTar(files);
    const whole: string[] = [];
    const p1 = new TarParser({
      onMember: (m) => {
        whole.push(`${m.headerOffset}:${Buffer.from(m.path)}`);
        return false;
      },
    });
    p1.write(tar);
    p1.end();
    const runs = fuzzRuns(20);
    for (let r = 0; r < Math.min(runs, 200); r++) {
      const seen: string[] = [];
      const p = new TarParser({
        onMember: (m) => {
          seen.push(`${m.headerOffset}:${Buffer.from(m.path)}`);
          return false;
        },
      });
      let off = 0;
      while (off < tar.length) {
        const n = 1 + Math.floor(Math.random() * 1500);
        p.write(tar.subarray(off, off + n));
        off += n;
      }
      p.end();
      expect(seen).toEqual(whole);
    }
  });
});
