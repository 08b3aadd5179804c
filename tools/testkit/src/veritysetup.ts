import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The root hash Debian's veritysetup computes for these bytes with genpolicy's parameters. */
export function veritysetupRoot(data: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "contrast-veritysetup-"));
  try {
    const dataPath = join(dir, "data");
    const hashPath = join(dir, "hash");
    writeFileSync(dataPath, data);
    writeFileSync(hashPath, "");
    const out = execFileSync(
      "veritysetup",
      [
        "format",
        "--no-superblock",
        "--hash=sha256",
        "--data-block-size=4096",
        "--hash-block-size=4096",
        `--salt=${"0".repeat(64)}`,
        dataPath,
        hashPath,
      ],
      { encoding: "utf8" },
    );
    const m = /Root hash:\s*([0-9a-f]{64})/.exec(out);
    if (m?.[1] === undefined) throw new Error(`no root hash in veritysetup output:\n${out}`);
    return m[1];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
