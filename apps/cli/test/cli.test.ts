import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/commands.js";
import { cli, MANIFESTS, tempDir } from "./helpers.js";

const snp = join(MANIFESTS, "v1.5-metal-qemu-snp.json");
const broken = join(MANIFESTS, "broken.json");
const unfilled = join(MANIFESTS, "v1.5-bare-metal-unfilled.json");

describe("contrast (in-process)", () => {
  it("--help lists the global options and every command", async () => {
    const r = await cli(["--help"]);
    expect(r.status).toBe(0);
    for (const opt of ["--version", "--log-level", "--workspace-dir", "--output"]) expect(r.stdout).toContain(opt);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    expect((await cli([])).stdout).toContain("Usage: contrast");
  });

  it("--version names the version, the compatibility target and every platform", async () => {
    const r = await cli(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^contrast \S+ \(TypeScript implementation, compatible with Contrast v1\.5\)/);
    expect(r.stdout).toContain("metal-qemu-snp-gpu");
    expect(r.stdout).toMatch(/sim\s+simulated TEE, INSECURE/);
    const json = JSON.parse((await cli(["--version", "-o", "json"])).stdout);
    expect(json.platforms).toHaveLength(9);
    expect(json.platforms.filter((p: { simulated: boolean }) => p.simulated)).toEqual([
      { id: "sim", name: "Sim-INSECURE", tee: "sim", simulated: true },
    ]);
  });

  it("validate accepts a v1.5 manifest: ✔ on a terminal, plain when piped", async () => {
    const tty = await cli(["manifest", "validate", snp], { tty: true });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(
      /^✔ .*v1\.5-metal-qemu-snp\.json is valid \(0 errors, 0 warnings, 0 expected-missing; sha256 [0-9a-f]{64}\)\n$/,
    );
    const piped = await cli(["manifest", "validate", snp]);
    expect(piped.stdout).not.toContain("✔");
    expect(piped.stdout).toMatch(/is valid/);
    expect(piped.stdout).not.toMatch(/\x1b\[/);
  });

  it("uses colour only on a terminal without NO_COLOR", async () => {
    const colour = await cli(["manifest", "validate", broken], { tty: true, env: {} });
    expect(colour.stdout).toMatch(/\x1b\[31m/);
    const plain = await cli(["manifest", "validate", broken], { tty: true, env: { NO_COLOR: "1" } });
    expect(plain.stdout).not.toMatch(/\x1b\[/);
  });

  it("validate rejects a broken manifest, listing every problem with code and hint", async () => {
    const r = await cli(["manifest", "validate", broken]);
    // An invalid manifest is a negative verdict.
    expect(r.status).toBe(2);
    const lines = r.stdout.split("\n");
    const errors = lines.filter((l) => l.startsWith("error MANIFEST_"));
    expect(errors.length).toBeGreaterThanOrEqual(20);
    expect(lines.filter((l) => l.startsWith("  hint: ")).length).toBe(errors.length);
    expect(r.stdout).toContain('error MANIFEST_ROLE_INVALID Policies["not-a-hash"].Role: invalid role "admin"');
    expect(r.stdout).toMatch(/is invalid \(\d+ errors, 0 warnings, 0 expected-missing\)\n$/);
  });

  it("validate passes with a notice when only expected-missing values remain, unless --strict", async () => {
    const r = await cli(["manifest", "validate", unfilled]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("missing MANIFEST_VALUE_EXPECTED_MISSING ReferenceValues.tdx[0].MrSeam");
    expect(r.stderr).toContain("Warning: 5 reference values must be filled in");
    expect((await cli(["manifest", "validate", "--strict", unfilled])).status).toBe(2);
  });

  it("--output json prints exactly one JSON document", async () => {
    const r = await cli(["-o", "json", "manifest", "validate", broken]);
    expect(r.status).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.summary.errors).toBe(doc.issues.filter((i: { severity: string }) => i.severity === "error").length);
    expect(doc.issues[0]).toEqual({
      code: "MANIFEST_UNKNOWN_FIELD",
      severity: "error",
      path: "policies",
      message: 'unknown field "policies"',
      hint: 'Did you mean "Policies"? Field names are case-sensitive.',
    });
    const ok = JSON.parse((await cli(["--output=json", "manifest", "validate", snp])).stdout);
    expect(ok).toMatchObject({ ok: true, canonical: true, summary: { errors: 0 } });
  });

  it("finds manifest.json in --workspace-dir, and explicit paths relative to the working directory", async () => {
    const ws = tempDir();
    copyFileSync(snp, join(ws, "manifest.json"));
    expect((await cli(["--workspace-dir", ws, "manifest", "validate"])).status).toBe(0);
    expect((await cli(["manifest", "validate"], { cwd: ws })).status).toBe(0);
    expect((await cli(["manifest", "validate", "manifest.json"], { cwd: ws })).status).toBe(0);
    const missing = await cli(["manifest", "validate"], { cwd: tempDir() });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/Error: .*manifest\.json: no such file or directory \[FILE_NOT_FOUND\]/);
    expect(missing.stderr).toContain("Hint: ");
  });

  it("reports usage errors and bad global flags with codes, never a stack trace", async () => {
    const unknown = await cli(["--bogus"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("[CLI_USAGE]");
    const level = await cli(["--log-level", "loud", "manifest", "validate", snp]);
    expect(level.status).toBe(1);
    expect(level.stderr).toContain("[LOG_LEVEL_INVALID]");
    const sub = await cli(["manifest", "validate", "--nope", snp]);
    expect(sub.status).toBe(1);
    expect(sub.stderr).toContain("unknown option '--nope' [CLI_USAGE]");
    const help = await cli(["manifest"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^ {2}validate /m);
    const format = await cli(["-o", "yaml", "manifest", "validate", snp]);
    expect(format.stderr).toContain("[CLI_USAGE]");
    const json = await cli(["-o", "json", "manifest", "validate", "/nonexistent.json"]);
    expect(JSON.parse(json.stdout).error.code).toBe("FILE_NOT_FOUND");
    for (const r of [unknown, level, sub, format]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses oversized files and devices without reading them whole", async () => {
    for (const file of ["/dev/zero", "/dev/urandom"]) {
      const r = await cli(["manifest", "validate", file]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("[FILE_TOO_LARGE]");
    }
    const dir = await cli(["manifest", "validate", MANIFESTS]);
    expect(dir.stderr).toContain("[FILE_IS_DIRECTORY]");
  });

  it("logs at the requested level on stderr", async () => {
    const r = await cli(["--log-level", "debug", "manifest", "validate", snp]);
    expect(r.stderr).toMatch(/^DEBUG reading manifest path=".*v1\.5-metal-qemu-snp\.json"$/m);
    expect((await cli(["manifest", "validate", snp])).stderr).toBe("");
  });
});
