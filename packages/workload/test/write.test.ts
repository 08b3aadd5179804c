import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { utf8 } from "@contrast/core";
import { expectCodeAsync, scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { type CredentialFile, type CredentialFileSystem, nodeCredentialFs, writeCredentials } from "../src/index.js";

const files: CredentialFile[] = [
  { path: "tls-config/mesh-ca.pem", contents: utf8("ca\n"), mode: 0o444 },
  { path: "tls-config/key.pem", contents: utf8("key\n"), mode: 0o400 },
  { path: "secrets/workload-secret-seed", contents: utf8("ab".repeat(64)), mode: 0o400 },
];
const mode = (p: string) => statSync(p).mode & 0o777;
const all = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();

describe("writeCredentials", () => {
  it("writes each file with its mode and the directories 0755, whatever the umask; the marker last", async () => {
    const root = scratchDir();
    const old = process.umask(0o077);
    let written: string[];
    try {
      written = await writeCredentials(nodeCredentialFs, root, files, { marker: "done" });
    } finally {
      process.umask(old);
    }
    expect(written).toEqual([...files.map((f) => join(root, f.path)), join(root, "done")]);
    expect(mode(join(root, "tls-config"))).toBe(0o755);
    expect(mode(join(root, "secrets"))).toBe(0o755);
    expect(mode(join(root, "tls-config/mesh-ca.pem"))).toBe(0o444);
    expect(mode(join(root, "tls-config/key.pem"))).toBe(0o400);
    expect(readFileSync(join(root, "secrets/workload-secret-seed"), "utf8")).toBe("ab".repeat(64));
    expect(readFileSync(join(root, "done")).length).toBe(0);
    expect(all(root)).toEqual(["done", "secrets/workload-secret-seed", "tls-config/key.pem", "tls-config/mesh-ca.pem"]);
  });

  it("replaces files of an earlier run, read-only ones included (a restarted init container)", async () => {
    const root = scratchDir();
    mkdirSync(join(root, "tls-config"), { mode: 0o700 });
    writeFileSync(join(root, "tls-config/key.pem"), "old key");
    chmodSync(join(root, "tls-config/key.pem"), 0o400);
    await writeCredentials(nodeCredentialFs, root, files);
    expect(readFileSync(join(root, "tls-config/key.pem"), "utf8")).toBe("key\n");
    expect(mode(join(root, "tls-config"))).toBe(0o755);
    expect(existsSync(join(root, "done"))).toBe(false);
  });

  it("an absolute marker path is used as it is", async () => {
    const root = scratchDir();
    const elsewhere = scratchDir();
    const written = await writeCredentials(nodeCredentialFs, root, files.slice(0, 1), {
      marker: join(elsewhere, "done"),
    });
    expect(written.at(-1)).toBe(join(elsewhere, "done"));
    expect(existsSync(join(elsewhere, "done"))).toBe(true);
  });

  it("a directory that cannot be made: INITIALIZER_WRITE_FAILED, no file written", async () => {
    const root = scratchDir();
    // secrets/ exists as a file.
    writeFileSync(join(root, "secrets"), "in the way");
    await expectCodeAsync(
      () => writeCredentials(nodeCredentialFs, root, files, { marker: "done" }),
      "INITIALIZER_WRITE_FAILED",
      "io",
    );
    expect(all(root)).toEqual(["secrets"]);
  });

  it("(recording double) a failure while staging discards what was staged and commits nothing", async () => {
    const root = scratchDir();
    const log: string[] = [];
    let stages = 0;
    const fs: CredentialFileSystem = {
      mkdir: async () => {},
      stage: async (p) => {
        if (++stages === 3) throw new Error("ENOSPC");
        log.push(`stage ${p.slice(root.length)}`);
        return {
          commit: async () => void log.push(`commit ${p.slice(root.length)}`),
          discard: async () => void log.push(`discard ${p.slice(root.length)}`),
        };
      },
    };
    await expectCodeAsync(() => writeCredentials(fs, root, files, { marker: "done" }), "INITIALIZER_WRITE_FAILED");
    expect(log).toEqual([
      "stage /tls-config/mesh-ca.pem",
      "stage /tls-config/key.pem",
      "discard /tls-config/mesh-ca.pem",
      "discard /tls-config/key.pem",
    ]);
  });

  it("(recording double) a failure of a rename discards the staged files; nothing after it is committed, the marker never", async () => {
    const root = scratchDir();
    const log: string[] = [];
    let renames = 0;
    const fs: CredentialFileSystem = {
      mkdir: async (p) => void log.push(`mkdir ${p.slice(root.length)}`),
      stage: async (p) => {
        log.push(`stage ${p.slice(root.length)}`);
        return {
          commit: async () => {
            if (++renames === 2) throw new Error("EIO");
            log.push(`commit ${p.slice(root.length)}`);
          },
          discard: async () => void log.push(`discard ${p.slice(root.length)}`),
        };
      },
    };
    await expectCodeAsync(() => writeCredentials(fs, root, files, { marker: "done" }), "INITIALIZER_WRITE_FAILED");
    expect(log).toEqual([
      "mkdir /tls-config",
      "mkdir /secrets",
      "stage /tls-config/mesh-ca.pem",
      "stage /tls-config/key.pem",
      "stage /secrets/workload-secret-seed",
      "commit /tls-config/mesh-ca.pem",
      "discard /tls-config/mesh-ca.pem",
      "discard /tls-config/key.pem",
      "discard /secrets/workload-secret-seed",
    ]);
  });
});
