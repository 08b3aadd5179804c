import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE, MANIFESTS, REPO } from "./helpers.js";

// These tests run the built artefact, as users and release pipelines do. The root test command
// builds it first (`pnpm test` runs `turbo run build`).
describe("the bundled CLI", () => {
  it("is self-contained (no bare imports) with a shebang", () => {
    expect(existsSync(BUNDLE)).toBe(true);
    const text = readFileSync(BUNDLE, "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(text).not.toMatch(/from\s+["']@contrast\//);
    expect(text).not.toMatch(/from\s+["']commander["']/);
  });

  it("runs with no node_modules next to it", () => {
    const r = spawnSync(process.execPath, [BUNDLE, "manifest", "validate", join(MANIFESTS, "v1.5-k3s-qemu-tdx.json")], {
      cwd: "/",
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("is valid");
  });

  it("keeps the entry small and evaluates command modules lazily", () => {
    // --version parses only the entry; commander and the commands are in the program file.
    const entry = readFileSync(BUNDLE, "utf8");
    expect(entry.length).toBeLessThan(64 * 1024);
    expect(entry).toContain('require("./contrast-program.cjs")');
    expect(entry).not.toMatch(/commander/i);
    // esbuild wraps dynamically imported modules in lazy initialisers; a static import would not be.
    const program = readFileSync(join(dirname(BUNDLE), "contrast-program.cjs"), "utf8");
    expect(program).toMatch(/var init_manifest_validate = __esm\(/);
    expect(program).toMatch(/var init_policy_generate = __esm\(/);
  });

  it("exits 2 (a negative verdict) with coded findings for a broken manifest", () => {
    const r = spawnSync(process.execPath, [BUNDLE, "manifest", "validate", join(MANIFESTS, "broken.json")], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("MANIFEST_HEX_INVALID");
  });

  it("closes quietly when its output pipe is closed early", () => {
    const out = execFileSync(
      "bash",
      [
        "-c",
        `node ${BUNDLE} manifest validate ${join(MANIFESTS, "broken.json")} | head -1; echo "status=\${PIPESTATUS[0]}"`,
      ],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    expect(out).toMatch(/^error MANIFEST_/);
    expect(out).toMatch(/status=2$/m);
  });

  it("is the stable entry point `pnpm contrast` at the repository root", () => {
    // Under `pnpm test` (also when pnpm itself runs through npx) npm_execpath names pnpm's script.
    const execpath = process.env.npm_execpath;
    const [cmd, ...pre] = execpath?.includes("pnpm") ? [process.execPath, execpath] : ["pnpm"];
    const r = spawnSync(cmd as string, [...pre, "--silent", "contrast", "--help"], { cwd: REPO, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: contrast");
    expect(r.stdout).toMatch(/^ {2}manifest /m);
  });
});
